# jitmm build. `make` builds ./jitmm; `make test` runs every test; `make run`
# runs the default comparison into out/; `make bench` prints the benchmark
# ratios. SAN=1 builds with AddressSanitizer + UBSan (into build-san/, binary
# jitmm-san); TSAN=1 with ThreadSanitizer (into build-tsan/, binary
# jitmm-tsan), and `make test TSAN=1` runs the thread tests only.
# Missing Debian packages are installed by scripts/install-deps.

CC      ?= cc
SAN     ?= 0
TSAN    ?= 0
BUILD   := build
CFLAGS  := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow \
           -Wno-missing-field-initializers -fno-strict-aliasing
LDLIBS  := -lpthread -lm -ldl
ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(TSAN),1)
ifeq ($(SAN),1)
$(error SAN=1 and TSAN=1 cannot be combined)
endif
BUILD   := build-tsan
# -Wno-tsan: the eBPF probe reads kernel-written counters behind a fence,
# which TSan does not model (it instruments no kernel writes either)
CFLAGS  += -O1 -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
LDFLAGS += -fsanitize=thread
endif
# the binary of this build: jitmm, jitmm-san or jitmm-tsan
JITMM_BIN := jitmm$(if $(filter 1,$(SAN)),-san)$(if $(filter 1,$(TSAN)),-tsan)

# The git sha lives in a generated header, rewritten only when it changes,
# so the binary always reports the commit it was built from.
GIT_SHA := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
CFLAGS  += -I$(BUILD)/gen

DEPS_OK := $(BUILD)/.deps-ok
PKG_CFLAGS = $(shell pkg-config --cflags json-c 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs json-c 2>/dev/null)

SRC_DIRS := common allocators linker workloads probes reports run harness
LIB_SRC  := $(filter-out harness/main.c %.bpf.c,$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# script tests (TAP), run beside the binaries
TEST_SCRIPTS := $(wildcard tests/test_*.sh)

# Optional parts (eBPF probe, ...) add sources, flags and rules here; a rule
# in them must not become the default goal.
.DEFAULT_GOAL := all
-include $(wildcard mk/*.mk)

.PHONY: all run test bench clean deps install uninstall FORCE
all: $(JITMM_BIN)

$(DEPS_OK): scripts/install-deps
	@mkdir -p $(@D)
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps
	@touch $@

deps: $(DEPS_OK)

$(BUILD)/gen/git_sha.h: FORCE
	@mkdir -p $(@D)
	@echo '#define JITMM_GIT_SHA "$(GIT_SHA)"' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(BUILD)/run/context.o $(BUILD)/harness/main.o: $(BUILD)/gen/git_sha.h
FORCE:

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libjitmm.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

jitmm jitmm-san jitmm-tsan: $(BUILD)/harness/main.o $(BUILD)/libjitmm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS) $(LDLIBS)

# -MMD: a test is rebuilt when a header it includes changes (testutil.h,
# gp_check.h, design_util.h, the library's own headers)
$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libjitmm.a | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libjitmm.a \
		$(LDFLAGS) $(PKG_LIBS) $(EXTRA_LIBS) -lcmocka $(LDLIBS)

# the archives the shipped data were measured from, one copy for every build
# (SAN, TSAN); a failed download makes
# the tests that need them skip, with the reason)
build/reference/libz.a: scripts/fetch-reference-archives
	-@scripts/fetch-reference-archives $(@D)

# Under ThreadSanitizer: the tests that run backends from several threads
# (in-process stress and `jitmm run --threads`); the first report aborts the
# process (a child of jitmm-tsan too), so a race fails the test.
TSAN_TESTS   := $(BUILD)/tests/test_threads
TSAN_OPTIONS ?= halt_on_error=1 second_deadlock_stack=1

ifeq ($(TSAN),1)
test: all $(TSAN_TESTS)
	@JITMM=./$(JITMM_BIN) TSAN_OPTIONS="$(TSAN_OPTIONS)" tests/run-tests $(TSAN_TESTS)
else
test: all $(TEST_BIN) build/reference/libz.a
	@JITMM=./$(JITMM_BIN) tests/run-tests $(TEST_SCRIPTS) $(TEST_BIN)
endif

# every backend on llvm-500, page-pairs, churn and the sqlite3 trace, 3
# repetitions after a warm-up run each (run's defaults)
run: jitmm
	./jitmm run --out out

# make bench: the performance goals with verdicts, ~2 minutes; FULL=1 the
# long form. Figures also in build/bench.json.
bench: jitmm
	@FULL=$(FULL) scripts/bench ./jitmm

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the binary, the LLVM
# plugin (when built), the man page and bash/zsh completion.
PREFIX  ?= /usr/local
LIBDIR  := $(PREFIX)/lib/jitmm
# where an installed jitmm finds its plugin: a generated header, rewritten
# only when PREFIX changes, so `make install PREFIX=...` rebuilds what uses it
$(BUILD)/gen/libdir.h: FORCE
	@mkdir -p $(@D)
	@echo '#define JITMM_LIBDIR "$(LIBDIR)"' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(BUILD)/allocators/llvm_plugin.o: $(BUILD)/gen/libdir.h
install: all
	install -Dm755 jitmm $(DESTDIR)$(PREFIX)/bin/jitmm
	install -Dm644 docs/jitmm.1 $(DESTDIR)$(PREFIX)/share/man/man1/jitmm.1
	install -Dm644 scripts/completion/jitmm.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/jitmm
	install -Dm644 scripts/completion/_jitmm $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_jitmm
	if [ -f "$(LLVM_PLUGIN)" ]; then install -Dm755 $(LLVM_PLUGIN) $(DESTDIR)$(LIBDIR)/jitmm-llvm.so; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/jitmm $(DESTDIR)$(PREFIX)/share/man/man1/jitmm.1 \
	      $(DESTDIR)$(PREFIX)/share/bash-completion/completions/jitmm \
	      $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_jitmm $(DESTDIR)$(LIBDIR)/jitmm-llvm.so
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null

clean:
	rm -rf build build-san build-tsan jitmm jitmm-san jitmm-tsan out

# the results fuzz target's replay build checks scripts with gp_check.h
$(filter $(BUILD)/tests/fuzz-replay-%,$(TEST_BIN)): tests/gp_check.h

-include $(LIB_OBJ:.o=.d) $(BUILD)/harness/main.d $(TEST_BIN:=.d)
