// sched/traceback.hpp — symbolized stacks of goroutines and threads, for
// goroutine dumps and crash reports (traceback.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gmp::detail {

struct G;

// Where an unwind starts: the registers DWARF call-frame information needs
// (x86-64: the callee-saved ones, sp and pc; the rest only for a crash),
// and the one range of memory it may read: the stack being walked.
struct UnwindStart {
  static constexpr int kRegs = 17;  // DWARF x86-64 numbering: rax..r15 (0-15), rip (16)
  std::uint64_t regs[kRegs] = {};
  bool set[kRegs] = {};
  std::uintptr_t lo = 0, hi = 0;  // readable [lo, hi)
};

// The registers saved by gmp_ctx_switch at the top of a G that is switched
// out (parked or runnable). False if the G has no saved context.
// REQUIRES: gp is not running and its stack stays mapped meanwhile (the
// world is stopped, or nothing can run: a deadlock).
bool unwind_start_parked(const G* gp, UnwindStart* out) noexcept;
// From a signal's ucontext; the readable range is the goroutine's stack when
// sp is on it, else the thread's stack or signal stack.
bool unwind_start_ucontext(const void* ucontext, const G* running, UnwindStart* out) noexcept;

// A symbolizer over the process's loaded modules (the executable and every
// .so, as mapped when it is made): make one per dump.
// Uses libdw (elfutils), which allocates: not async-signal-safe; crash
// reports use it anyway, under a watchdog (signals.cpp).
class Traceback {
 public:
  Traceback() noexcept;
  ~Traceback();
  Traceback(const Traceback&) = delete;
  Traceback& operator=(const Traceback&) = delete;
  bool ok() const noexcept { return dwfl_ != nullptr; }
  // Writes up to max_frames frames from `start` to fd, as Go prints them:
  //     function(args)                       (demangled)
  //             file:line +0xoff (module)
  // Returns the number of frames, or -1 when no unwinder could be set up.
  int write(int fd, const UnwindStart& start, int max_frames = 64) noexcept;
  // "function at file:line" (or "function+0xoff") for a return address.
  bool symbolize(const void* pc, char* buf, std::size_t size) noexcept;

 private:
  void* dwfl_ = nullptr;  // Dwfl*
  void* st_ = nullptr;    // the callbacks' state
};

}  // namespace gmp::detail
