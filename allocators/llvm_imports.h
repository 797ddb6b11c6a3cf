/* The LLVM plugin's memory syscalls, counted as the models' are: after
 * dlopen, the imports of mmap, munmap, mprotect, madvise, memfd_create and
 * ftruncate in the plugin and in every libLLVM* library it brought in are
 * bound to the os layer (os.h), by rewriting their GOT slots as a dynamic
 * linker would. LLVM's code runs unchanged; its calls land in the same
 * counters (and fault injection) as a model's. A fork (llvm-shm's
 * executor) inherits the binding and counts its own calls. */
#ifndef JITMM_LLVM_IMPORTS_H
#define JITMM_LLVM_IMPORTS_H

#include <stddef.h>

/* Bind the imports of the objects loaded for the plugin at plugin_path.
 * Returns the number of GOT slots bound, or -1 with a one-line reason
 * (none of LLVM's mmap or mprotect imports was found: its syscalls would
 * go uncounted). */
int jm_llvm_bind_imports(const char *plugin_path, char *err, size_t errlen);

#endif
