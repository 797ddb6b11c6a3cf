// The linker front end's sessions (link_internal.h): the ORC setup of
// llvm-jitlink (llvm/tools/llvm-jitlink/llvm-jitlink.cpp: Session::Session,
// addSessionInputs, getEntryPoint, runWithoutRuntime/runWithRuntime) or of
// lli (llvm/tools/lli/lli.cpp: runOrcJIT), linking the given objects and
// archives through jitmm's memory manager adapter.
#include "link_internal.h"

#include "llvm/ExecutionEngine/JITLink/JITLink.h"
#include "llvm/ExecutionEngine/Orc/Debugging/DebuggerSupport.h"
#include "llvm/ExecutionEngine/Orc/Debugging/ELFDebugObjectPlugin.h"
#include "llvm/ExecutionEngine/Orc/EHFrameRegistrationPlugin.h"
#include "llvm/ExecutionEngine/Orc/ELFNixPlatform.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITLinkRedirectableSymbolManager.h"
#include "llvm/ExecutionEngine/Orc/JITLinkReentryTrampolines.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/LazyObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/Orc/ObjectFileInterface.h"
#include "llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/Orc/SelfExecutorProcessControl.h"
#include "llvm/ExecutionEngine/Orc/TaskDispatch.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <set>
#include <thread>

using namespace llvm;
using namespace llvm::jitlink;
using namespace llvm::orc;

struct jm_llvm_link {
	jm_llvm_link_opts Opts{};
	std::string MainSymbol, OrcRuntime;
	std::unique_ptr<MemoryBuffer> OrcRuntimeBuf; // read before the window
	std::vector<jm_link::Input> Inputs;
	std::unique_ptr<jm_link::HostMemoryManager> MM;
	// the llvm-jitlink session
	std::unique_ptr<ExecutionSession> OwnES;
	std::unique_ptr<ObjectLinkingLayer> OwnLayer;
	std::unique_ptr<RedirectableSymbolManager> RSMgr;
	std::unique_ptr<LazyReexportsManager> LRMgr;
	std::unique_ptr<LazyObjectLinkingLayer> LazyLayer;
	// the lli session
	std::unique_ptr<LLJIT> J;
	ExecutionSession *ES = nullptr;
	ObjectLinkingLayer *Layer = nullptr;
	JITDylib *MainJD = nullptr, *ProcessJD = nullptr, *PlatformJD = nullptr;
	JITDylib *MissingJD = nullptr;
	ObjectLayer *Objs = nullptr; // the inputs' layer (lazy or not)
	bool Stub = false;
	JITDylibSearchOrder Order;
	std::string Entry; // "" : main=none
	std::vector<SymbolStringPtr> AllSymbols;
	std::mutex ReportedM;
	std::vector<std::string> Reported; // what the session reported (root causes)
	std::atomic<uint64_t> Dummies{0};
	bool Built = false; // the session exists (elfnix builds it in link_run)
};

