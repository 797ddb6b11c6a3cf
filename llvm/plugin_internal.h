// What the plugin's C++ files share, and nothing of jitmm's C side but the
// ABI header. plugin.cpp builds the exported table from two halves:
//   managers (mm_*.cpp): the real memory managers, fill_managers();
//   linker   (link_*.cpp): the ORC/JITLink front end, fill_linker().
#ifndef JITMM_LLVM_PLUGIN_INTERNAL_H
#define JITMM_LLVM_PLUGIN_INTERNAL_H

#include "jitmm_llvm.h"

namespace llvm {
namespace jitlink {
class JITLinkMemoryManager;
}
} // namespace llvm

void jm_llvm_fill_managers(jm_llvm_plugin &table);
void jm_llvm_fill_linker(jm_llvm_plugin &table);

// The real JITLinkMemoryManager behind a manager made by mm_create, for the
// linker front end to link with it directly; nullptr when the manager has
// none (RuntimeDyld's SectionMemoryManager).
llvm::jitlink::JITLinkMemoryManager *jm_llvm_mm_jitlink(jm_llvm_mm *mm);

#endif
