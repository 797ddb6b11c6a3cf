// The linker front end's half of the plugin table (see plugin_internal.h):
// the C ABI of llvm/jitmm_llvm.h over the sessions of link_session.cpp.
#include "link_internal.h"

#include <cstdio>

namespace {

void copyErr(const std::string &Msg, char *Err, size_t ErrLen)
{
	if (ErrLen)
		snprintf(Err, ErrLen, "%s", Msg.c_str());
}

jm_llvm_link *linkOpen(const jm_llvm_link_opts *Opts, const jm_llvm_host_mm *Host, char *Err,
		       size_t ErrLen)
{
	std::string Msg;
	jm_llvm_link *L = jm_link_open(*Opts, *Host, Msg);
	if (!L)
		copyErr(Msg, Err, ErrLen);
	return L;
}

int linkRun(jm_llvm_link *L, jm_llvm_mm *MM, jm_llvm_link_result *Res, char *Err, size_t ErrLen)
{
	// a manager without a JITLinkMemoryManager (RuntimeDyld's
	// SectionMemoryManager) serves the link through the host's backend ops
	llvm::jitlink::JITLinkMemoryManager *Real = MM ? jm_llvm_mm_jitlink(MM) : nullptr;
	*Res = jm_llvm_link_result{};
	std::string Msg;
	int Rc = jm_link_run(L, Real, *Res, Msg);
	if (Rc < 0)
		copyErr(Msg, Err, ErrLen);
	return Rc;
}

int linkClose(jm_llvm_link *L, char *Err, size_t ErrLen)
{
	std::string Msg;
	int Rc = jm_link_close(L, Msg);
	if (Rc < 0)
		copyErr(Msg, Err, ErrLen);
	return Rc;
}

} // namespace

void jm_llvm_fill_linker(jm_llvm_plugin &Table)
{
	Table.link_open = linkOpen;
	Table.link_run = linkRun;
	Table.link_close = linkClose;
}
