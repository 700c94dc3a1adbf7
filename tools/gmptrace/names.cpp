// gmptrace/names.cpp — see names.hpp. Each table is checked against the
// count in gmp/probes_abi.h at compile time.
#include "gmptrace/names.hpp"

#include <iterator>

#include "gmp/probes_abi.h"

namespace gmp::trace {

namespace {
constexpr const char* kStw[] = {"user", "procresize", "pool sweep", "config reload", "goroutine dump"};
static_assert(std::size(kStw) == GMP_STW_REASON_COUNT);
constexpr const char* kSlow[] = {"m_preempted", "no_safe_point", "m_blocked",   "stopper_preempted",
                                 "sched_lock",  "held",          "unknown",     "stopper_wakeup"};
static_assert(std::size(kSlow) == GMP_STW_SLOW_CAUSE_COUNT);
constexpr const char* kTier[] = {"fast", "txn", "stable", "large"};
static_assert(std::size(kTier) == GMP_TIER_COUNT);
constexpr const char* kFallback[] = {"none", "exhausted", "degraded", "no_arena"};
static_assert(std::size(kFallback) == GMP_FALLBACK_REASON_END);
constexpr const char* kOp[] = {"read",   "write",   "readv",    "writev", "pread",   "pwrite", "openat",
                               "close",  "fsync",   "statx",    "accept", "connect", "recv",   "send",
                               "recvmsg", "sendmsg", "shutdown", "poll",   "timeout", "cancel"};
static_assert(std::size(kOp) == GMP_IO_OP_COUNT);

template <std::size_t N>
std::string pick(const char* const (&t)[N], long v) {
  return v >= 0 && static_cast<std::size_t>(v) < N ? t[v] : "#" + std::to_string(v);
}
}  // namespace

std::string stw_reason_name(long v) { return pick(kStw, v); }
std::string slow_cause_name(long v) { return pick(kSlow, v); }
std::string tier_name(long v) { return pick(kTier, v); }
std::string fallback_name(long v) { return pick(kFallback, v); }
std::string io_op_name(long v) { return pick(kOp, v); }

std::string syscall_name(long nr) {
#if defined(__x86_64__)
  // The calls a runtime's threads make most; others print as their number.
  switch (nr) {
    case 0: return "read";
    case 1: return "write";
    case 3: return "close";
    case 7: return "poll";
    case 9: return "mmap";
    case 10: return "mprotect";
    case 11: return "munmap";
    case 12: return "brk";
    case 13: return "rt_sigaction";
    case 14: return "rt_sigprocmask";
    case 15: return "rt_sigreturn";
    case 16: return "ioctl";
    case 17: return "pread64";
    case 18: return "pwrite64";
    case 19: return "readv";
    case 20: return "writev";
    case 23: return "select";
    case 24: return "sched_yield";
    case 28: return "madvise";
    case 35: return "nanosleep";
    case 39: return "getpid";
    case 41: return "socket";
    case 42: return "connect";
    case 43: return "accept";
    case 44: return "sendto";
    case 45: return "recvfrom";
    case 46: return "sendmsg";
    case 47: return "recvmsg";
    case 56: return "clone";
    case 59: return "execve";
    case 60: return "exit";
    case 61: return "wait4";
    case 62: return "kill";
    case 72: return "fcntl";
    case 74: return "fsync";
    case 96: return "gettimeofday";
    case 157: return "prctl";
    case 186: return "gettid";
    case 200: return "tkill";
    case 202: return "futex";
    case 203: return "sched_setaffinity";
    case 204: return "sched_getaffinity";
    case 228: return "clock_gettime";
    case 230: return "clock_nanosleep";
    case 231: return "exit_group";
    case 232: return "epoll_wait";
    case 233: return "epoll_ctl";
    case 234: return "tgkill";
    case 257: return "openat";
    case 262: return "newfstatat";
    case 273: return "set_robust_list";
    case 281: return "epoll_pwait";
    case 288: return "accept4";
    case 290: return "eventfd2";
    case 302: return "prlimit64";
    case 318: return "getrandom";
    case 332: return "statx";
    case 334: return "rseq";
    case 425: return "io_uring_setup";
    case 426: return "io_uring_enter";
    case 427: return "io_uring_register";
    case 435: return "clone3";
    default: break;
  }
#endif
  return "sys_" + std::to_string(nr);
}

}  // namespace gmp::trace
