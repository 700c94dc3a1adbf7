// trace/probes.cpp — the semaphores of the probes in probes.hpp, the probe-set
// version a tracer reads from the binary, and the compile-time check that the
// C++ enums still carry the values of the C header shared with bpf/.
#include "trace/probes.hpp"

#include "gmp/detail/wait.hpp"
#include "gmp/io.hpp"
#include "gmp/pool.hpp"
#include "gmp/stw.hpp"
#include "mem/central.hpp"
#include "mem/pool_state.hpp"
#include "mem/size_class.hpp"
#include "sched/sched.hpp"

// A tracer increments a semaphore (in the .probes section, as sys/sdt.h
// expects) when it attaches to that probe.
extern "C" {
#define GMP_PROBE_DEFINE_SEMAPHORE(name) \
  __attribute__((section(".probes"), used)) volatile unsigned short gmp_##name##_semaphore = 0;
GMP_PROBE_LIST(GMP_PROBE_DEFINE_SEMAPHORE)
#undef GMP_PROBE_DEFINE_SEMAPHORE

// gmptrace reads this symbol from the target's ELF file before it attaches
// and refuses a probe set it does not know (gmp/probes_abi.h).
extern const unsigned int gmp_probes_version;
__attribute__((used)) const unsigned int gmp_probes_version = GMP_PROBES_VERSION;

// Where a tracer reads the header of its view (gmptrace: Ps, goroutines):
// the addresses of the P count (int) and the live-goroutine count (u64).
// Constant: costs the runtime nothing; the reader peeks the two words.
extern const void* const gmp_probe_state[2];
__attribute__((used)) const void* const gmp_probe_state[2] = {&gmp::detail::sched.nprocs,
                                                                                     &gmp::detail::sched.n_live};
}

