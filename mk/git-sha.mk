# The git sha is compiled into context.c and main.c (results context,
# --version, justify tables): rebuild them when HEAD changes, so a table
# never names a commit other than the one that produced it.
SHA_STAMP := $(BUILD)/.git-sha-$(GIT_SHA)
$(SHA_STAMP):
	@mkdir -p $(@D)
	@rm -f $(BUILD)/.git-sha-*
	@touch $@
$(BUILD)/harness/context.o $(BUILD)/harness/main.o: $(SHA_STAMP)
