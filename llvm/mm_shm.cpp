// shm: orc::MapperJITLinkMemoryManager over orc::SharedMemoryMapper, the
// executor a real process, as `llvm-jitlink -oop-launch -use-memmgr=shared`
// (llvm/lib/ExecutionEngine/Orc/MemoryMapper.cpp, Orc/TargetProcess/
// ExecutorSharedMemoryMapperService.cpp, tools/llvm-jitlink).
//
// The executor is a fork of the measured process running LLVM's
// SimpleRemoteEPCServer with the real ExecutorSharedMemoryMapperService,
// as llvm-jitlink-executor does, connected by a socketpair to a
// SimpleRemoteEPC (FDSimpleRemoteEPCTransport) in the controller. Both
// dispatch in place (llvm-jitlink-executor starts a thread per call;
// llvm-jitlink a thread pool): the only threads are the two transports'
// listeners, so the VMAs and syscalls counted are the memory manager's.
// Being a fork, the executor's LLVM calls go through the host's os layer
// too; it reports its counts and VMAs through one wrapper function of its
// own (jitmm_executor_stats), over the same connection.
#include "mm_internal.h"

#include "llvm/ExecutionEngine/JITLink/JITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/MapperJITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/MemoryMapper.h"
#include "llvm/ExecutionEngine/Orc/Shared/OrcRTBridge.h"
#include "llvm/ExecutionEngine/Orc/Shared/SimpleRemoteEPCUtils.h"
#include "llvm/ExecutionEngine/Orc/Shared/WrapperFunctionUtils.h"
#include "llvm/ExecutionEngine/Orc/SimpleRemoteEPC.h"
#include "llvm/ExecutionEngine/Orc/TargetProcess/ExecutorSharedMemoryMapperService.h"
#include "llvm/ExecutionEngine/Orc/TargetProcess/SimpleExecutorMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/TargetProcess/SimpleRemoteEPCServer.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <cstring>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace llvm;
using namespace llvm::orc;

