// A jitmm graph request as a real jitlink::LinkGraph (see mm_internal.h).
#include "mm_internal.h"

#include "llvm/ExecutionEngine/JITLink/JITLink.h"
#include "llvm/ExecutionEngine/Orc/SymbolStringPool.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>

using namespace llvm;
using namespace llvm::jitlink;

// The bytes every content block is copied from: zero, and read once before
// any measurement (jm_llvm_touch_source) so that the copy JITLink makes at
// allocation (BasicLayout::apply) faults only on the destination, as with a
// real object whose bytes are already in memory.
static constexpr uint64_t SourceBytes = 1u << 20;
alignas(4096) static char Source[SourceBytes];

void jm_llvm_touch_source()
{
	volatile const char *p = Source;
	char sum = 0;
	for (uint64_t i = 0; i < SourceBytes; i += 4096)
		sum = static_cast<char>(sum + p[i]);
	(void)sum;
}

static orc::MemProt mem_prot(uint32_t prot)
{
	orc::MemProt p = orc::MemProt::None;
	if (prot & JM_LLVM_PROT_READ)
		p |= orc::MemProt::Read;
	if (prot & JM_LLVM_PROT_WRITE)
		p |= orc::MemProt::Write;
	if (prot & JM_LLVM_PROT_EXEC)
		p |= orc::MemProt::Exec;
	return p;
}

// A Section keeps a StringRef to its name: names that live forever.
static const char *section_name(uint32_t i)
{
	static const char *const names[JM_LLVM_MAX_SEGS] = {
		"jitmm.seg0", "jitmm.seg1", "jitmm.seg2", "jitmm.seg3",
		"jitmm.seg4", "jitmm.seg5", "jitmm.seg6", "jitmm.seg7",
	};
	return names[i];
}

std::unique_ptr<LinkGraph> jm_llvm_make_graph(const jm_llvm_graph &g,
					      std::shared_ptr<orc::SymbolStringPool> SSP,
					      Error &err)
{
	ErrorAsOutParameter EAO(&err);
	if (g.nseg > JM_LLVM_MAX_SEGS) {
		err = createStringError(inconvertibleErrorCode(),
					"graph of %u segments (at most %d)", g.nseg,
					JM_LLVM_MAX_SEGS);
		return nullptr;
	}
	auto G = std::make_unique<LinkGraph>(
		g.name ? g.name : "jitmm.graph" + std::to_string(g.id), std::move(SSP),
		Triple("x86_64-unknown-linux-gnu"), SubtargetFeatures(),
		getGenericEdgeKindName);
	for (uint32_t i = 0; i < g.nseg; i++) {
		const jm_llvm_seg &s = g.seg[i];
		if (!s.align || (s.align & (s.align - 1))) {
			err = createStringError(inconvertibleErrorCode(),
						"segment %u: alignment %llu is not a power of two",
						i, (unsigned long long)s.align);
			return nullptr;
		}
		auto &Sec = G->createSection(section_name(i), mem_prot(s.prot));
		switch (s.lifetime) {
		case JM_LLVM_LIFE_FINALIZE:
			Sec.setMemLifetime(orc::MemLifetime::Finalize);
			break;
		case JM_LLVM_LIFE_NOALLOC:
			Sec.setMemLifetime(orc::MemLifetime::NoAlloc);
			break;
		default:
			break;
		}
		// BasicLayout orders the unplaced blocks of a segment by size:
		// the remainder piece (the smallest) comes first and carries the
		// alignment, the whole pieces follow at alignment 1, so the
		// content is one run with no padding; without a remainder every
		// piece is a multiple of the alignment and carries it
		if (s.align > SourceBytes && s.content > SourceBytes) {
			err = createStringError(inconvertibleErrorCode(),
						"segment %u: alignment %llu above %llu bytes",
						i, (unsigned long long)s.align,
						(unsigned long long)SourceBytes);
			return nullptr;
		}
		uint64_t rest = s.content % SourceBytes;
		if (rest)
			G->createContentBlock(Sec, ArrayRef<char>(Source, rest),
					      orc::ExecutorAddr(), s.align, 0);
		for (uint64_t n = s.content / SourceBytes; n; n--)
			G->createContentBlock(Sec, ArrayRef<char>(Source, SourceBytes),
					      orc::ExecutorAddr(), rest ? 1 : s.align, 0);
		if (s.zero_fill)
			G->createZeroFillBlock(Sec, s.zero_fill, orc::ExecutorAddr(),
					       s.content ? 1 : s.align, 0);
	}
	return G;
}

Block *jm_llvm_graph_block(LinkGraph &G, uint32_t i)
{
	Section *Sec = G.findSectionByName(section_name(i));
	if (!Sec || Sec->blocks().empty())
		return nullptr;
	// blocks are kept in a set: the first is the one at the lowest address
	Block *first = nullptr;
	for (Block *B : Sec->blocks())
		if (!first || B->getAddress() < first->getAddress())
			first = B;
	return first;
}
