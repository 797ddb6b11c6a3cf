// The linker front end's inputs (link_internal.h): objects and archives
// read into memory, the symbols the stub main references, and the stub
// main graph itself.
#include "link_internal.h"

#include "llvm/BinaryFormat/Magic.h"
#include "llvm/ExecutionEngine/JITLink/JITLink.h"
#include "llvm/ExecutionEngine/JITLink/x86_64.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/Error.h"

#include <cstring>
#include <set>

using namespace llvm;
using namespace llvm::jitlink;
using namespace llvm::orc;

namespace jm_link {

static Error inputError(const Twine &Msg)
{
	return make_error<StringError>(Msg, inconvertibleErrorCode());
}

Expected<std::vector<Input>> readInputs(const char *const *Paths, uint32_t N)
{
	std::vector<Input> Out;
	for (uint32_t I = 0; I < N; I++) {
		Input In;
		In.Path = Paths[I];
		// read, not mapped (IsVolatile): the measured window must not see
		// the file mappings come and go
		auto Buf = MemoryBuffer::getFile(In.Path, /*IsText=*/false,
						 /*RequiresNullTerminator=*/false,
						 /*IsVolatile=*/true);
		if (!Buf)
			return inputError(In.Path + ": " + Buf.getError().message());
		switch (identify_magic((*Buf)->getBuffer())) {
		case file_magic::archive:
			In.IsArchive = true;
			break;
		case file_magic::elf_relocatable:
			break;
		default:
			return inputError(In.Path + ": not an ELF relocatable object or an ar archive");
		}
		In.Buf = std::move(*Buf);
		Out.push_back(std::move(In));
	}
	return Out;
}

// Calls F(MemoryBufferRef) for every ELF relocatable object of the inputs,
// archive members included, in order.
static Error forEachObject(const std::vector<Input> &Inputs,
			   function_ref<Error(MemoryBufferRef, object::Archive *, size_t)> F)
{
	for (auto &In : Inputs) {
		if (!In.IsArchive) {
			if (auto Err = F(In.Buf->getMemBufferRef(), nullptr, 0))
				return Err;
			continue;
		}
		auto A = object::Archive::create(In.Buf->getMemBufferRef());
		if (!A)
			return inputError(In.Path + ": " + toString(A.takeError()));
		Error Err = Error::success();
		size_t Index = 0;
		for (auto &C : (*A)->children(Err)) {
			auto Ref = C.getMemoryBufferRef();
			if (!Ref) {
				consumeError(std::move(Err));
				return inputError(In.Path + ": " + toString(Ref.takeError()));
			}
			if (identify_magic(Ref->getBuffer()) == file_magic::elf_relocatable)
				if (auto E = F(*Ref, A->get(), Index)) {
					consumeError(std::move(Err));
					return E;
				}
			Index++;
		}
		if (Err)
			return inputError(In.Path + ": " + toString(std::move(Err)));
	}
	return Error::success();
}

Expected<std::vector<std::string>> stubReferences(const std::vector<Input> &Inputs)
{
	std::vector<std::string> Refs;
	std::set<std::string> Seen;
	auto Pick = [&](MemoryBufferRef Ref, object::Archive *, size_t) -> Error {
		auto Obj = object::ObjectFile::createObjectFile(Ref);
		if (!Obj)
			return inputError(Ref.getBufferIdentifier() + ": " +
					  toString(Obj.takeError()));
		std::string Strong, Weak;
		for (auto &Sym : (*Obj)->symbols()) {
			auto Flags = Sym.getFlags();
			if (!Flags) {
				consumeError(Flags.takeError());
				continue;
			}
			if ((*Flags & object::BasicSymbolRef::SF_Undefined) ||
			    !(*Flags & object::BasicSymbolRef::SF_Global) ||
			    (*Flags & object::BasicSymbolRef::SF_FormatSpecific))
				continue;
			auto Type = Sym.getType();
			if (!Type) {
				consumeError(Type.takeError());
				continue;
			}
			if (*Type == object::SymbolRef::ST_File || *Type == object::SymbolRef::ST_Debug)
				continue;
			auto Name = Sym.getName();
			if (!Name) {
				consumeError(Name.takeError());
				continue;
			}
			if (Name->empty())
				continue;
			std::string &Best = (*Flags & object::BasicSymbolRef::SF_Weak) ? Weak : Strong;
			if (Best.empty() || *Name < StringRef(Best))
				Best = Name->str();
		}
		const std::string &Chosen = Strong.empty() ? Weak : Strong;
		if (!Chosen.empty() && Seen.insert(Chosen).second)
			Refs.push_back(Chosen);
		return Error::success();
	};
	if (auto Err = forEachObject(Inputs, Pick))
		return Err;
	return Refs;
}

Expected<std::vector<std::unique_ptr<MemoryBuffer>>> allObjects(const std::vector<Input> &Inputs)
{
	std::vector<std::unique_ptr<MemoryBuffer>> Out;
	auto Add = [&](MemoryBufferRef Ref, object::Archive *A, size_t Index) -> Error {
		if (A)
			Out.push_back(StaticLibraryDefinitionGenerator::createMemberBuffer(*A, Ref, Index));
		else
			Out.push_back(MemoryBuffer::getMemBuffer(Ref, false));
		return Error::success();
	};
	if (auto Err = forEachObject(Inputs, Add))
		return Err;
	return Out;
}

bool objectDefinesMain(const Input &In)
{
	if (In.IsArchive)
		return false;
	auto Obj = object::ObjectFile::createObjectFile(In.Buf->getMemBufferRef());
	if (!Obj) {
		consumeError(Obj.takeError());
		return false;
	}
	for (auto &Sym : (*Obj)->symbols()) {
		auto Flags = Sym.getFlags();
		auto Name = Sym.getName();
		bool Main = Flags && Name && *Name == "main" &&
			    !(*Flags & object::BasicSymbolRef::SF_Undefined) &&
			    (*Flags & object::BasicSymbolRef::SF_Global);
		if (!Flags)
			consumeError(Flags.takeError());
		if (!Name)
			consumeError(Name.takeError());
		if (Main)
			return true;
	}
	return false;
}

Expected<std::unique_ptr<LinkGraph>> stubMainGraph(ExecutionSession &ES,
						   const std::vector<std::string> &Refs)
{
	const Triple &TT = ES.getTargetTriple();
	if (TT.getArch() != Triple::x86_64)
		return inputError("main=stub is x86-64 only (this is " + TT.str() +
				  "): give main=SYMBOL or main=none");
	auto G = std::make_unique<LinkGraph>("<jitmm stub main>", ES.getSymbolStringPool(), TT,
					     SubtargetFeatures(), x86_64::getEdgeKindName);
	// int main(void) { return 0; }
	static const char Code[] = {'\x31', '\xc0', '\xc3'};
	auto &Text = G->createSection(".text", MemProt::Read | MemProt::Exec);
	auto &TB = G->createContentBlock(Text, ArrayRef<char>(Code, sizeof(Code)), ExecutorAddr(),
					 16, 0);
	G->addDefinedSymbol(TB, 0, "main", sizeof(Code), Linkage::Strong, Scope::Default, true,
			    true);
	if (!Refs.empty()) {
		auto &Data = G->createSection(".data", MemProt::Read | MemProt::Write);
		auto Buf = G->allocateBuffer(8 * Refs.size());
		std::memset(Buf.data(), 0, Buf.size());
		auto &DB = G->createMutableContentBlock(Data, Buf, ExecutorAddr(), 8, 0);
		G->addDefinedSymbol(DB, 0, "jitmm_refs", Buf.size(), Linkage::Strong, Scope::Local,
				    false, true);
		for (size_t I = 0; I < Refs.size(); I++)
			DB.addEdge(x86_64::Pointer64, 8 * I, G->addExternalSymbol(Refs[I], 0, false), 0);
	}
	return G;
}

} // namespace jm_link
