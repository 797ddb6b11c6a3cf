// The plugin's entry point: the one exported symbol (JM_LLVM_ENTRY), which
// hands jitmm the versioned table of llvm/jitmm_llvm.h. The managers and the
// linker front end fill their halves of the table from their own files.
#include "plugin_internal.h"

#include "llvm/Config/llvm-config.h"

#ifndef JITMM_LLVM_BUILD
#define JITMM_LLVM_BUILD "unknown"
#endif

static jm_llvm_plugin make_table()
{
	jm_llvm_plugin t = {};
	t.abi_version = JM_LLVM_ABI_VERSION;
	t.size = sizeof(jm_llvm_plugin);
	t.llvm_version = LLVM_VERSION_STRING;
	t.llvm_build = JITMM_LLVM_BUILD;
	jm_llvm_fill_managers(t);
	jm_llvm_fill_linker(t);
	return t;
}

// JM_LLVM_VERSION_SYMBOL
extern "C" __attribute__((visibility("default"))) const char
	jitmm_llvm_plugin_llvm_version[] = LLVM_VERSION_STRING;

extern "C" __attribute__((visibility("default"))) const jm_llvm_plugin *
jitmm_llvm_plugin(uint32_t abi_version)
{
	static const jm_llvm_plugin table = make_table();
	return abi_version == JM_LLVM_ABI_VERSION ? &table : nullptr;
}
