// What the linker front end's files (link_*.cpp) share: the memory manager
// adapter every link allocates through, the inputs as read, and the
// session's three steps behind the C ABI's link_open/link_run/link_close.
#ifndef JITMM_LLVM_LINK_INTERNAL_H
#define JITMM_LLVM_LINK_INTERNAL_H

#include "plugin_internal.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ExecutionEngine/JITLink/JITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/Support/MemoryBuffer.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace jm_link {

// The JITLinkMemoryManager of every link (JITLinkMemoryManager.h's
// protocol, modelled on jitlink::InProcessMemoryManager in
// JITLinkMemoryManager.cpp). Host mode: each graph's BasicLayout segments
// become a jm_llvm_graph for the host's allocate, whose write/exec
// addresses become the segments' working memory and target addresses;
// finalize asks the host to protect, then runs the graph's allocation
// actions here (as IPInFlightAlloc::finalize does after applyProtections);
// deallocate runs the dealloc actions, then frees. Real mode (setReal):
// a real manager of the plugin allocates, and the host is told each step
// after it happened. Host calls are serialized: the link's materialization
// threads may allocate concurrently, jitmm's backends need not be
// thread-safe.
class HostMemoryManager final : public llvm::jitlink::JITLinkMemoryManager {
public:
	explicit HostMemoryManager(const jm_llvm_host_mm &Host) : Host(Host) {}
	~HostMemoryManager() override;

	void setReal(llvm::jitlink::JITLinkMemoryManager *R) { Real = R; }

	void allocate(const llvm::jitlink::JITLinkDylib *JD, llvm::jitlink::LinkGraph &G,
		      OnAllocatedFunction OnAllocated) override;
	void deallocate(std::vector<FinalizedAlloc> Allocs,
			OnDeallocatedFunction OnDeallocated) override;
	using JITLinkMemoryManager::allocate;
	using JITLinkMemoryManager::deallocate;

	// the host's trim (a load was dropped); no host trim: nothing
	llvm::Error hostTrim();

	uint64_t graphs() const { return Graphs; }
	uint64_t finalized() const { return Finalized; }
	uint64_t allocActions() const { return Actions; }

	// One host call, serialized; a failure becomes an llvm::Error with the
	// host's message.
	llvm::Error hostCall(int (*Fn)(void *, uint64_t, char *, size_t), uint64_t Handle,
			     const char *What);

private:
	class HostInFlight;
	class ObservedInFlight;
	struct HostFinalized;

	void allocateReal(const llvm::jitlink::JITLinkDylib *JD, llvm::jitlink::LinkGraph &G,
			  OnAllocatedFunction OnAllocated);
	llvm::Error describe(const llvm::jitlink::JITLinkDylib *JD, llvm::jitlink::LinkGraph &G,
			     llvm::jitlink::BasicLayout &BL, jm_llvm_graph &Req);
	llvm::Expected<uint64_t> hostAllocate(jm_llvm_graph &Req);
	void finalizedOne() { ++Finalized; }
	void countActions(size_t N) { Actions += N; }
	bool runActions() const { return Host.run_alloc_actions != 0; }

	jm_llvm_host_mm Host;
	llvm::jitlink::JITLinkMemoryManager *Real = nullptr;
	std::mutex M; // host calls, JITDylib numbering, real-mode handles
	llvm::DenseMap<const llvm::jitlink::JITLinkDylib *, uint32_t> Dylibs;
	// real mode: a FinalizedAlloc's address -> the host's handle
	llvm::DenseMap<uint64_t, uint64_t> RealHandles;
	std::atomic<uint64_t> NextId{0}, Graphs{0}, Finalized{0}, Actions{0};
};

// One input as read before the measured window: an ELF relocatable object
// or an ar archive (never anything else), its bytes in memory.
struct Input {
	std::string Path;
	bool IsArchive = false;
	std::unique_ptr<llvm::MemoryBuffer> Buf;
};

// Read every path: a missing, unreadable or foreign file is an error
// naming it.
llvm::Expected<std::vector<Input>> readInputs(const char *const *Paths, uint32_t N);

// The symbol the stub main references in each object and archive member:
// per member, the alphabetically first defined global symbol, strong ones
// before weak ones (a weak one may be another member's: C++ COMDAT);
// members without one are left out, as scripts/record-llvm-jitlink.sh does.
llvm::Expected<std::vector<std::string>> stubReferences(const std::vector<Input> &Inputs);

// Every object of the inputs as its own buffer (archive members split
// out), for main=none (every member linked, as llvm-jitlink -all_load).
llvm::Expected<std::vector<std::unique_ptr<llvm::MemoryBuffer>>>
allObjects(const std::vector<Input> &Inputs);

// Does an object input define `main`? (main=auto)
bool objectDefinesMain(const Input &In);

// The stub main as a LinkGraph: main (`xor eax,eax; ret`) in .text, and
// .data holding one pointer per referenced symbol (kept alive), so that
// linking main links one member per reference, as the generated main.o of
// the fidelity recordings does. x86-64 only.
llvm::Expected<std::unique_ptr<llvm::jitlink::LinkGraph>>
stubMainGraph(llvm::orc::ExecutionSession &ES, const std::vector<std::string> &Refs);

} // namespace jm_link

// The session behind the C ABI (link_session.cpp).
struct jm_llvm_link;
jm_llvm_link *jm_link_open(const jm_llvm_link_opts &Opts, const jm_llvm_host_mm &Host,
			   std::string &Err);
int jm_link_run(jm_llvm_link *L, llvm::jitlink::JITLinkMemoryManager *Real,
		jm_llvm_link_result &Res, std::string &Err);
int jm_link_close(jm_llvm_link *L, std::string &Err);

#endif
