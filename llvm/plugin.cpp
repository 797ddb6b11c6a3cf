// The plugin's entry point: the one exported symbol (JM_LLVM_ENTRY), which
// hands jitmm the versioned table of llvm/jitmm_llvm.h. The managers and the
// linker front end fill their parts of the table from their own files.
#include "jitmm_llvm.h"

#include "llvm/Config/llvm-config.h"

#ifndef JITMM_LLVM_BUILD
#define JITMM_LLVM_BUILD "unknown"
#endif

extern "C" __attribute__((visibility("default"))) const jm_llvm_plugin *
jitmm_llvm_plugin(uint32_t abi_version)
{
	static const jm_llvm_plugin table = {
		JM_LLVM_ABI_VERSION,
		sizeof(jm_llvm_plugin),
		LLVM_VERSION_STRING,
		JITMM_LLVM_BUILD,
		nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
		nullptr, nullptr,
	};
	return abi_version == JM_LLVM_ABI_VERSION ? &table : nullptr;
}
