// sched/traceback.cpp — see traceback.hpp.
//
// Note [Walking a goroutine's stack]
// A switched-out goroutine's stack pointer (G::sp) points at the frame
// gmp_ctx_switch pushed: r15 r14 r13 r12 rbx rbp and the return address
// (arch/context.hpp). Those are exactly the registers DWARF call-frame
// information needs to unwind from there, frame pointers or not, so the
// stack is walked with elfutils' unwinder (dwfl_attach_state with our own
// callbacks: one pseudo-thread whose initial registers are the saved ones,
// and a memory reader that only reads the goroutine's own stack, so a bad
// frame ends the walk instead of faulting). A crash starts the same way
// from the signal's ucontext. The walk ends at gmp_ctx_trampoline, whose
// CFI marks the return address undefined. Symbols and file:line come from
// the same Dwfl (the ELF symbol tables and DWARF line tables of the
// executable and every loaded .so), names demangled with abi::__cxa_demangle.
#include "sched/traceback.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "sched/sched.hpp"

namespace gmp::detail {

namespace {

constexpr pid_t kPseudoTid = 1;  // the one thread our callbacks describe

struct WalkState {
  const UnwindStart* start = nullptr;
};

pid_t next_thread(Dwfl*, void* arg, void** thread_argp) {
  if (*thread_argp != nullptr) return 0;
  *thread_argp = arg;
  return kPseudoTid;
}

bool get_thread(Dwfl*, pid_t tid, void* arg, void** thread_argp) {
  *thread_argp = arg;
  return tid == kPseudoTid;
}

// Reads a word of another goroutine's stack: parts of it are poisoned
// redzones under ASan, and TSan cannot see the stop or the deadlock that
// orders this read after the goroutine's writes. Not instrumented (a plain
// load, no memcpy interceptor).
__attribute__((no_sanitize("address", "thread"))) bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result,
                                                                   void* arg) {
  const UnwindStart* s = static_cast<WalkState*>(arg)->start;
  if (addr < s->lo || addr + sizeof(Dwarf_Word) > s->hi || addr % alignof(Dwarf_Word) != 0) return false;
  *result = *reinterpret_cast<const volatile Dwarf_Word*>(addr);
  return true;
}

bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
  const UnwindStart* s = static_cast<WalkState*>(thread_arg)->start;
  for (int i = 0; i < UnwindStart::kRegs - 1; i++) {
    if (!s->set[i]) continue;
    Dwarf_Word v = s->regs[i];
    if (!dwfl_thread_state_registers(thread, i, 1, &v)) return false;
  }
  dwfl_thread_state_register_pc(thread, s->regs[UnwindStart::kRegs - 1]);
  return true;
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {next_thread, get_thread, memory_read, set_initial_registers, nullptr,
                                                nullptr};

char* debuginfo_path = nullptr;
const Dwfl_Callbacks kCallbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr, &debuginfo_path};

const char* base_name(const char* path) noexcept {
  const char* slash = path != nullptr ? std::strrchr(path, '/') : nullptr;
  return slash != nullptr ? slash + 1 : (path != nullptr ? path : "?");
}

struct FrameOut {
  Dwfl* dwfl = nullptr;
  int fd = 2;
  int n = 0;
  int max = 64;
};

void put(int fd, const char* s, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

int on_frame(Dwfl_Frame* frame, void* arg) {
  auto* out = static_cast<FrameOut*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
  if (pc == 0) return DWARF_CB_ABORT;
  // A return address points after the call: look up the call itself.
  const Dwarf_Addr at = activation ? pc : pc - 1;
  Dwfl_Module* mod = dwfl_addrmodule(out->dwfl, at);
  const char* sym = nullptr;
  GElf_Off off = 0;
  GElf_Sym es;
  const char* modname = nullptr;
  if (mod != nullptr) {
    sym = dwfl_module_addrinfo(mod, at, &off, &es, nullptr, nullptr, nullptr);
    Dwarf_Addr start = 0;
    const char* mainfile = nullptr;
    modname = dwfl_module_info(mod, nullptr, &start, nullptr, nullptr, nullptr, &mainfile, nullptr);
    if (mainfile != nullptr) modname = mainfile;
  }
  char* demangled = nullptr;
  if (sym != nullptr) {
    int status = 0;
    demangled = abi::__cxa_demangle(sym, nullptr, nullptr, &status);
  }
  const char* file = nullptr;
  int line = 0;
  if (mod != nullptr) {
    if (Dwfl_Line* l = dwfl_module_getsrc(mod, at)) file = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
  }
  char buf[1024];
  int n;
  const char* name = demangled != nullptr ? demangled : sym;
  if (name != nullptr) {
    n = std::snprintf(buf, sizeof buf, "%s%s\n", name, demangled != nullptr && std::strchr(name, '(') ? "" : "()");
  } else {
    n = std::snprintf(buf, sizeof buf, "?()\n");
  }
  if (n > 0) put(out->fd, buf, static_cast<std::size_t>(n < static_cast<int>(sizeof buf) ? n : sizeof buf - 1));
  if (file != nullptr) {
    n = std::snprintf(buf, sizeof buf, "\t%s:%d +0x%llx (%s)\n", file, line, static_cast<unsigned long long>(off),
                      base_name(modname));
  } else {
    n = std::snprintf(buf, sizeof buf, "\tpc=%#llx +0x%llx (%s)\n", static_cast<unsigned long long>(pc),
                      static_cast<unsigned long long>(off), base_name(modname));
  }
  if (n > 0) put(out->fd, buf, static_cast<std::size_t>(n < static_cast<int>(sizeof buf) ? n : sizeof buf - 1));
  std::free(demangled);
  if (++out->n >= out->max) {
    put(out->fd, "...additional frames elided...\n", 31);
    return DWARF_CB_ABORT;
  }
  // The entry of every goroutine: nothing above it.
  if (sym != nullptr && std::strcmp(sym, "gmp_ctx_trampoline") == 0) return DWARF_CB_ABORT;
  return DWARF_CB_OK;
}

}  // namespace

