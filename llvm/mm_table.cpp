// The managers' half of the plugin table (see plugin_internal.h).
#include "plugin_internal.h"

void jm_llvm_fill_managers(jm_llvm_plugin &table)
{
	(void)table; // the real managers are not built in yet
}

llvm::jitlink::JITLinkMemoryManager *jm_llvm_mm_jitlink(jm_llvm_mm *mm)
{
	(void)mm;
	return nullptr;
}