namespace {

Error failure(const Twine &Msg)
{
	return make_error<StringError>(Msg, inconvertibleErrorCode());
}

// What an unresolved symbol resolves to under define_missing: code that
// says so if it is ever called (data reads see its bytes).
extern "C" void jm_llvm_missing_symbol_called(void)
{
	fputs("jitmm: jitlink: a define_missing dummy was called\n", stderr);
	abort();
}

// define_missing: the last JITDylib of the search order defines every
// symbol still required as a dummy (weak references stay unresolved: null,
// as the tools leave them).
class MissingSymbolsGenerator final : public DefinitionGenerator {
public:
	explicit MissingSymbolsGenerator(std::atomic<uint64_t> &Count) : Count(Count) {}
	Error tryToGenerate(LookupState &, LookupKind, JITDylib &JD, JITDylibLookupFlags,
			    const SymbolLookupSet &Symbols) override
	{
		SymbolMap Defs;
		for (auto &KV : Symbols)
			if (KV.second == orc::SymbolLookupFlags::RequiredSymbol)
				Defs[KV.first] = {ExecutorAddr::fromPtr(&jm_llvm_missing_symbol_called),
						  JITSymbolFlags::Exported | JITSymbolFlags::Callable};
		if (Defs.empty())
			return Error::success();
		Count += Defs.size();
		return JD.define(absoluteSymbols(std::move(Defs)));
	}

private:
	std::atomic<uint64_t> &Count;
};

// The executor process control's own manager (what EPC::getMemMgr users
// allocate with) is the link's manager too, so nothing escapes the host.
class ForwardingMemoryManager final : public JITLinkMemoryManager {
public:
	explicit ForwardingMemoryManager(JITLinkMemoryManager &To) : To(To) {}
	void allocate(const JITLinkDylib *JD, LinkGraph &G, OnAllocatedFunction On) override
	{
		To.allocate(JD, G, std::move(On));
	}
	void deallocate(std::vector<FinalizedAlloc> Allocs, OnDeallocatedFunction On) override
	{
		To.deallocate(std::move(Allocs), std::move(On));
	}
	using JITLinkMemoryManager::allocate;
	using JITLinkMemoryManager::deallocate;

private:
	JITLinkMemoryManager &To;
};

// threads=0: materialize on the calling thread (llvm-jitlink -num-threads=0);
// N: the dynamic pool both tools use by default.
std::unique_ptr<TaskDispatcher> dispatcher(uint32_t Threads)
{
	if (!Threads)
		return std::make_unique<InPlaceTaskDispatcher>();
	return std::make_unique<DynamicThreadPoolTaskDispatcher>(Threads);
}

// The dispatcher's threads start inside the measured window (more than
// its materialization threads: other tasks get threads of their own).
// glibc keeps the stacks of exited threads for reuse, up to 40 MiB (five
// 8 MiB stacks): leave that many there, made now, so that the window sees
// no thread stack mapped.
void prewarmThreadStacks()
{
	std::vector<std::thread> Ts;
	for (int I = 0; I < 5; I++)
		Ts.emplace_back([] {});
	for (auto &T : Ts)
		T.join();
}

Expected<std::unique_ptr<ExecutorProcessControl>> makeEPC(jm_llvm_link &L, const Triple &TT)
{
	auto PageSize = sys::Process::getPageSize();
	if (!PageSize)
		return PageSize.takeError();
	return std::make_unique<SelfExecutorProcessControl>(
		std::make_shared<SymbolStringPool>(), dispatcher(L.Opts.threads), TT, *PageSize,
		std::make_unique<ForwardingMemoryManager>(*L.MM));
}

// Process symbols as llvm-jitlink's process has them: the process's global
// scope (libc and the libraries jitmm links), and the plugin's own
// dependency tree (libLLVM, libstdc++, libm, libgcc_s), which is global in
// llvm-jitlink's process and dlopen()ed local in jitmm's child. main is
// never taken from the process (llvm-jitlink's FilterMainEntryPoint).
Error addProcessSymbols(ExecutionSession &ES, JITDylib &JD)
{
	auto MainName = ES.intern("main");
	auto Allow = [MainName](const SymbolStringPtr &Name) { return Name != MainName; };
	auto Global = DynamicLibrarySearchGenerator::GetForCurrentProcess('\0', Allow);
	if (!Global)
		return Global.takeError();
	JD.addGenerator(std::move(*Global));
	Dl_info Info;
	if (!dladdr(reinterpret_cast<void *>(&jm_llvm_missing_symbol_called), &Info) ||
	    !Info.dli_fname)
		return failure("cannot find the plugin's own path (dladdr)");
	void *Self = dlopen(Info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	if (!Self)
		return failure(Twine("cannot reopen the plugin: ") + dlerror());
	JD.addGenerator(std::make_unique<DynamicLibrarySearchGenerator>(sys::DynamicLibrary(Self),
									'\0', Allow));
	return Error::success();
}

// The entry point and what else has to be linked, from main_kind.
Error chooseEntry(jm_llvm_link &L, bool &Stub)
{
	Stub = false;
	switch (L.Opts.main_kind) {
	case JM_LLVM_MAIN_AUTO:
		L.Entry = "main";
		Stub = std::none_of(L.Inputs.begin(), L.Inputs.end(), jm_link::objectDefinesMain);
		return Error::success();
	case JM_LLVM_MAIN_STUB:
		L.Entry = "main";
		Stub = true;
		return Error::success();
	case JM_LLVM_MAIN_SYMBOL:
		if (L.MainSymbol.empty())
			return failure("main=SYMBOL: empty symbol name");
		L.Entry = L.MainSymbol;
		return Error::success();
	case JM_LLVM_MAIN_NONE:
		L.Entry.clear();
		return Error::success();
	}
	return failure("unknown main kind");
}

// Add the inputs to MainJD through Objs (the object layer: eager or lazy)
// and Archives (archive generators), as llvm-jitlink's addObjects and
// addLibraries do (objects first, then archives in order). main=none: every
// object and archive member is added on its own (-all_load) and all their
// symbols are the lookup.
Error addInputs(jm_llvm_link &L, ObjectLayer &Objs, ObjectLayer &Eager, bool Stub)
{
	ExecutionSession &ES = Objs.getExecutionSession();
	if (Stub) {
		auto Refs = jm_link::stubReferences(L.Inputs);
		if (!Refs)
			return Refs.takeError();
		auto G = jm_link::stubMainGraph(ES, *Refs);
		if (!G)
			return G.takeError();
		if (auto Err = L.Layer->add(*L.MainJD, std::move(*G)))
			return Err;
	}
	if (L.Entry.empty()) {
		auto All = jm_link::allObjects(L.Inputs);
		if (!All)
			return All.takeError();
		std::set<SymbolStringPtr> Names;
		for (auto &Obj : *All) {
			auto I = getObjectFileInterface(ES, Obj->getMemBufferRef());
			if (!I)
				return I.takeError();
			for (auto &KV : I->SymbolFlags)
				Names.insert(KV.first);
			if (auto Err = Objs.add(*L.MainJD, std::move(Obj)))
				return Err;
		}
		L.AllSymbols.assign(Names.begin(), Names.end());
		return Error::success();
	}
	for (auto &In : L.Inputs) {
		if (In.IsArchive)
			continue;
		// an object with the entry point stays eager (llvm-jitlink -lazy
		// applies to the inputs after it)
		ObjectLayer &Layer = jm_link::objectDefinesMain(In) ? Eager : Objs;
		if (auto Err = Layer.add(*L.MainJD, MemoryBuffer::getMemBuffer(
						     In.Buf->getMemBufferRef(), false)))
			return Err;
	}
	for (auto &In : L.Inputs) {
		if (!In.IsArchive)
			continue;
		auto G = StaticLibraryDefinitionGenerator::Create(
			Objs, MemoryBuffer::getMemBuffer(In.Buf->getMemBufferRef(), false));
		if (!G)
			return failure(In.Path + ": " + toString(G.takeError()));
		L.MainJD->addGenerator(std::move(*G));
	}
	return Error::success();
}

void recordReported(jm_llvm_link &L, Error Err)
{
	std::string Msg = toString(std::move(Err));
	std::lock_guard<std::mutex> Lock(L.ReportedM);
	if (!Msg.empty())
		L.Reported.push_back(std::move(Msg));
}

// llvm-jitlink's Session::Session and addSessionInputs.
Error openJitlinkSession(jm_llvm_link &L)
{
	auto JTMB = JITTargetMachineBuilder::detectHost();
	if (!JTMB)
		return JTMB.takeError();
	auto EPC = makeEPC(L, JTMB->getTargetTriple());
	if (!EPC)
		return EPC.takeError();
	L.OwnES = std::make_unique<ExecutionSession>(std::move(*EPC));
	L.ES = L.OwnES.get();
	ExecutionSession &ES = *L.ES;
	ES.setErrorReporter([&L](Error Err) { recordReported(L, std::move(Err)); });
	L.OwnLayer = std::make_unique<ObjectLinkingLayer>(ES, *L.MM);
	L.Layer = L.OwnLayer.get();
	L.ProcessJD = &ES.createBareJITDylib("Process");
	if (auto Err = addProcessSymbols(ES, *L.ProcessJD))
		return Err;
	if (L.Opts.platform == JM_LLVM_PLATFORM_ELFNIX) {
		L.PlatformJD = &ES.createBareJITDylib("Platform");
		L.PlatformJD->addToLinkOrder(*L.ProcessJD);
		auto RT = StaticLibraryDefinitionGenerator::Create(*L.Layer, std::move(L.OrcRuntimeBuf));
		if (!RT)
			return failure(L.OrcRuntime + ": " + toString(RT.takeError()));
		auto P = ELFNixPlatform::Create(*L.Layer, *L.PlatformJD, std::move(*RT));
		if (!P)
			return P.takeError();
		ES.setPlatform(std::move(*P));
	} else {
		auto EH = EHFrameRegistrationPlugin::Create(ES);
		if (!EH)
			return EH.takeError();
		L.Layer->addPlugin(std::move(*EH));
		if (L.Opts.debugger_support) {
			// llvm-jitlink: RequireDebugSections, AutoRegisterCode
			Error Err = Error::success();
			auto Plugin = std::make_unique<ELFDebugObjectPlugin>(ES, true, true, Err);
			if (Err)
				return Err;
			L.Layer->addPlugin(std::move(Plugin));
		}
	}
	auto Main = ES.createJITDylib("main");
	if (!Main)
		return Main.takeError();
	L.MainJD = &*Main;
	ObjectLayer *Objs = L.Layer;
	if (L.Opts.lazy) {
		if (!L.PlatformJD)
			return failure("link=lazy needs platform=elfnix (llvm-jitlink: \"Lazy "
				       "linking requires the ORC runtime\")");
		auto RS = JITLinkRedirectableSymbolManager::Create(*L.Layer);
		if (!RS)
			return RS.takeError();
		L.RSMgr = std::move(*RS);
		auto LR = createJITLinkLazyReexportsManager(*L.Layer, *L.RSMgr, *L.PlatformJD);
		if (!LR)
			return LR.takeError();
		L.LRMgr = std::move(*LR);
		L.LazyLayer = std::make_unique<LazyObjectLinkingLayer>(*L.Layer, *L.LRMgr);
		Objs = L.LazyLayer.get();
	}
	L.Objs = Objs;
	return Error::success();
}

// lli's runOrcJIT with -jit-kind=orc -jit-linker=jitlink (its defaults).
Error openLliSession(jm_llvm_link &L)
{
	if (L.Opts.lazy)
		return failure("link=lazy: the lli session links eagerly (lli -jit-kind=orc)");
	InitializeNativeTarget();
	InitializeNativeTargetAsmPrinter();
	auto JTMB = JITTargetMachineBuilder::detectHost();
	if (!JTMB)
		return JTMB.takeError();
	auto EPC = makeEPC(L, JTMB->getTargetTriple());
	if (!EPC)
		return EPC.takeError();
	LLJITBuilder B;
	B.setJITTargetMachineBuilder(std::move(*JTMB));
	B.setExecutorProcessControl(std::move(*EPC));
	B.setObjectLinkingLayerCreator(
		[&L](ExecutionSession &ES) -> Expected<std::unique_ptr<ObjectLayer>> {
			auto OL = std::make_unique<ObjectLinkingLayer>(ES, *L.MM);
			if (L.Opts.platform == JM_LLVM_PLATFORM_NONE) {
				auto EH = EHFrameRegistrationPlugin::Create(ES);
				if (!EH)
					return EH.takeError();
				OL->addPlugin(std::move(*EH));
			}
			L.Layer = OL.get();
			return OL;
		});
	// the Process JITDylib LLJIT makes by default, with the plugin's own
	// dependencies too (the ORC runtime's bootstrap needs libstdc++)
	B.setProcessSymbolsJITDylibSetup([](LLJIT &J) -> Expected<JITDylibSP> {
		auto &JD = J.getExecutionSession().createBareJITDylib("<Process Symbols>");
		if (auto Err = addProcessSymbols(J.getExecutionSession(), JD))
			return Err;
		return &JD;
	});
	if (L.Opts.platform == JM_LLVM_PLATFORM_ELFNIX)
		B.setPlatformSetUp(ExecutorNativePlatform(std::move(L.OrcRuntimeBuf)));
	auto J = B.create();
	if (!J)
		return J.takeError();
	L.J = std::move(*J);
	L.ES = &L.J->getExecutionSession();
	L.ES->setErrorReporter([&L](Error Err) { recordReported(L, std::move(Err)); });
	if (L.Opts.debugger_support && L.Opts.platform == JM_LLVM_PLATFORM_NONE)
		if (auto Err = enableDebuggerSupport(*L.J))
			return Err;
	L.MainJD = &L.J->getMainJITDylib();
	L.ProcessJD = L.J->getProcessSymbolsJITDylib().get();
	L.Objs = &L.J->getObjLinkingLayer();
	return Error::success();
}

// JD becomes the inputs' JITDylib: its search order and link order (as
// llvm-jitlink's createJITDylibs and addLibraries, or LLJIT's defaults),
// then the inputs (addSessionInputs / lli's -extra-* loading).
Error attachMain(jm_llvm_link &L, JITDylib &JD)
{
	L.MainJD = &JD;
	if (L.J) {
		L.Order = makeJITDylibSearchOrder(&JD);
	} else {
		L.Order = {{&JD, JITDylibLookupFlags::MatchAllSymbols}};
		if (L.PlatformJD)
			L.Order.push_back({L.PlatformJD, JITDylibLookupFlags::MatchExportedSymbolsOnly});
		L.Order.push_back({L.ProcessJD, JITDylibLookupFlags::MatchExportedSymbolsOnly});
	}
	ObjectLayer &Eager = L.J ? L.J->getObjLinkingLayer() : *L.Layer;
	if (auto Err = addInputs(L, *L.Objs, Eager, L.Stub))
		return Err;
	if (!L.J) {
		if (L.PlatformJD)
			JD.addToLinkOrder(*L.PlatformJD);
		JD.addToLinkOrder(*L.ProcessJD);
	}
	if (L.MissingJD) {
		JD.addToLinkOrder(*L.MissingJD);
		L.Order.push_back({L.MissingJD, JITDylibLookupFlags::MatchExportedSymbolsOnly});
	}
	return Error::success();
}

// cycles: a fresh JITDylib for the next load (a library loaded again, as
// tvm-ffi loads and drops modules in one session)
Expected<JITDylib &> nextMainJD(jm_llvm_link &L, uint32_t Cycle)
{
	std::string Name = "main." + std::to_string(Cycle);
	if (L.J)
		return L.J->createJITDylib(Name);
	return L.ES->createJITDylib(Name);
}

// The link's error: what the session reported (a missing symbol's
// "Symbols not found: [ foo ]") before the lookup's own summary.
std::string linkError(jm_llvm_link &L, Error Err)
{
	std::string Msg;
	{
		std::lock_guard<std::mutex> Lock(L.ReportedM);
		for (auto &R : L.Reported)
			Msg += R + "; ";
		L.Reported.clear();
	}
	Msg += toString(std::move(Err));
	if (Msg.find("Symbols not found") != std::string::npos && !L.Opts.define_missing)
		Msg += " (define_missing=on gives unresolved symbols dummies)";
	return Msg;
}

Expected<ExecutorAddr> lookupEntry(jm_llvm_link &L)
{
	ExecutionSession &ES = *L.ES;
	if (L.Entry.empty()) {
		SymbolLookupSet Set;
		for (auto &Name : L.AllSymbols)
			Set.add(Name, orc::SymbolLookupFlags::WeaklyReferencedSymbol);
		auto R = ES.lookup(L.Order, std::move(Set));
		if (!R)
			return R.takeError();
		return ExecutorAddr();
	}
	auto Sym = ES.lookup(L.Order, ES.intern(L.Entry));
	if (!Sym)
		return Sym.takeError();
	return Sym->getAddress();
}

// llvm-jitlink's runWithRuntime: the ORC runtime's run-program wrapper runs
// the JITDylib's initializers and then main.
Expected<int64_t> runWithRuntime(jm_llvm_link &L)
{
	ExecutionSession &ES = *L.ES;
	auto Wrapper = ES.lookup(L.Order, ES.intern("__orc_rt_run_program_wrapper"));
	if (!Wrapper)
		return Wrapper.takeError();
	int64_t Result = 0;
	if (auto Err = ES.getExecutorProcessControl()
			       .callSPSWrapper<int64_t(shared::SPSString, shared::SPSString,
						       shared::SPSSequence<shared::SPSString>)>(
				       Wrapper->getAddress(), Result, L.MainJD->getName(), L.Entry,
				       std::vector<std::string>()))
		return Err;
	return Result;
}

Error buildSession(jm_llvm_link &L)
{
	L.Built = true;
	Error E = L.Opts.session == JM_LLVM_SESSION_LLI ? openLliSession(L) : openJitlinkSession(L);
	if (E)
		return E;
	if (L.Opts.define_missing) {
		L.MissingJD = &L.ES->createBareJITDylib("<define_missing>");
		L.MissingJD->addGenerator(std::make_unique<MissingSymbolsGenerator>(L.Dummies));
	}
	if (auto Err = chooseEntry(L, L.Stub))
		return Err;
	// LLJIT's platform support finds its runtime through its main JITDylib:
	// loads that are dropped go to JITDylibs of their own
	if (L.J && L.Opts.cycles > 1) {
		auto First = nextMainJD(L, 0);
		if (!First)
			return First.takeError();
		return attachMain(L, *First);
	}
	return attachMain(L, *L.MainJD);
}

// One load: the link (the entry point's lookup) and, with run, what the
// tool runs (lli: initialize, main, deinitialize). *Exit: main's result.
Error linkOnce(jm_llvm_link &L, int64_t *Exit)
{
	bool Lli = L.Opts.session == JM_LLVM_SESSION_LLI;
	if (Lli && L.Opts.run)
		if (auto Err = L.J->initialize(*L.MainJD))
			return Err;
	auto Entry = lookupEntry(L);
	if (!Entry)
		return Entry.takeError();
	if (L.Opts.run && !L.Entry.empty()) {
		if (L.Opts.platform == JM_LLVM_PLATFORM_ELFNIX && !Lli) {
			auto R = runWithRuntime(L);
			if (!R)
				return R.takeError();
			*Exit = *R;
		} else {
			auto R = L.ES->getExecutorProcessControl().runAsMain(*Entry, {});
			if (!R)
				return R.takeError();
			*Exit = *R;
		}
	}
	if (Lli && L.Opts.run)
		return L.J->deinitialize(*L.MainJD);
	return Error::success();
}

} // namespace

jm_llvm_link *jm_link_open(const jm_llvm_link_opts &Opts, const jm_llvm_host_mm &Host,
			   std::string &Err)
{
	auto L = std::make_unique<jm_llvm_link>();
	L->Opts = Opts;
	if (Opts.main_symbol)
		L->MainSymbol = Opts.main_symbol;
	if (Opts.orc_runtime)
		L->OrcRuntime = Opts.orc_runtime;
	L->Opts.main_symbol = L->Opts.orc_runtime = nullptr;
	if (Opts.platform == JM_LLVM_PLATFORM_ELFNIX) {
		if (L->OrcRuntime.empty()) {
			Err = "platform=elfnix needs the ORC runtime (orc_runtime=PATH to liborc_rt)";
			return nullptr;
		}
		// read now, not mapped in the window (as the inputs)
		auto RT = MemoryBuffer::getFile(L->OrcRuntime, false, false, true);
		if (!RT) {
			Err = L->OrcRuntime + ": " + RT.getError().message();
			return nullptr;
		}
		L->OrcRuntimeBuf = std::move(*RT);
	}
	auto Inputs = jm_link::readInputs(Opts.inputs, Opts.ninputs);
	if (!Inputs) {
		Err = toString(Inputs.takeError());
		return nullptr;
	}
	L->Inputs = std::move(*Inputs);
	L->MM = std::make_unique<jm_link::HostMemoryManager>(Host);
	// the ORC runtime's platform links its bootstrap graphs as it is
	// created: that session is built by link_run, in the window
	if (Opts.platform != JM_LLVM_PLATFORM_ELFNIX)
		if (auto E = buildSession(*L)) {
			Err = linkError(*L, std::move(E));
			std::string Ignored;
			jm_link_close(L.release(), Ignored);
			return nullptr;
		}
	if (Opts.threads)
		prewarmThreadStacks();
	return L.release();
}

int jm_link_run(jm_llvm_link *L, JITLinkMemoryManager *Real, jm_llvm_link_result &Res,
		std::string &Err)
{
	L->MM->setReal(Real);
	int64_t Exit = 0;
	Error E = L->Built ? Error::success() : buildSession(*L);
	uint32_t Cycles = L->Opts.cycles ? L->Opts.cycles : 1;
	std::vector<JITDylib *> Kept; // drop_at_end: the loads, in order
	for (uint32_t C = 0; !E && C < Cycles; C++) {
		if (C > 0) {
			auto JD = nextMainJD(*L, C);
			if (!JD) {
				E = JD.takeError();
				break;
			}
			if ((E = attachMain(*L, *JD)))
				break;
		}
		if ((E = linkOnce(*L, &Exit)) || Cycles == 1)
			continue;
		// dropped: every graph of this load is deallocated, then the
		// host trims (tvm-ffi's clear_free_slabs after an unload)
		JITDylib *Done = L->MainJD;
		L->MainJD = nullptr;
		if (L->Opts.drop_at_end) {
			Kept.push_back(Done);
			continue;
		}
		if (!(E = L->ES->removeJITDylib(*Done)))
			E = L->MM->hostTrim();
	}
	// drop_at_end: every load dropped after the last, then one trim
	for (size_t K = 0; !E && K < Kept.size(); K++)
		E = L->ES->removeJITDylib(*Kept[K]);
	if (!E && !Kept.empty())
		E = L->MM->hostTrim();
	Res.graphs = L->MM->graphs();
	Res.finalized = L->MM->finalized();
	Res.alloc_actions = L->MM->allocActions();
	Res.dummies = L->Dummies;
	Res.exit_code = Exit;
	if (E) {
		Err = linkError(*L, std::move(E));
		return -1;
	}
	std::string Note;
	{
		std::lock_guard<std::mutex> Lock(L->ReportedM);
		for (auto &R : L->Reported)
			Note += R + "; ";
	}
	snprintf(Res.message, sizeof(Res.message), "%s", Note.c_str());
	return 0;
}

int jm_link_close(jm_llvm_link *L, std::string &Err)
{
	// interned names die before their pool (the session's)
	L->AllSymbols.clear();
	// LLJIT's destructor ends its session (errors go to the reporter)
	L->J.reset();
	if (L->OwnES) {
		if (auto E = L->OwnES->endSession())
			recordReported(*L, std::move(E));
		L->LazyLayer.reset();
		L->LRMgr.reset();
		L->RSMgr.reset();
		L->OwnLayer.reset();
		L->OwnES.reset();
	}
	for (auto &R : L->Reported)
		Err += (Err.empty() ? "" : "; ") + R;
	delete L;
	return Err.empty() ? 0 : -1;
}
