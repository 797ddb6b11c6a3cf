# The LLVM plugin (llvm/*.cpp): the project's only C++, built with one LLVM's
# own llvm-config and dlopen()ed by the measured child only (llvm/jitmm_llvm.h).
#   make                      builds build/llvm/jitmm-llvm.so when llvm-config-22
#                             (or LLVM_CONFIG) is found; jitmm runs without it
#   make llvm-plugin LLVM_CONFIG=/path/to/llvm/bin/llvm-config [LLVM_PLUGIN=out.so]
#                             builds a plugin against any LLVM tree (a release
#                             or a build directory, shared or static libraries)
LLVM_CONFIG_AUTO := $(firstword $(shell command -v llvm-config-22 2>/dev/null))
ifeq ($(origin LLVM_CONFIG),undefined)
LLVM_CONFIG := $(LLVM_CONFIG_AUTO)
LLVM_PLUGIN ?= $(BUILD)/llvm/jitmm-llvm.so
else
# a user's LLVM: its own output directory, named by the llvm-config path
LLVM_PLUGIN ?= $(BUILD)/llvm/$(shell printf '%s' '$(abspath $(LLVM_CONFIG))' | cksum | cut -d' ' -f1)/jitmm-llvm.so
endif
LLVM_SRC := $(wildcard llvm/*.cpp)
LLVM_HDR := $(wildcard llvm/*.h)

ifneq ($(LLVM_CONFIG),)
# LLVM's headers as system headers: their warnings are not ours to fix (GCC
# still reports -Wmaybe-uninitialized inside LLVM's unique_function once it
# is inlined into our code: off for g++)
LLVM_CXXFLAGS = $(patsubst -I%,-isystem %,$(filter-out -fno-exceptions,$(shell $(LLVM_CONFIG) --cxxflags))) \
	$(if $(filter NO,$(shell $(LLVM_CONFIG) --has-rtti)),-fno-rtti) \
	-fPIC -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -fvisibility=hidden \
	$(if $(filter g++% c++%,$(notdir $(CXX))),-Wno-maybe-uninitialized) \
	-DJITMM_LLVM_BUILD='"$(abspath $(shell command -v $(LLVM_CONFIG) 2>/dev/null || echo $(LLVM_CONFIG)))"'
# shared libLLVM when the tree has one, else its static libraries
LLVM_LIBS = -Wl,-rpath,$(shell $(LLVM_CONFIG) --libdir) $(shell $(LLVM_CONFIG) --ldflags) \
	$(if $(filter shared,$(shell $(LLVM_CONFIG) --shared-mode 2>/dev/null)),\
	  $(shell $(LLVM_CONFIG) --link-shared --libs),\
	  $(shell $(LLVM_CONFIG) --link-static --libs orcjit jitlink orctargetprocess runtimedyld x86codegen x86asmparser x86desc x86info) \
	  $(shell $(LLVM_CONFIG) --link-static --system-libs)) -lpthread

all: $(LLVM_PLUGIN)
endif

.PHONY: llvm-plugin
llvm-plugin:
	@test -n "$(LLVM_CONFIG)" || { echo "llvm-plugin: no llvm-config-22; give LLVM_CONFIG=/path/to/bin/llvm-config" >&2; exit 2; }
	@$(MAKE) --no-print-directory $(LLVM_PLUGIN) LLVM_CONFIG='$(LLVM_CONFIG)' LLVM_PLUGIN='$(LLVM_PLUGIN)'
	@echo "llvm-plugin: $(LLVM_PLUGIN) (LLVM $$($(LLVM_CONFIG) --version))"

$(LLVM_PLUGIN): $(LLVM_SRC) $(LLVM_HDR) mk/llvm.mk | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CXX) $(LLVM_CXXFLAGS) -shared -o $@.tmp $(LLVM_SRC) $(LLVM_LIBS)
	@mv -f $@.tmp $@

# the tests load the plugin this tree builds (their binaries are in
# build/tests/, where the default path would not find it)
test: export JITMM_LLVM_PLUGIN ?= $(abspath $(LLVM_PLUGIN))
