/* llvm-mapper: the real orc::MapperJITLinkMemoryManager over
 * InProcessMemoryMapper from the LLVM plugin (llvm/mm_jitlink.cpp;
 * docs/backends/llvm-mapper.md). Its model is single-pool. */
#include "llvm_backend.h"

const struct jm_backend_ops jm_backend_llvm_mapper = {
	.name = "llvm-mapper",
	.description = "real LLVM MapperJITLinkMemoryManager + InProcessMemoryMapper "
		       "(LLVM plugin): first fit over RW reservations",
	.models = "runs llvm/lib/ExecutionEngine/Orc/MapperJITLinkMemoryManager.cpp, "
		  "Orc/MemoryMapper.cpp itself; model: single-pool",
	.caps = JM_CAP_FREES | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		JM_LLVM_BACKEND_OPTIONS,
		{"granularity", JM_OPT_SIZE, "1G", NULL,
		 "reservation unit (llvm-jitlink 1G; Julia 16M; clang-repl 256M)",
		 4096, 1ull << 40},
		{0},
	},
	JM_LLVM_BACKEND_OPS,
};
