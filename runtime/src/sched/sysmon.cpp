// sched/sysmon.cpp — the system monitor: one thread, no P (Go's sysmon).
//
// Every tick (20 µs while it has work to do, backing off to 10 ms when
// nothing needs it) it:
//   - refreshes sched.coarse_now_ns (state timestamps without clock reads);
//   - flags a goroutine that has held its P past Config::hog_threshold
//     without a new schedule tick: sets its preempt flag (it yields at its
//     next safe point), counts and reports it once, and moves the rest of its
//     P's queue to the global queue so other Ps run it. C++ has no stack maps,
//     so there is no asynchronous preemption: a loop without safe points keeps
//     its P, but no longer starves the goroutines queued behind it;
//   - asks a G that runs on without switching to poll its P's due timers and
//     io completions at its next safe point (kPreemptPoll): they are polled at
//     switches only, and no other P can reap a P's ring (the timer module's
//     own hook also has an idle P steal overdue timers, where one exists);
//   - wakes a P when some P sits on queued work while Ps idle and no M spins
//     (a G parked in an empty runnext does not wake anyone by itself);
//   - reports a deadlock when nothing can run or wake anything (Note
//     [Deadlock] in deadlock.cpp);
//   - reports a goroutine asleep in a raw blocking system call while its P
//     has queued work, and moves that work (Note [Raw blocking calls]).
#include "sched/sysmon.hpp"

#include <mutex>
#include <thread>

#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "sched/deadlock.hpp"
#include "sched/sched.hpp"
#include "sched/signals.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

struct PTick {
  std::uint32_t schedtick = 0;
  std::int64_t tick_since_ns = 0;    // when schedtick last changed
  bool slice_flagged = false;        // preempt already requested for this slice
  std::int64_t flagged_ns = 0;       // when it was requested
  std::uint64_t switches = 0;
  std::int64_t switch_since_ns = 0;  // when the P last switched goroutines
  bool hog_flagged = false;          // this hog was already reported
  std::int64_t confirm_wall_ns = 0;  // hog suspected: when, and the M's CPU
  std::int64_t confirm_cpu_ns = -1;  // time then (-1: not suspected)
};

// CPU time of pp's M thread, or -1.
std::int64_t m_cpu_ns(P* pp) noexcept {
  M* mp = pp->m.load(std::memory_order_acquire);
  return mp == nullptr ? -1 : thread_cpu_ns(mp->tid.load(std::memory_order_acquire));
}

// Note [Raw blocking calls]
// A goroutine that calls read(2) (or any blocking system call) directly,
// not through gmp::blocking or gmp::io, keeps its P while its M sleeps in
// the kernel: nothing else runs on that P meanwhile. The hog clock sees a
// P without a switch; the CPU-time check then finds its M off the CPU, and
// its state in /proc ('S' or 'D': asleep, not runnable 'R') tells a blocked
// call from an M the kernel merely preempted. If the P has queued work,
// sysmon reports it once per call, counts it as a hog, and moves the P's
// queue to the global queue for other Ps (not the P itself: the M still
// owns it and carries on with it when the call returns). With one P there
// is nowhere to move it: the report says so.

// The state letter of pp's M thread (/proc/self/task/TID/stat), or '?'.
char m_state(P* pp) noexcept {
  M* mp = pp->m.load(std::memory_order_acquire);
  const int tid = mp == nullptr ? 0 : mp->tid.load(std::memory_order_acquire);
  if (tid <= 0) return '?';
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return '?';
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return '?';
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');
  return paren != nullptr && paren[1] == ' ' ? paren[2] : '?';
}

int m_id(P* pp) noexcept {
  M* mp = pp->m.load(std::memory_order_acquire);
  return mp == nullptr ? -1 : mp->id;
}

bool has_queued_work(P* pp) noexcept {
  return !pp->runq.empty() || !pp->inbox.empty() || sched.gq_size.load(std::memory_order_relaxed) > 0;
}

constexpr std::int64_t kMinDelayNs = 20'000;
constexpr std::int64_t kMaxDelayNs = 10'000'000;
// How long a P may go without a switch before sysmon asks its G to poll due
// timers and io completions.
constexpr std::int64_t kPollNudgeNs = 50'000;

std::thread sysmon_thread;
Note sysmon_note;  // woken at stop
PTick ticks[kMaxProcs];

constexpr int kMaxHooks = 8;
SysmonHook hooks[kMaxHooks];  // written during static init only (constant-initialised)
int n_hooks = 0;

