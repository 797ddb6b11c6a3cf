# Fuzz targets: every tests/fuzz/fuzz_NAME.c is one target.
#   make fuzz FUZZ_SECONDS=N   libFuzzer (clang -fsanitize=fuzzer,address,
#                              undefined) for N seconds per target, starting
#                              from tests/fuzz/corpus/NAME; crashes land in
#                              build-fuzz/artifacts/ and fail the make
#   make test                  replays each corpus through the target built
#                              without libFuzzer ($(BUILD)/tests/fuzz-replay-NAME)
# (the Makefile includes mk/*.mk before its own "all": keep "all" the default)
.DEFAULT_GOAL := all

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wshadow \
                -Wno-missing-field-initializers -fno-strict-aliasing \
                -fno-omit-frame-pointer $(FUZZ_SAN) -I$(BUILD)/gen
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz-replay-%)

TEST_BIN += $(FUZZ_REPLAY)

.PHONY: fuzz fuzz-build clean-fuzz
$(BUILD)/tests/fuzz-replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(BUILD)/libjitmm.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -DFUZZ_CORPUS=\"tests/fuzz/corpus/$*\" \
		-o $@ $< tests/fuzz/replay.c $(BUILD)/libjitmm.a $(LDFLAGS) $(PKG_LIBS) \
		$(EXTRA_LIBS) $(LDLIBS)

$(FUZZ_BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(EXTRA_CFLAGS) $(PKG_CFLAGS) \
		-MMD -MP -c $< -o $@

$(FUZZ_BUILD)/run/context.o: $(BUILD)/gen/git_sha.h
$(FUZZ_BUILD)/allocators/llvm_plugin.o: $(BUILD)/gen/libdir.h
$(FUZZ_BUILD)/probes/ebpf.o: $(BPF_SKEL)

$(FUZZ_BUILD)/libjitmm.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libjitmm.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(EXTRA_CFLAGS) $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_BUILD)/libjitmm.a $(PKG_LIBS) $(EXTRA_LIBS) $(LDLIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)

# Each target runs from a scratch copy of its corpus (new inputs stay out of
# the tree); -rss_limit_mb keeps a runaway input from eating the machine.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$t.log)"; \
		if ! $(FUZZ_BUILD)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
			$(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
			>$(FUZZ_BUILD)/$$t.log 2>&1; then \
			tail -n 60 $(FUZZ_BUILD)/$$t.log; \
			echo "fuzz: $$t found a crash: keep the input under tests/fuzz/corpus/$$t/"; \
			exit 1; \
		fi; \
		grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' \
			$(FUZZ_BUILD)/$$t.log || true; \
	done

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_LIB_OBJ:.o=.d)
