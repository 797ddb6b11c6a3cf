/* The backend registry: adding a backend is one file and one line here. */
#include "backend.h"

#define BACKENDS(X)      \
	X(inprocess)     \
	X(single_pool)   \
	X(per_prot)      \
	X(julia_blocks)  \
	X(codemodel)     \
	X(slab_pool)     \
	X(shm_mapper)    \
	X(striped)       \
	X(colocate)      \
	X(section_mm)    \
	X(llvm_inprocess) \
	X(llvm_mapper)   \
	X(llvm_shm)      \
	X(llvm_section)  \
	X(null)

#define DECLARE(n) extern const struct jm_backend_ops jm_backend_##n;
BACKENDS(DECLARE)
#undef DECLARE

const struct jm_backend_ops *const jm_backends[] = {
#define ENTRY(n) &jm_backend_##n,
	BACKENDS(ENTRY)
#undef ENTRY
	NULL,
};
