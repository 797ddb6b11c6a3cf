/* llvm-section: RuntimeDyld's real SectionMemoryManager from the LLVM
 * plugin (llvm/mm_section.cpp; docs/backends/llvm-section.md). Its model
 * is section-mm. */
#include "llvm_backend.h"

const struct jm_backend_ops jm_backend_llvm_section = {
	.name = "llvm-section",
	.description = "real LLVM SectionMemoryManager (RuntimeDyld/MCJIT; LLVM "
		       "plugin): near-hint mmap per section group, frees nothing",
	.models = "runs llvm/lib/ExecutionEngine/SectionMemoryManager.cpp itself; "
		  "model: section-mm",
	.caps = 0,
	.options = (const struct jm_option_def[]){
		JM_LLVM_BACKEND_OPTIONS,
		{"reserve", JM_OPT_BOOL, "off", NULL,
		 "reserveAllocationSpace per graph (SectionMemoryManager(nullptr, "
		 "true), llvm#71968)", 0, 0},
		{0},
	},
	JM_LLVM_BACKEND_OPS,
};
