// arch/context.hpp — the goroutine context switch.
//
// A context is just a saved stack pointer: gmp_ctx_switch pushes the
// callee-saved registers of the System V (x86-64) or AAPCS64 (aarch64) ABI on
// the current stack, stores the stack pointer in *save_sp, loads next_sp and
// pops the registers saved there. `transfer` travels to the resumed side as
// the return value of its own gmp_ctx_switch call (or as the argument of a
// fresh context's entry function), so the resumed side learns who switched to
// it without touching thread-local storage.
//
// Not saved: the x87 control word and MXCSR (the floating-point environment).
// They are callee-saved by the ABI, but per goroutine they would cost ~5 ns a
// switch for a state C++ code almost never changes; a goroutine that changes
// the rounding mode must restore it before its next switch point.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
void* gmp_ctx_switch(void** save_sp, void* next_sp, void* transfer);
void gmp_ctx_trampoline();
}

namespace gmp::detail {

#if defined(__x86_64__)
// rbp rbx r12 r13 r14 r15 + return address + alignment pad.
inline constexpr std::size_t kCtxFrameBytes = 72;
#elif defined(__aarch64__)
// x19-x30 and d8-d15.
inline constexpr std::size_t kCtxFrameBytes = 176;
#else
#error "gmprt: no context switch for this architecture (x86-64 and aarch64 are supported)"
#endif

// Prepares a fresh context at the top of a stack so that switching to it calls
// entry(transfer) on that stack. entry must never return.
// REQUIRES: stack_top is 16-byte aligned.
inline void* ctx_make(void* stack_top, void (*entry)(void*)) noexcept {
  auto* top = static_cast<std::uintptr_t*>(stack_top);
  auto* sp = reinterpret_cast<std::uintptr_t*>(reinterpret_cast<char*>(top) - kCtxFrameBytes);
#if defined(__x86_64__)
  // Pop order: r15 r14 r13 r12 rbx rbp, then ret.
  sp[0] = 0;                                                  // r15
  sp[1] = 0;                                                  // r14
  sp[2] = 0;                                                  // r13
  sp[3] = reinterpret_cast<std::uintptr_t>(entry);            // r12
  sp[4] = 0;                                                  // rbx
  sp[5] = 0;                                                  // rbp: end of frame chain
  sp[6] = reinterpret_cast<std::uintptr_t>(&gmp_ctx_trampoline);  // return address
  sp[7] = 0;                                                  // pad: keeps the call aligned
  sp[8] = 0;
#elif defined(__aarch64__)
  for (std::size_t i = 0; i < kCtxFrameBytes / 8; i++) sp[i] = 0;
  sp[0] = reinterpret_cast<std::uintptr_t>(entry);            // x19
  sp[11] = reinterpret_cast<std::uintptr_t>(&gmp_ctx_trampoline);  // x30 (lr)
#endif
  return sp;
}

}  // namespace gmp::detail
