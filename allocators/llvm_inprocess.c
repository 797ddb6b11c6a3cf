/* llvm-inprocess: the real jitlink::InProcessMemoryManager from the LLVM
 * plugin (llvm/mm_jitlink.cpp; docs/backends/llvm-inprocess.md). Its model
 * is inprocess. */
#include "llvm_backend.h"

const struct jm_backend_ops jm_backend_llvm_inprocess = {
	.name = "llvm-inprocess",
	.description = "real LLVM InProcessMemoryManager (LLVM plugin): one mmap "
		       "per graph, mprotect per segment, munmap on free",
	.models = "runs llvm/lib/ExecutionEngine/JITLink/JITLinkMemoryManager.cpp "
		  "(InProcessMemoryManager) itself; model: inprocess",
	.caps = JM_CAP_FREES | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){JM_LLVM_BACKEND_OPTIONS, {0}},
	JM_LLVM_BACKEND_OPS,
};
