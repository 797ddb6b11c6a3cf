# The git sha is compiled into context.c and main.c (results context,
# --version, justify tables): rebuild them when HEAD changes, so a table
# never names a commit other than the one that produced it. The stamp is
# made at parse time; the default goal stays `all` (this file is included
# before the Makefile's own rules).
SHA_STAMP := $(BUILD)/.git-sha-$(GIT_SHA)
$(shell mkdir -p $(BUILD) && { [ -e $(SHA_STAMP) ] || { rm -f $(BUILD)/.git-sha-*; touch $(SHA_STAMP); }; })
$(BUILD)/harness/context.o $(BUILD)/harness/main.o: $(SHA_STAMP)
.DEFAULT_GOAL := all
