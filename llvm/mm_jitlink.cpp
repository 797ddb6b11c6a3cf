// The JITLink memory managers behind the ABI: each request is a real
// LinkGraph handed to JITLinkMemoryManager::allocate; the InFlightAlloc's
// finalize and abandon and the manager's deallocate are the real ones.
//   inprocess: jitlink::InProcessMemoryManager::Create()
//              (llvm/lib/ExecutionEngine/JITLink/JITLinkMemoryManager.cpp)
//   mapper:    orc::MapperJITLinkMemoryManager::CreateWithMapper<
//              InProcessMemoryMapper>(granularity), as llvm-jitlink does
//              (llvm/lib/ExecutionEngine/Orc/MapperJITLinkMemoryManager.cpp)
//   shm:       the same over SharedMemoryMapper (mm_shm.cpp)
#include "mm_internal.h"

#include "llvm/ExecutionEngine/JITLink/JITLink.h"
#include "llvm/ExecutionEngine/JITLink/JITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/MapperJITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/MemoryMapper.h"
#include "llvm/ExecutionEngine/Orc/SymbolStringPool.h"

#include <future>

using namespace llvm;
using namespace llvm::jitlink;

namespace {

// Until finalize: the graph (the InFlightAlloc refers to it) and the
// InFlightAlloc. A finalized allocation's handle is its FinalizedAlloc's
// address itself, so live graphs cost no memory of the plugin's own.
struct InFlight {
	std::unique_ptr<LinkGraph> G;
	std::unique_ptr<JITLinkMemoryManager::InFlightAlloc> IFA;
};

class JITLinkManager final : public jm_llvm_mm {
public:
	JITLinkManager(std::unique_ptr<JITLinkMemoryManager> MM, bool InProcess)
		: MM(std::move(MM)), InProcess(InProcess),
		  SSP(std::make_shared<orc::SymbolStringPool>())
	{
	}

	Error allocate(jm_llvm_graph &g, void **alloc) override
	{
		Error E = Error::success();
		auto G = jm_llvm_make_graph(g, SSP, E);
		if (E)
			return E;
		auto IFA = MM->allocate(nullptr, *G);
		if (!IFA)
			return IFA.takeError();
		fill_addresses(g, *G);
		*alloc = new InFlight{std::move(G), std::move(*IFA)};
		return Error::success();
	}

	Error finalize(void *&alloc) override
	{
		auto *A = static_cast<InFlight *>(alloc);
		auto FA = A->IFA->finalize();
		if (!FA)
			return FA.takeError();
		delete A;
		alloc = reinterpret_cast<void *>(FA->release().getValue());
		return Error::success();
	}

	Error deallocate(void *alloc) override
	{
		return MM->deallocate(JITLinkMemoryManager::FinalizedAlloc(
			orc::ExecutorAddr(reinterpret_cast<uint64_t>(alloc))));
	}

	Error abandon(void *alloc) override
	{
		std::unique_ptr<InFlight> A(static_cast<InFlight *>(alloc));
		std::promise<MSVCPError> P;
		auto F = P.get_future();
		A->IFA->abandon([&](Error Err) { P.set_value(std::move(Err)); });
		return F.get();
	}

	JITLinkMemoryManager *jitlink() override { return MM.get(); }

private:
	// exec: the first block's target address; write: its working memory.
	// A segment of zero-fill only has no working memory of its own: in
	// process it is the target address, across processes it is at the
	// same offset from a content segment's (one contiguous allocation).
	void fill_addresses(jm_llvm_graph &g, LinkGraph &G)
	{
		int64_t delta = 0;
		bool have_delta = InProcess;
		for (uint32_t i = 0; i < g.nseg; i++) {
			Block *B = jm_llvm_graph_block(G, i);
			g.seg[i].exec = B ? B->getAddress().getValue() : 0;
			g.seg[i].write = 0;
			if (B && !B->isZeroFill()) {
				g.seg[i].write = reinterpret_cast<uint64_t>(
					B->getAlreadyMutableContent().data());
				delta = static_cast<int64_t>(g.seg[i].write - g.seg[i].exec);
				have_delta = true;
			}
		}
		for (uint32_t i = 0; i < g.nseg; i++)
			if (!g.seg[i].write && g.seg[i].exec && have_delta)
				g.seg[i].write = g.seg[i].exec + static_cast<uint64_t>(delta);
	}

	std::unique_ptr<JITLinkMemoryManager> MM;
	bool InProcess;
	std::shared_ptr<orc::SymbolStringPool> SSP;
};

} // namespace

std::unique_ptr<jm_llvm_mm>
jm_llvm_mm_over(std::unique_ptr<JITLinkMemoryManager> MM, bool in_process)
{
	return std::make_unique<JITLinkManager>(std::move(MM), in_process);
}

std::unique_ptr<jm_llvm_mm> jm_llvm_mm_inprocess(const char *options, std::string &err)
{
	(void)options;
	auto MM = InProcessMemoryManager::Create();
	if (!MM) {
		err = toString(MM.takeError());
		return nullptr;
	}
	return jm_llvm_mm_over(std::move(*MM), true);
}

std::unique_ptr<jm_llvm_mm> jm_llvm_mm_mapper(const char *options, std::string &err)
{
	uint64_t granularity = jm_llvm_option(options, "granularity", 1ull << 30);
	auto MM = orc::MapperJITLinkMemoryManager::CreateWithMapper<
		orc::InProcessMemoryMapper>(granularity);
	if (!MM) {
		err = toString(MM.takeError());
		return nullptr;
	}
	return jm_llvm_mm_over(std::move(*MM), true);
}