namespace {

const char *const StatsFnName = "jitmm_executor_stats";

// [0] VMAs now, [1] VMAs at the baseline, then the JM_LLVM_SYS_* counts
enum { S_VMAS, S_VMAS_BASE, S_SYS, S_N = S_SYS + JM_LLVM_NSYS };
using SPSStatsSig = shared::SPSSequence<uint64_t>(bool);

// ---- the executor process ----

const jm_llvm_mm_host *ExecHost;
long ExecVmasBase;

// Called with baseline = true once, right after the connection is up (the
// transport's listener thread exists, nothing is reserved yet).
std::vector<uint64_t> executor_stats(bool baseline)
{
	long vmas = ExecHost->vma_count();
	if (baseline)
		ExecVmasBase = vmas;
	std::vector<uint64_t> out(S_N);
	out[S_VMAS] = static_cast<uint64_t>(vmas);
	out[S_VMAS_BASE] = static_cast<uint64_t>(ExecVmasBase);
	uint64_t calls[JM_LLVM_NSYS];
	ExecHost->counters(calls);
	for (int i = 0; i < JM_LLVM_NSYS; i++)
		out[S_SYS + i] = calls[i];
	return out;
}

shared::CWrapperFunctionBuffer executor_stats_wrapper(const char *ArgData,
						       size_t ArgSize)
{
	return shared::WrapperFunction<SPSStatsSig>::handle(ArgData, ArgSize,
							    executor_stats)
		.release();
}

class InPlaceDispatcher final : public SimpleRemoteEPCServer::Dispatcher {
public:
	void dispatch(unique_function<void()> Work) override { Work(); }
	void shutdown() override {}
};

[[noreturn]] void executor_main(int fd, const jm_llvm_mm_host &host)
{
	// no inherited descriptors (the runner's pipes among them)
	if (fd != 3) {
		dup2(fd, 3);
		fd = 3;
	}
	close_range(4, ~0u, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ExecHost = &host;
	host.counters_reset();
	auto S = SimpleRemoteEPCServer::Create<FDSimpleRemoteEPCTransport>(
		[](SimpleRemoteEPCServer::Setup &S) -> Error {
			S.setDispatcher(std::make_unique<InPlaceDispatcher>());
			S.bootstrapSymbols() = SimpleRemoteEPCServer::defaultBootstrapSymbols();
			S.bootstrapSymbols()[StatsFnName] =
				ExecutorAddr::fromPtr(&executor_stats_wrapper);
			// as llvm-jitlink-executor: the EPC's default manager needs it
			S.services().push_back(
				std::make_unique<rt_bootstrap::SimpleExecutorMemoryManager>());
			S.services().push_back(
				std::make_unique<rt_bootstrap::ExecutorSharedMemoryMapperService>());
			return Error::success();
		},
		fd, fd);
	if (!S) {
		logAllUnhandledErrors(S.takeError(), errs(), "jitmm executor: ");
		_exit(2);
	}
	// on disconnect the service releases every reservation
	Error E = (*S)->waitForDisconnect();
	if (E) {
		logAllUnhandledErrors(std::move(E), errs(), "jitmm executor: ");
		_exit(1);
	}
	_exit(0);
}

// ---- the controller ----

class ShmManager final : public jm_llvm_mm {
public:
	~ShmManager() override
	{
		Inner.reset(); // the mapper unmaps its views
		// LLVM 22's FDSimpleRemoteEPCTransport::disconnect closes the
		// socket without shutting it down, leaving its listener thread in
		// read() (later LLVM shuts it down first): do that part here,
		// through a descriptor of our own
		if (Sock >= 0)
			::shutdown(Sock, SHUT_RDWR);
		if (ES) {
			if (Error E = ES->endSession()) // disconnects the executor
				consumeError(std::move(E));
			ES.reset();
		}
		if (Sock >= 0)
			close(Sock);
		if (Pid > 0)
			while (waitpid(Pid, nullptr, 0) < 0 && errno == EINTR)
				;
	}

	Error start(uint64_t granularity, const jm_llvm_mm_host &host)
	{
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return errorCodeToError(std::error_code(errno, std::generic_category()));
		fflush(nullptr);
		Pid = fork();
		if (Pid < 0) {
			int e = errno;
			close(sv[0]);
			close(sv[1]);
			return createStringError(std::error_code(e, std::generic_category()),
						 "forking the executor");
		}
		if (Pid == 0) {
			close(sv[0]);
			executor_main(sv[1], host);
		}
		close(sv[1]);
		// the transport owns sv[0] from here on (and closes it)
		Sock = fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
		auto EPC = SimpleRemoteEPC::Create<FDSimpleRemoteEPCTransport>(
			std::make_unique<InPlaceTaskDispatcher>(), SimpleRemoteEPC::Setup(),
			sv[0], sv[0]);
		if (!EPC)
			return EPC.takeError();
		ES = std::make_unique<ExecutionSession>(std::move(*EPC));
		auto &C = ES->getExecutorProcessControl();
		SharedMemoryMapper::SymbolAddrs SAs;
		if (Error E = C.getBootstrapSymbols(
			    {{SAs.Instance, rt::ExecutorSharedMemoryMapperServiceInstanceName},
			     {SAs.Reserve, rt::ExecutorSharedMemoryMapperServiceReserveWrapperName},
			     {SAs.Initialize,
			      rt::ExecutorSharedMemoryMapperServiceInitializeWrapperName},
			     {SAs.Deinitialize,
			      rt::ExecutorSharedMemoryMapperServiceDeinitializeWrapperName},
			     {SAs.Release, rt::ExecutorSharedMemoryMapperServiceReleaseWrapperName},
			     {StatsFn, StatsFnName}}))
			return E;
		auto MM = MapperJITLinkMemoryManager::CreateWithMapper<SharedMemoryMapper>(
			granularity, C, SAs);
		if (!MM)
			return MM.takeError();
		Inner = jm_llvm_mm_over(std::move(*MM), false);
		std::vector<uint64_t> s;
		return C.callSPSWrapper<SPSStatsSig>(StatsFn, s, true);
	}

	Error allocate(jm_llvm_graph &g, void **alloc) override
	{
		return Inner->allocate(g, alloc);
	}
	Error finalize(void *&alloc) override { return Inner->finalize(alloc); }
	Error deallocate(void *alloc) override { return Inner->deallocate(alloc); }
	Error abandon(void *alloc) override { return Inner->abandon(alloc); }
	jitlink::JITLinkMemoryManager *jitlink() override { return Inner->jitlink(); }
	int32_t exec_pid() override { return Pid; }

	void stats(jm_llvm_mm_stats &out) override
	{
		std::vector<uint64_t> s;
		Error E = ES->getExecutorProcessControl().callSPSWrapper<SPSStatsSig>(
			StatsFn, s, false);
		if (E || s.size() != S_N) {
			consumeError(std::move(E));
			return;
		}
		uint64_t added = s[S_VMAS] - s[S_VMAS_BASE];
		out.vmas_other_processes = added;
		// named as shm-mapper's, so that model and real compare
		const struct {
			const char *name;
			uint64_t value;
		} ev[] = {
			{"executor_vmas", s[S_VMAS]},
			{"executor_vmas_added", added},
			{"executor_mmap_calls", s[S_SYS + JM_LLVM_SYS_MMAP]},
			{"executor_munmap_calls", s[S_SYS + JM_LLVM_SYS_MUNMAP]},
			{"executor_mprotect_calls", s[S_SYS + JM_LLVM_SYS_MPROTECT]},
			{"executor_ftruncate_calls", s[S_SYS + JM_LLVM_SYS_FTRUNCATE]},
		};
		for (const auto &e : ev) {
			if (out.nextra >= 8)
				break;
			snprintf(out.extra[out.nextra].name, sizeof(out.extra[0].name), "%s",
				 e.name);
			out.extra[out.nextra++].value = e.value;
		}
	}

	Error read(uint64_t exec, void *buf, uint64_t len) override
	{
		auto R = ES->getExecutorProcessControl().getMemoryAccess().readBuffers(
			{ExecutorAddrRange(ExecutorAddr(exec), ExecutorAddrDiff(len))});
		if (!R)
			return R.takeError();
		if (R->size() != 1 || (*R)[0].size() != len)
			return createStringError(inconvertibleErrorCode(),
						 "executor read of %llu bytes came back short",
						 (unsigned long long)len);
		memcpy(buf, (*R)[0].data(), len);
		return Error::success();
	}

	Error execute(uint64_t exec, int32_t &ret) override
	{
		auto R = ES->getExecutorProcessControl().runAsVoidFunction(ExecutorAddr(exec));
		if (!R)
			return R.takeError();
		ret = *R;
		return Error::success();
	}

private:
	pid_t Pid = 0;
	int Sock = -1;
	std::unique_ptr<ExecutionSession> ES;
	ExecutorAddr StatsFn;
	std::unique_ptr<jm_llvm_mm> Inner;
};

} // namespace

std::unique_ptr<jm_llvm_mm> jm_llvm_mm_shm(const char *options, const jm_llvm_mm_host &host,
					   std::string &err)
{
	auto M = std::make_unique<ShmManager>();
	if (Error E = M->start(jm_llvm_option(options, "granularity", 1ull << 30), host)) {
		err = toString(std::move(E));
		return nullptr;
	}
	return M;
}
