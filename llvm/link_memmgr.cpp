// The linker front end's JITLinkMemoryManager (link_internal.h): jitmm's
// host callbacks, or a real manager observed by them.
#include "link_internal.h"

#include "llvm/ExecutionEngine/JITLink/JITLink.h"
#include "llvm/ExecutionEngine/Orc/Shared/AllocationActions.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace llvm;
using namespace llvm::jitlink;
using namespace llvm::orc;

namespace jm_link {

static Error hostError(const char *What, const char *Msg)
{
	return make_error<StringError>(std::string("jitmm backend: ") + What + ": " + Msg,
				       inconvertibleErrorCode());
}

HostMemoryManager::~HostMemoryManager() = default;

Error HostMemoryManager::hostCall(int (*Fn)(void *, uint64_t, char *, size_t), uint64_t Handle,
				  const char *What)
{
	char Err[256] = "";
	std::lock_guard<std::mutex> Lock(M);
	if (Fn(Host.ctx, Handle, Err, sizeof(Err)) < 0)
		return hostError(What, Err[0] ? Err : "failed");
	return Error::success();
}

Error HostMemoryManager::hostTrim()
{
	if (!Host.trim)
		return Error::success();
	char Err[256] = "";
	std::lock_guard<std::mutex> Lock(M);
	if (Host.trim(Host.ctx, Err, sizeof(Err)) < 0)
		return hostError("trim", Err[0] ? Err : "failed");
	return Error::success();
}

// The request of G: one jm_llvm_seg per BasicLayout segment, in
// AllocGroup order (the order every LLVM manager lays them out in).
Error HostMemoryManager::describe(const JITLinkDylib *JD, LinkGraph &G, BasicLayout &BL,
				  jm_llvm_graph &Req)
{
	std::memset(&Req, 0, sizeof(Req));
	Req.id = NextId++;
	Req.name = G.getName().c_str();
	{
		std::lock_guard<std::mutex> Lock(M);
		auto It = Dylibs.try_emplace(JD, (uint32_t)Dylibs.size()).first;
		Req.dylib = It->second;
	}
	for (auto &KV : BL.segments()) {
		const AllocGroup &AG = KV.first;
		const auto &Seg = KV.second;
		if (Req.nseg == JM_LLVM_MAX_SEGS)
			return make_error<StringError>(
				formatv("graph {0}: more than {1} segments", G.getName(),
					JM_LLVM_MAX_SEGS),
				inconvertibleErrorCode());
		jm_llvm_seg &S = Req.seg[Req.nseg++];
		S.prot = (uint32_t)AG.getMemProt(); // MemProt's bits are JM_LLVM_PROT_*
		S.lifetime = AG.getMemLifetime() == MemLifetime::Standard ? JM_LLVM_LIFE_STANDARD
									  : JM_LLVM_LIFE_FINALIZE;
		S.content = Seg.ContentSize;
		S.zero_fill = Seg.ZeroFillSize;
		S.align = Seg.Alignment.value();
	}
	return Error::success();
}

Expected<uint64_t> HostMemoryManager::hostAllocate(jm_llvm_graph &Req)
{
	char Err[256] = "";
	uint64_t Handle = 0;
	std::lock_guard<std::mutex> Lock(M);
	if (Host.allocate(Host.ctx, &Req, &Handle, Err, sizeof(Err)) < 0)
		return hostError("allocate", Err[0] ? Err : "failed");
	++Graphs;
	return Handle;
}

// What deallocate needs of a graph finalized through the host.
struct HostMemoryManager::HostFinalized {
	uint64_t Handle;
	std::vector<shared::WrapperFunctionCall> DeallocActions;
};

class HostMemoryManager::HostInFlight final : public JITLinkMemoryManager::InFlightAlloc {
public:
	HostInFlight(HostMemoryManager &MM, LinkGraph &G, uint64_t Handle)
		: MM(MM), G(&G), Handle(Handle) {}

	void finalize(OnFinalizedFunction OnFinalized) override
	{
		if (auto Err = MM.hostCall(MM.Host.finalize, Handle, "finalize"))
			return OnFinalized(std::move(Err));
		MM.finalizedOne();
		auto &AAs = G->allocActions();
		MM.countActions(AAs.size());
		std::vector<shared::WrapperFunctionCall> Dealloc;
		if (MM.runActions()) {
			auto DA = shared::runFinalizeActions(AAs);
			if (!DA)
				return OnFinalized(DA.takeError());
			Dealloc = std::move(*DA);
		}
		auto *F = new HostFinalized{Handle, std::move(Dealloc)};
		OnFinalized(FinalizedAlloc(ExecutorAddr::fromPtr(F)));
	}