// Moves everything queued on pp to the global queue. Returns the count.
std::uint32_t move_queue(P* pp) noexcept {
  // A lone P's runnext belongs to its owner alone (Note [One P] in runq.cpp),
  // and there is no other P to run what would be moved.
  if (sched.nprocs == 1) return 0;
  G* head = nullptr;
  G* tail = nullptr;
  std::uint32_t n = 0;
  G* next = pp->runq.runnext.load(std::memory_order_acquire);
  if (next != nullptr && pp->runq.runnext.compare_exchange_strong(next, nullptr)) {
    head = tail = next;
    n++;
  }
  while (G* gp = pp->runq.steal_one()) {
    if (tail == nullptr) head = gp; else tail->sched_link = gp;
    tail = gp;
    n++;
  }
  if (n == 0) return 0;
  LockGuard lk(sched.lock);
  globrunq_put_batch_locked(head, tail, n);
  return n;
}

struct TickResult {
  bool acted = false;    // a preempt request, a hog, or a wake-up was needed
  bool syscall = false;  // some P is in a blocking call (retake needs fast ticks)
};

// One pass over the Ps.
//
// Two clocks per P (Go has only the first):
//   - the time slice: schedtick unchanged for hog_threshold (a chain of
//     runnext hand-offs shares one slice; time in blocking calls that keep
//     the P counts) -> ask the running G to yield at its next safe point;
//   - the hog clock: no switch at all on the P for hog_threshold, and no
//     yield within a grace (threshold/10) after the request, and its M's
//     thread on a CPU for at least half of a further tenth (thread CPU clock) -> the
//     same G has run that long without a safe point: report it once, count it, and
//     move the P's queue to the global queue so other Ps run it.
TickResult check_ps(std::int64_t now) noexcept {
  TickResult r;
  const std::int64_t limit = sched.cfg.hog_threshold.count();
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    PTick& t = ticks[i];
    G* gp = pp->curg.load(std::memory_order_acquire);
    PStatus st = pp->status.load(std::memory_order_relaxed);
    bool running = st == PStatus::kRunning && gp != nullptr;
    // The slice also runs while the G is in a blocking call that keeps its
    // P (Go's sysretake): a G looping on short calls keeps its P on their
    // fast path and reaches no other safe point; entering its next call is
    // one, so it yields there once its slice is over. (Before, finding the
    // P in a call restarted the slice: such a G kept its P indefinitely, and
    // what was queued behind it waited for a retake —
    // Blocking.GoroutineLoopingOnCallsSharesItsP.)
    bool sliced = (st == PStatus::kRunning || st == PStatus::kSyscall) && gp != nullptr;
    std::uint32_t tick = pp->schedtick.load(std::memory_order_relaxed);
    std::uint64_t sw = pp->n_switches.load(std::memory_order_relaxed);
    if (!sliced || tick != t.schedtick) {
      t.schedtick = tick;
      t.tick_since_ns = now;
      t.slice_flagged = false;
    } else if (t.slice_flagged) {
      // Keep asking until the slice ends: the G we asked may have exited
      // (a runnext chain hands the slice on) without reaching a safe point.
      gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
    } else if (now - t.tick_since_ns > limit) {
      t.slice_flagged = true;
      t.flagged_ns = now;
      gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
      GMP_PROBE_PREEMPT_REQUEST(g_id_relaxed(gp), pp->id, now - t.tick_since_ns);
      sched.n_preempt_requests.fetch_add(1, std::memory_order_relaxed);
    }
    if (!running || sw != t.switches) {
      t.switches = sw;
      t.switch_since_ns = now;
      t.hog_flagged = false;
      t.confirm_cpu_ns = -1;
    } else if (!t.hog_flagged && now - t.switch_since_ns > limit && t.slice_flagged &&
               now - t.flagged_ns > limit / 10) {
      // It was asked to yield and did not reach a safe point within a grace
      // of a tenth of the threshold. Before calling it a hog, check over a
      // further tenth that its thread is really on a CPU: an M descheduled
      // by the kernel (an overloaded machine) makes no switches either.
      r.acted = true;
      if (t.confirm_cpu_ns < 0) {
        t.confirm_wall_ns = now;
        t.confirm_cpu_ns = m_cpu_ns(pp);
      } else if (now - t.confirm_wall_ns > limit / 10) {
        std::int64_t cpu = m_cpu_ns(pp);
        bool on_cpu = cpu >= 0 && (cpu - t.confirm_cpu_ns) * 2 >= now - t.confirm_wall_ns;
        t.confirm_cpu_ns = -1;
        if (on_cpu) {
          t.hog_flagged = true;
          std::int64_t ran = now - t.switch_since_ns;
          gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
          sched.n_hogs.fetch_add(1, std::memory_order_relaxed);
          std::uint32_t moved = move_queue(pp);
          sched.n_hog_moved.fetch_add(moved, std::memory_order_relaxed);
          if (sched.cfg.report_hogs && !crash_in_progress()) {
            errorf("runtime: goroutine %llu has run %lld ms on P %d without a safe point; moved %u queued goroutines to other Ps",
                   static_cast<unsigned long long>(g_id_relaxed(gp)), static_cast<long long>(ran / 1'000'000), pp->id, moved);
          }
          if (moved > 0) wakep();
        } else if (char state = m_state(pp); (state == 'S' || state == 'D') && has_queued_work(pp)) {
          // Asleep in the kernel, not runnable: a raw blocking system call
          // (Note [Raw blocking calls]). Reported like a hog.
          t.hog_flagged = true;
          std::int64_t ran = now - t.switch_since_ns;
          sched.n_hogs.fetch_add(1, std::memory_order_relaxed);
          std::uint32_t moved = move_queue(pp);
          sched.n_hog_moved.fetch_add(moved, std::memory_order_relaxed);
          if (sched.cfg.report_hogs && !crash_in_progress()) {
            errorf("runtime: goroutine %llu has been blocked in the kernel for %lld ms on P %d (M %d), not in "
                   "gmp::blocking; %s",
                   static_cast<unsigned long long>(g_id_relaxed(gp)), static_cast<long long>(ran / 1'000'000), pp->id,
                   m_id(pp),
                   sched.nprocs == 1 ? "the goroutines queued on its P wait for it (no other P to move them to)"
                   : moved > 0       ? "moved its P's queued goroutines to other Ps"
                                     : "nothing was queued on its P");
          }
          if (moved > 0) wakep();
        } else {
          t.switch_since_ns = now;  // it was not running: restart the hog clock
        }
      }
    }
    if (pp->status.load(std::memory_order_relaxed) == PStatus::kSyscall) r.syscall = true;
    // A P whose G runs on without switching does not reap its ring or run its
    // timers (they are polled at switches): ask the G to poll at its next
    // safe point when something is due.
    if (running && sw == t.switches && now - t.switch_since_ns > kPollNudgeNs) {
      std::int64_t d = poll_sources_deadline(pp);
      std::uint32_t none = 0;
      if (d >= 0 && d <= now && gp->preempt.compare_exchange_strong(none, kPreemptPoll, std::memory_order_relaxed)) {
        r.acted = true;
      }
    }
    // An idle P with due work (a completion, a timer, a cancel) whose M went
    // elsewhere: the catch-all, as Go's sysmon polls the network when nobody
    // has for 10 ms. Normally the M that idled it waits in its ring.
    if (pp->status.load(std::memory_order_seq_cst) == PStatus::kIdle) {
      std::int64_t d = poll_sources_deadline(pp);
      if (d >= 0 && d <= now) {
        wake_idle_p(pp);
        r.acted = true;
      }
    }
    if (!pp->runq.empty() && sched.npidle.load(std::memory_order_relaxed) > 0 &&
        sched.nmspinning.load(std::memory_order_relaxed) == 0) {
      wakep();
      r.acted = true;
    }
  }
  if (sched.gq_size.load(std::memory_order_relaxed) > 0 && sched.npidle.load(std::memory_order_relaxed) > 0 &&
      sched.nmspinning.load(std::memory_order_relaxed) == 0) {
    wakep();
    r.acted = true;
  }
  return r;
}