namespace {

using gmp::detail::WaitReason;
template <class E>
constexpr int v(E e) {
  return static_cast<int>(e);
}

// Wait reasons (g_park).
static_assert(v(WaitReason::kNone) == GMP_WAIT_NONE && v(WaitReason::kJoin) == GMP_WAIT_JOIN &&
              v(WaitReason::kWaitGroup) == GMP_WAIT_WAIT_GROUP && v(WaitReason::kChanSend) == GMP_WAIT_CHAN_SEND &&
              v(WaitReason::kChanRecv) == GMP_WAIT_CHAN_RECV && v(WaitReason::kSelect) == GMP_WAIT_SELECT &&
              v(WaitReason::kSelectNoCases) == GMP_WAIT_SELECT_NO_CASES && v(WaitReason::kMutex) == GMP_WAIT_MUTEX &&
              v(WaitReason::kRWMutexRead) == GMP_WAIT_RWMUTEX_READ &&
              v(WaitReason::kRWMutexWrite) == GMP_WAIT_RWMUTEX_WRITE && v(WaitReason::kCond) == GMP_WAIT_COND &&
              v(WaitReason::kOnce) == GMP_WAIT_ONCE && v(WaitReason::kSemaphore) == GMP_WAIT_SEMAPHORE &&
              v(WaitReason::kSleep) == GMP_WAIT_SLEEP && v(WaitReason::kTimer) == GMP_WAIT_TIMER &&
              v(WaitReason::kIo) == GMP_WAIT_IO && v(WaitReason::kSyscall) == GMP_WAIT_SYSCALL &&
              v(WaitReason::kStopTheWorld) == GMP_WAIT_STOP_THE_WORLD &&
              v(WaitReason::kPreempted) == GMP_WAIT_PREEMPTED && v(WaitReason::kUser) == GMP_WAIT_USER,
              "probes_abi.h: gmp_wait_reason must match gmp::detail::WaitReason");
static_assert(v(WaitReason::kCount) == GMP_WAIT_COUNT, "probes_abi.h: a WaitReason was added; add it to gmp_wait_reason");

// Stop-the-world reasons and slow causes (stw_*).
using gmp::stw::Reason;
using gmp::stw::SlowCause;
static_assert(v(Reason::kUser) == GMP_STW_USER && v(Reason::kProcResize) == GMP_STW_PROCRESIZE &&
              v(Reason::kPoolSweep) == GMP_STW_POOL_SWEEP && v(Reason::kConfigReload) == GMP_STW_CONFIG_RELOAD &&
              v(Reason::kGoroutineDump) == GMP_STW_GOROUTINE_DUMP && v(Reason::kCount) == GMP_STW_REASON_COUNT,
              "probes_abi.h: gmp_stw_reason must match gmp::stw::Reason");
static_assert(v(SlowCause::kMPreempted) == GMP_STW_SLOW_M_PREEMPTED &&
              v(SlowCause::kNoSafePoint) == GMP_STW_SLOW_NO_SAFE_POINT &&
              v(SlowCause::kMBlocked) == GMP_STW_SLOW_M_BLOCKED &&
              v(SlowCause::kStopperPreempted) == GMP_STW_SLOW_STOPPER_PREEMPTED &&
              v(SlowCause::kSchedLock) == GMP_STW_SLOW_SCHED_LOCK && v(SlowCause::kHeld) == GMP_STW_SLOW_HELD &&
              v(SlowCause::kUnknown) == GMP_STW_SLOW_UNKNOWN &&
              v(SlowCause::kStopperWakeup) == GMP_STW_SLOW_STOPPER_WAKEUP &&
              v(SlowCause::kCount) == GMP_STW_SLOW_CAUSE_COUNT,
              "probes_abi.h: gmp_stw_slow_cause must match gmp::stw::SlowCause");

// Pool tiers, fallback reasons, classes.
using gmp::detail::mem::TierId;
static_assert(v(gmp::pool::Tier::kFast) == GMP_TIER_FAST && v(gmp::pool::Tier::kTxn) == GMP_TIER_TXN &&
              v(gmp::pool::Tier::kStable) == GMP_TIER_STABLE && v(TierId::kFast) == GMP_TIER_FAST &&
              v(TierId::kTxn) == GMP_TIER_TXN && v(TierId::kStable) == GMP_TIER_STABLE &&
              v(TierId::kLarge) == GMP_TIER_LARGE,
              "probes_abi.h: gmp_pool_tier must match gmp::pool::Tier and TierId");
static_assert(gmp::detail::mem::kFallbackExhausted == GMP_FALLBACK_EXHAUSTED &&
              gmp::detail::mem::kFallbackDegraded == GMP_FALLBACK_DEGRADED &&
              gmp::detail::mem::kFallbackNoArena == GMP_FALLBACK_NO_ARENA,
              "probes_abi.h: gmp_pool_fallback_reason must match mem/pool_state.hpp");
static_assert(gmp::detail::mem::kNumClasses == GMP_POOL_CLASSES, "probes_abi.h: GMP_POOL_CLASSES must match kNumClasses");
static_assert(gmp::detail::mem::kClassSize[0] == 16 && gmp::detail::mem::kMaxClassSize <= (1u << (GMP_POOL_CLASS_GROUPS + 3)),
              "probes_abi.h: GMP_POOL_CLASS_GROUPS must cover 16 B .. the largest class");

// I/O operations (io_submit/io_complete).
using gmp::io::Op;
static_assert(v(Op::kRead) == GMP_IO_READ && v(Op::kWrite) == GMP_IO_WRITE && v(Op::kReadv) == GMP_IO_READV &&
              v(Op::kWritev) == GMP_IO_WRITEV && v(Op::kPread) == GMP_IO_PREAD && v(Op::kPwrite) == GMP_IO_PWRITE &&
              v(Op::kOpenat) == GMP_IO_OPENAT && v(Op::kClose) == GMP_IO_CLOSE && v(Op::kFsync) == GMP_IO_FSYNC &&
              v(Op::kStatx) == GMP_IO_STATX && v(Op::kAccept) == GMP_IO_ACCEPT && v(Op::kConnect) == GMP_IO_CONNECT &&
              v(Op::kRecv) == GMP_IO_RECV && v(Op::kSend) == GMP_IO_SEND && v(Op::kRecvmsg) == GMP_IO_RECVMSG &&
              v(Op::kSendmsg) == GMP_IO_SENDMSG && v(Op::kShutdown) == GMP_IO_SHUTDOWN &&
              v(Op::kPoll) == GMP_IO_POLL && v(Op::kTimeout) == GMP_IO_TIMEOUT && v(Op::kCancel) == GMP_IO_CANCEL &&
              v(Op::kCount) == GMP_IO_OP_COUNT,
              "probes_abi.h: gmp_io_op must match gmp::io::Op");

}  // namespace