	void abandon(OnAbandonedFunction OnAbandoned) override
	{
		OnAbandoned(MM.hostCall(MM.Host.abandon, Handle, "abandon"));
	}

private:
	HostMemoryManager &MM;
	LinkGraph *G;
	uint64_t Handle;
};

void HostMemoryManager::allocate(const JITLinkDylib *JD, LinkGraph &G,
				 OnAllocatedFunction OnAllocated)
{
	if (Real)
		return allocateReal(JD, G, std::move(OnAllocated));
	BasicLayout BL(G);
	jm_llvm_graph Req;
	if (auto Err = describe(JD, G, BL, Req))
		return OnAllocated(std::move(Err));
	auto Handle = hostAllocate(Req);
	if (!Handle)
		return OnAllocated(Handle.takeError());
	uint32_t I = 0;
	for (auto &KV : BL.segments()) {
		auto &Seg = KV.second;
		Seg.WorkingMem = reinterpret_cast<char *>((uintptr_t)Req.seg[I].write);
		Seg.Addr = ExecutorAddr(Req.seg[I].exec);
		I++;
	}
	if (auto Err = BL.apply()) {
		consumeError(hostCall(Host.abandon, *Handle, "abandon"));
		return OnAllocated(std::move(Err));
	}
	OnAllocated(std::make_unique<HostInFlight>(*this, G, *Handle));
}

// Real mode: the real manager's InFlightAlloc, and the host told.
class HostMemoryManager::ObservedInFlight final : public JITLinkMemoryManager::InFlightAlloc {
public:
	ObservedInFlight(HostMemoryManager &MM, std::unique_ptr<InFlightAlloc> Inner,
			 uint64_t Handle)
		: MM(MM), Inner(std::move(Inner)), Handle(Handle) {}

	void finalize(OnFinalizedFunction OnFinalized) override
	{
		Inner->finalize([this, OnFinalized = std::move(OnFinalized)](
					Expected<FinalizedAlloc> FA) mutable {
			if (!FA)
				return OnFinalized(FA.takeError());
			if (auto Err = MM.hostCall(MM.Host.finalize, Handle, "finalize")) {
				// the real manager finalized it: free it there too
				std::vector<FinalizedAlloc> One;
				One.push_back(std::move(*FA));
				consumeError(MM.Real->deallocate(std::move(One)));
				return OnFinalized(std::move(Err));
			}
			MM.finalizedOne();
			{
				std::lock_guard<std::mutex> Lock(MM.M);
				MM.RealHandles[FA->getAddress().getValue()] = Handle;
			}
			OnFinalized(std::move(*FA));
		});
	}

	void abandon(OnAbandonedFunction OnAbandoned) override
	{
		Inner->abandon([this, OnAbandoned = std::move(OnAbandoned)](Error Err) mutable {
			OnAbandoned(joinErrors(std::move(Err),
					       MM.hostCall(MM.Host.abandon, Handle, "abandon")));
		});
	}

private:
	HostMemoryManager &MM;
	std::unique_ptr<InFlightAlloc> Inner;
	uint64_t Handle;
};

void HostMemoryManager::allocateReal(const JITLinkDylib *JD, LinkGraph &G,
				     OnAllocatedFunction OnAllocated)
{
	// an executor's manager would run this process's allocation actions
	// there: counted, not run, as in host mode
	if (!runActions()) {
		countActions(G.allocActions().size());
		G.allocActions().clear();
	}
	Real->allocate(JD, G, [this, JD, &G, OnAllocated = std::move(OnAllocated)](
				      AllocResult Alloc) mutable {
		if (!Alloc)
			return OnAllocated(Alloc.takeError());
		// the layout the real manager used, for the host's counts; the
		// blocks have their target addresses now
		BasicLayout BL(G);
		jm_llvm_graph Req;
		Error Err = describe(JD, G, BL, Req);
		// each segment's lowest block address
		uint32_t I = 0;
		for (auto &KV : BL.segments()) {
			uint64_t Lo = UINT64_MAX;
			for (auto &Sec : G.sections())
				if (AllocGroup(Sec.getMemProt(), Sec.getMemLifetime()) == KV.first)
					for (auto *B : Sec.blocks())
						Lo = std::min(Lo, B->getAddress().getValue());
			if (I < Req.nseg)
				Req.seg[I].write = Req.seg[I].exec = Lo == UINT64_MAX ? 0 : Lo;
			I++;
		}
		Expected<uint64_t> Handle = Err ? Expected<uint64_t>(std::move(Err))
						: hostAllocate(Req);
		if (!Handle) {
			(*Alloc)->abandon([](Error E) { consumeError(std::move(E)); });
			return OnAllocated(Handle.takeError());
		}
		OnAllocated(std::make_unique<ObservedInFlight>(*this, std::move(*Alloc), *Handle));
	});
}

void HostMemoryManager::deallocate(std::vector<FinalizedAlloc> Allocs,
				   OnDeallocatedFunction OnDeallocated)
{
	if (Real) {
		std::vector<uint64_t> Handles;
		{
			std::lock_guard<std::mutex> Lock(M);
			for (auto &FA : Allocs) {
				auto It = RealHandles.find(FA.getAddress().getValue());
				if (It != RealHandles.end()) {
					Handles.push_back(It->second);
					RealHandles.erase(It);
				}
			}
		}
		return Real->deallocate(std::move(Allocs), [this, Handles = std::move(Handles),
							    OnDeallocated = std::move(OnDeallocated)](
								   Error Err) mutable {
			for (uint64_t H : Handles)
				Err = joinErrors(std::move(Err),
						 hostCall(Host.deallocate, H, "deallocate"));
			OnDeallocated(std::move(Err));
		});
	}
	// as InProcessMemoryManager::deallocate: the last allocated first, each
	// one's dealloc actions (in reverse) before its memory goes (an action
	// may call code of an older graph of the batch: the ORC runtime's)
	Error Err = Error::success();
	for (auto &FA : llvm::reverse(Allocs)) {
		auto *F = FA.release().toPtr<HostFinalized *>();
		if (!F->DeallocActions.empty())
			Err = joinErrors(std::move(Err), shared::runDeallocActions(F->DeallocActions));
		Err = joinErrors(std::move(Err), hostCall(Host.deallocate, F->Handle, "deallocate"));
		delete F;
	}
	OnDeallocated(std::move(Err));
}

} // namespace jm_link