void sysmon_main() {
  pthread_setname_np(pthread_self(), "gmp-sysmon");
  sched.sysmon_tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
  std::int64_t delay_ns = kMinDelayNs;
  int idle = 0;
  while (!sched.stopping.load(std::memory_order_acquire)) {
    std::int64_t now = nanotime();
    sched.coarse_now_ns.store(now, std::memory_order_relaxed);
    TickResult r = check_ps(now);
    for (int i = 0; i < n_hooks; i++) hooks[i].fn(now);
    stacks_scavenge(now);
    if (!r.acted && !r.syscall && !crash_in_progress()) check_deadlock(now);
    // As Go's sysmon: tick fast while there is something to do (a hog to
    // confirm, a P to wake, a P in a blocking call to retake), back off
    // (doubling after 50 quiet ticks, up to 10 ms) when there is not. A VM
    // timer wake-up costs ~25 us of CPU: at a fixed 20 us tick sysmon burned
    // 15 % of a core under a ping-pong load. Time slices therefore end 10-20 ms
    // after they start, as in Go.
    if (r.acted || r.syscall) {
      idle = 0;
      delay_ns = kMinDelayNs;
    } else if (++idle > 50) {
      delay_ns = delay_ns * 2 > kMaxDelayNs ? kMaxDelayNs : delay_ns * 2;
    }
    sysmon_note.sleep(nanotime() + delay_ns);
  }
}

}  // namespace

void sysmon_add_hook(SysmonHook hook) noexcept {
  GMP_CHECK(n_hooks < kMaxHooks, "runtime: too many sysmon hooks");
  hooks[n_hooks++] = hook;
}

void sysmon_start() noexcept {
  sysmon_note.clear();
  for (auto& t : ticks) t = PTick{};
  sched.coarse_now_ns.store(nanotime(), std::memory_order_relaxed);
  sysmon_thread = std::thread(sysmon_main);
}

void sysmon_stop() noexcept {
  sysmon_note.wakeup();
  if (sysmon_thread.joinable()) sysmon_thread.join();
}

}  // namespace gmp::detail
