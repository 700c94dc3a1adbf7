// sched/deadlock.cpp — deadlock detection (Go's checkdead).
//
// Note [Deadlock]
// Go reports "all goroutines are asleep - deadlock!" when no M runs Go code
// and no timer is pending. Here goroutines can also be woken from outside
// the scheduler: by an io_uring completion, by a gmp::blocking call that
// returns, and by any plain thread of the process (a thread sends on a
// channel, unlocks a mutex, spawns). A deadlock report must never be wrong,
// so sysmon reports one only when all of these hold:
//   - goroutines exist (created and not exited), and every P is idle, with
//     nothing queued (run queues, inboxes, global queue), no timer armed,
//     no io operation in flight or completed, no M spinning;
//   - no M is inside gmp::blocking, and no M waits for a P;
//   - every thread of the process is accounted for as one that cannot wake
//     a goroutine: the runtime's Ms and sysmon, plain threads blocked in a
//     runtime wait (plain_wait_begin: a thread's channel operation or join,
//     gmp::run waiting for main) and threads that declared
//     gmp::thread_wakes_no_goroutine(). Any other thread (the test's or
//     application's main thread, a std::thread a goroutine started, a
//     sanitizer's helper) may wake something later: no report while one
//     exists. The count is the kernel's (/proc/self/status, Threads:).
//   - the same holds at two ticks at least kConfirmNs apart with no switch,
//     spawn or M wake-up in between (the checks above are not one atomic
//     snapshot: a plain thread that wakes a goroutine and then waits could
//     fall between two of them).
// Then it prints the report and every goroutine's stack, and ends the
// process with the fatal status (exit.hpp).
//
// A plain thread stops counting as waiting when it is woken, not when it
// runs again: its waker ends the count before the wake-up. Counting it until
// its own wait returned made a false report on a loaded machine: a goroutine
// wakes the thread (a reply it waits for, or main's return waking gmp::run)
// and parks; every goroutine then sleeps, and the woken thread, still
// counted as asleep, waits more than kConfirmNs for a CPU.
#include "sched/deadlock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/check.hpp"
#include "gmp/runtime.hpp"
#include "io/ring.hpp"
#include "sched/dump.hpp"
#include "sched/exit.hpp"
#include "sched/sched.hpp"
#include "sched/syscall.hpp"

namespace gmp::detail {

namespace {

constexpr std::int64_t kConfirmNs = 100'000'000;
// At most one /proc read per this (sysmon ticks every 10 ms when idle; a
// program whose goroutines all wait for its main thread is idle for long).
constexpr std::int64_t kThreadCountEveryNs = 25'000'000;

std::atomic<int> n_plain_waiting{0};
std::atomic<int> n_no_wakers{0};

// Sysmon only.
std::int64_t candidate_since = -1;
std::int64_t last_count_ns = 0;
std::uint64_t candidate_sig = 0;

struct NoWakerMark {
  bool marked = false;
  ~NoWakerMark() {
    if (marked) n_no_wakers.fetch_sub(1, std::memory_order_relaxed);
  }
};
thread_local NoWakerMark no_waker_mark;

// The process's thread count, or -1.
int process_threads() noexcept {
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* t = std::strstr(buf, "\nThreads:");
  return t == nullptr ? -1 : std::atoi(t + 9);
}

// Everything that changes when a goroutine runs, is spawned or an M wakes.
std::uint64_t activity() noexcept {
  std::uint64_t sig = sched.n_unparks.load(std::memory_order_relaxed) + sched.n_created_outside.load() +
                      sched.n_live.load(std::memory_order_relaxed) * 1'000'003ULL;
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    sig += pp->n_switches.load(std::memory_order_relaxed) + pp->n_created.load(std::memory_order_relaxed);
  }
  return sig;
}

// Everything but the thread count and stability (Note [Deadlock]).
bool all_asleep() noexcept {
  if (sched.n_live.load(std::memory_order_relaxed) == 0) return false;
  const int n = sched.nprocs.load(std::memory_order_relaxed);
  if (sched.npidle.load(std::memory_order_seq_cst) != n) return false;
  if (sched.nmspinning.load() != 0 || sched.gq_size.load() != 0 || sched.stw_waiting.load()) return false;
  if (syscall_n_blocking.load() != 0 || syscall_waiters() != 0) return false;
  for (int i = 0; i < n; i++) {
    P* pp = sched.allp[i];
    if (pp->status.load(std::memory_order_relaxed) != PStatus::kIdle) return false;
    if (!pp->runq.empty() || !pp->inbox.empty()) return false;
    if (io_inflight(pp) != 0 || poll_sources_deadline(pp) >= 0) return false;
  }
  return true;
}

}  // namespace

void plain_wait_begin() noexcept { n_plain_waiting.fetch_add(1, std::memory_order_seq_cst); }
void plain_wait_end() noexcept { n_plain_waiting.fetch_sub(1, std::memory_order_seq_cst); }
int plain_waits() noexcept { return n_plain_waiting.load(std::memory_order_seq_cst); }

void deadlock_reset() noexcept {
  candidate_since = -1;
  last_count_ns = 0;
}

void check_deadlock(std::int64_t now) noexcept {
  if (!all_asleep()) {
    candidate_since = -1;
    return;
  }
  if (now - last_count_ns < kThreadCountEveryNs) return;
  last_count_ns = now;
  const int known = sched.mcount.load() + 1 /* sysmon */ + n_plain_waiting.load() + n_no_wakers.load();
  if (process_threads() != known || !all_asleep()) {
    candidate_since = -1;
    return;
  }
  const std::uint64_t sig = activity();
  if (candidate_since < 0 || sig != candidate_sig) {
    candidate_since = now;
    candidate_sig = sig;
    return;
  }
  if (now - candidate_since < kConfirmNs) return;
  std::fflush(stdout);
  errorf("fatal error: all goroutines are asleep - deadlock!\n");
  dump_goroutines(2, true);
  fatal_exit();
}

}  // namespace gmp::detail

namespace gmp {

void thread_wakes_no_goroutine() noexcept {
  if (detail::no_waker_mark.marked) return;
  detail::no_waker_mark.marked = true;
  detail::n_no_wakers.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace gmp