bool unwind_start_parked(const G* gp, UnwindStart* out) noexcept {
  if (gp->sp == nullptr || gp->stack.lo == nullptr) return false;
  auto sp = reinterpret_cast<std::uintptr_t>(gp->sp);
  const auto lo = reinterpret_cast<std::uintptr_t>(gp->stack.lo);
  const auto hi = reinterpret_cast<std::uintptr_t>(gp->stack.hi);
  if (sp < lo || sp + 7 * sizeof(std::uint64_t) > hi) return false;
  *out = UnwindStart{};
#if defined(__x86_64__)
  const auto* f = reinterpret_cast<const std::uint64_t*>(sp);
  // Pushed in the order rbp rbx r12 r13 r14 r15 (arch/context_x86_64.S).
  const int dwarf[6] = {15, 14, 13, 12, 3, 6};  // r15 r14 r13 r12 rbx rbp
  for (int i = 0; i < 6; i++) {
    out->regs[dwarf[i]] = f[i];
    out->set[dwarf[i]] = true;
  }
  out->regs[16] = f[6];  // the return address into the switch's caller
  out->regs[7] = sp + 7 * sizeof(std::uint64_t);
  out->set[7] = true;
  out->lo = lo;
  out->hi = hi;
  return true;
#else
  return false;
#endif
}

bool unwind_start_ucontext(const void* ucontext, const G* running, UnwindStart* out) noexcept {
#if defined(__x86_64__)
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  const greg_t* g = uc->uc_mcontext.gregs;
  *out = UnwindStart{};
  const int from[16] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
                        REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) {
    out->regs[i] = static_cast<std::uint64_t>(g[from[i]]);
    out->set[i] = true;
  }
  out->regs[16] = static_cast<std::uint64_t>(g[REG_RIP]);
  const std::uintptr_t sp = out->regs[7];
  if (running != nullptr && running->stack.lo != nullptr && sp >= reinterpret_cast<std::uintptr_t>(running->stack.lo) &&
      sp < reinterpret_cast<std::uintptr_t>(running->stack.hi)) {
    out->lo = reinterpret_cast<std::uintptr_t>(running->stack.lo);
    out->hi = reinterpret_cast<std::uintptr_t>(running->stack.hi);
    return true;
  }
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    out->lo = reinterpret_cast<std::uintptr_t>(addr);
    out->hi = out->lo + size;
    if (sp >= out->lo && sp < out->hi) return true;
  }
  // Unknown stack: read a window above sp only.
  out->lo = sp;
  out->hi = sp + 64 * 1024;
  return true;
#else
  (void)ucontext;
  (void)running;
  (void)out;
  return false;
#endif
}

Traceback::Traceback() noexcept {
  auto* st = new (std::nothrow) WalkState;
  Dwfl* dwfl = st != nullptr ? dwfl_begin(&kCallbacks) : nullptr;
  if (dwfl != nullptr && dwfl_linux_proc_report(dwfl, getpid()) == 0 &&
      dwfl_report_end(dwfl, nullptr, nullptr) == 0 &&
      dwfl_attach_state(dwfl, nullptr, getpid(), &kThreadCallbacks, st)) {
    dwfl_ = dwfl;
    st_ = st;
    return;
  }
  if (dwfl != nullptr) dwfl_end(dwfl);
  delete st;
}

Traceback::~Traceback() {
  if (dwfl_ != nullptr) dwfl_end(static_cast<Dwfl*>(dwfl_));
  delete static_cast<WalkState*>(st_);
}

bool Traceback::symbolize(const void* pc, char* buf, std::size_t size) noexcept {
  if (dwfl_ == nullptr || size == 0) return false;
  const auto at = reinterpret_cast<Dwarf_Addr>(pc) - 1;  // a return address
  Dwfl_Module* mod = dwfl_addrmodule(static_cast<Dwfl*>(dwfl_), at);
  if (mod == nullptr) return false;
  GElf_Off off = 0;
  GElf_Sym es;
  const char* sym = dwfl_module_addrinfo(mod, at, &off, &es, nullptr, nullptr, nullptr);
  if (sym == nullptr) return false;
  int status = 0;
  char* demangled = abi::__cxa_demangle(sym, nullptr, nullptr, &status);
  const char* file = nullptr;
  int line = 0;
  if (Dwfl_Line* l = dwfl_module_getsrc(mod, at)) file = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
  if (file != nullptr) {
    std::snprintf(buf, size, "%s at %s:%d", demangled != nullptr ? demangled : sym, file, line);
  } else {
    std::snprintf(buf, size, "%s+0x%llx", demangled != nullptr ? demangled : sym, static_cast<unsigned long long>(off));
  }
  std::free(demangled);
  return true;
}

int Traceback::write(int fd, const UnwindStart& start, int max_frames) noexcept {
  if (dwfl_ == nullptr) return -1;
  static_cast<WalkState*>(st_)->start = &start;
  FrameOut out{static_cast<Dwfl*>(dwfl_), fd, 0, max_frames};
  dwfl_getthread_frames(static_cast<Dwfl*>(dwfl_), kPseudoTid, on_frame, &out);
  return out.n;
}

}  // namespace gmp::detail
