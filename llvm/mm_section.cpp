// section: RuntimeDyld's SectionMemoryManager (llvm/lib/ExecutionEngine/
// SectionMemoryManager.cpp), the manager of MCJIT, lli's rtdyld modes,
// PostgreSQL's llvmjit and numba, driven as RuntimeDyld drives it
// (llvm/lib/ExecutionEngine/RuntimeDyld/RuntimeDyld.cpp, loadObjectImpl):
//   with reserve=1 (needsToReserveAllocationSpace, llvm#71968): one
//   reserveAllocationSpace with the object's code, read-only and
//   read-write totals (computeTotalAllocSize), then per section (segment)
//   allocateCodeSection or allocateDataSection(IsReadOnly), the zero-fill
//   tail cleared as emitSection clears it; finalize: finalizeMemory(),
//   which protects every section allocated since the last one. The manager
//   frees nothing before it is destroyed (MCJIT keeps every object), so
//   deallocate and abandon release nothing.
#include "mm_internal.h"

#include "llvm/ExecutionEngine/SectionMemoryManager.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace llvm;

namespace {

class SectionManager final : public jm_llvm_mm {
public:
	explicit SectionManager(bool Reserve) : SMM(nullptr, Reserve), Reserve(Reserve) {}

	Error allocate(jm_llvm_graph &g, void **alloc) override
	{
		if (Reserve)
			reserve(g);
		for (uint32_t i = 0; i < g.nseg; i++) {
			jm_llvm_seg &s = g.seg[i];
			uintptr_t size = s.content + s.zero_fill;
			std::string name = "jitmm.seg" + std::to_string(i);
			unsigned id = NextSectionID++;
			uint8_t *p = (s.prot & JM_LLVM_PROT_EXEC)
				? SMM.allocateCodeSection(size, unsigned(s.align), id, name)
				: SMM.allocateDataSection(size, unsigned(s.align), id, name,
							  !(s.prot & JM_LLVM_PROT_WRITE));
			if (!p) // SectionMemoryManager has no error to give (FIXME upstream)
				return createStringError(std::errc::not_enough_memory,
							 "SectionMemoryManager: no memory for a "
							 "%llu-byte section",
							 (unsigned long long)size);
			memset(p + s.content, 0, s.zero_fill);
			s.write = s.exec = reinterpret_cast<uint64_t>(p);
		}
		*alloc = nullptr;
		return Error::success();
	}

	Error finalize(void *&) override
	{
		std::string Msg;
		if (SMM.finalizeMemory(&Msg))
			return createStringError(inconvertibleErrorCode(),
						 "finalizeMemory: %s", Msg.c_str());
		return Error::success();
	}

	Error deallocate(void *) override { return Error::success(); }
	Error abandon(void *) override { return Error::success(); }

private:
	// RuntimeDyldImpl::computeTotalAllocSize: per kind, the largest
	// alignment and the sections' sizes each aligned to it
	void reserve(const jm_llvm_graph &g)
	{
		uint64_t size[3] = {0, 0, 0}, align[3] = {1, 1, 1};
		for (uint32_t i = 0; i < g.nseg; i++) {
			const jm_llvm_seg &s = g.seg[i];
			int k = (s.prot & JM_LLVM_PROT_EXEC) ? 0 : (s.prot & JM_LLVM_PROT_WRITE) ? 2 : 1;
			if (s.align > align[k])
				align[k] = s.align;
		}
		for (uint32_t i = 0; i < g.nseg; i++) {
			const jm_llvm_seg &s = g.seg[i];
			int k = (s.prot & JM_LLVM_PROT_EXEC) ? 0 : (s.prot & JM_LLVM_PROT_WRITE) ? 2 : 1;
			size[k] += alignTo(s.content + s.zero_fill, align[k]);
		}
		SMM.reserveAllocationSpace(size[0], Align(align[0]), size[1], Align(align[1]),
					   size[2], Align(align[2]));
	}

	SectionMemoryManager SMM;
	bool Reserve;
	unsigned NextSectionID = 0;
};

} // namespace

std::unique_ptr<jm_llvm_mm> jm_llvm_mm_section(const char *options, std::string &err)
{
	(void)err;
	return std::make_unique<SectionManager>(jm_llvm_option(options, "reserve", 0) != 0);
}
