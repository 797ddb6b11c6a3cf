/* llvm-shm: the real orc::MapperJITLinkMemoryManager over SharedMemoryMapper
 * from the LLVM plugin, with a real executor process running LLVM's
 * ExecutorSharedMemoryMapperService (llvm/mm_shm.cpp;
 * docs/backends/llvm-shm.md). Its model is shm-mapper. */
#include "llvm_backend.h"

const struct jm_backend_ops jm_backend_llvm_shm = {
	.name = "llvm-shm",
	.description = "real LLVM MapperJITLinkMemoryManager + SharedMemoryMapper "
		       "(LLVM plugin) with an executor process",
	.models = "runs llvm/lib/ExecutionEngine/Orc/MemoryMapper.cpp (SharedMemoryMapper), "
		  "Orc/TargetProcess/ExecutorSharedMemoryMapperService.cpp itself; "
		  "model: shm-mapper",
	.caps = JM_CAP_FREES | JM_CAP_DUAL_MAPPED | JM_CAP_OUT_OF_PROCESS |
		JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		JM_LLVM_BACKEND_OPTIONS,
		{"granularity", JM_OPT_SIZE, "1G", NULL,
		 "reservation unit (llvm-jitlink's shared-memory slab: 1G)",
		 4096, 1ull << 40},
		{0},
	},
	JM_LLVM_BACKEND_OPS,
	.exec_pid = jm_llvm_backend_exec_pid,
	.read_exec = jm_llvm_backend_read_exec,
	.execute = jm_llvm_backend_execute,
};
