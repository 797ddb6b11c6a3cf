// The managers' half of the plugin (mm_*.cpp): one C++ class per kind of
// real LLVM memory manager behind the C ABI's opaque struct jm_llvm_mm.
#ifndef JITMM_LLVM_MM_INTERNAL_H
#define JITMM_LLVM_MM_INTERNAL_H

#include "plugin_internal.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llvm {
namespace jitlink {
class Block;
class LinkGraph;
} // namespace jitlink
namespace orc {
class SymbolStringPool;
}
} // namespace llvm

// A manager: every method returns an llvm::Error (the table's C functions
// turn it into the one-line message of the ABI).
struct jm_llvm_mm {
	virtual ~jm_llvm_mm();
	virtual llvm::Error allocate(jm_llvm_graph &g, void **alloc) = 0;
	// alloc: the handle allocate gave, replaced by the finalized one's
	virtual llvm::Error finalize(void *&alloc) = 0;
	virtual llvm::Error deallocate(void *alloc) = 0;
	virtual llvm::Error abandon(void *alloc) = 0;
	virtual void stats(jm_llvm_mm_stats &out) { (void)out; }
	virtual int32_t exec_pid() { return 0; }
	virtual llvm::Error read(uint64_t exec, void *buf, uint64_t len);
	virtual llvm::Error execute(uint64_t exec, int32_t &ret);
	// the real JITLinkMemoryManager, nullptr for RuntimeDyld's manager
	virtual llvm::jitlink::JITLinkMemoryManager *jitlink() { return nullptr; }
};

// "key=value,..." -> the value of key as a number, def when absent.
uint64_t jm_llvm_option(const char *options, const char *key, uint64_t def);

// The managers of each kind (nullptr and err set when it cannot be made).
std::unique_ptr<jm_llvm_mm> jm_llvm_mm_inprocess(const char *options,
						 std::string &err);
std::unique_ptr<jm_llvm_mm> jm_llvm_mm_mapper(const char *options,
					      std::string &err);
std::unique_ptr<jm_llvm_mm> jm_llvm_mm_shm(const char *options,
					   const jm_llvm_mm_host &host,
					   std::string &err);
std::unique_ptr<jm_llvm_mm> jm_llvm_mm_section(const char *options,
					       std::string &err);

// A real JITLinkMemoryManager behind the ABI: shm builds one of these over
// its SharedMemoryMapper.
std::unique_ptr<jm_llvm_mm>
jm_llvm_mm_over(std::unique_ptr<llvm::jitlink::JITLinkMemoryManager> MM,
		bool in_process);

// The LinkGraph of a request (mm_graph.cpp): one section per segment with
// its MemProt and lifetime, a content block of the requested size and
// alignment (in pieces of at most 1 MiB, all copied from one source of
// zeros, as JITLink copies an object's bytes), and the zero-fill after it
// as a zero-fill block.
std::unique_ptr<llvm::jitlink::LinkGraph>
jm_llvm_make_graph(const jm_llvm_graph &g,
		   std::shared_ptr<llvm::orc::SymbolStringPool> SSP,
		   llvm::Error &err);
// The first block of segment i of a graph made by jm_llvm_make_graph.
llvm::jitlink::Block *jm_llvm_graph_block(llvm::jitlink::LinkGraph &G,
					  uint32_t i);
// Read every page of the content source once (before a measurement, so
// that copying from it makes no page fault).
void jm_llvm_touch_source();

#endif
