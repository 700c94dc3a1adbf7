// stw/explain.cpp — why a slow stop-the-world was slow, from the kernel's
// per-thread scheduler accounting.
//
// Note [Slow stops explained]
// A stop waits for each running P's goroutine to reach a safe point. When
// that takes hundreds of µs the runtime cannot see why from the inside: the
// M's thread may be runnable while another thread holds its CPU (a time
// slice, a kernel thread that does not yield: docs/STW.md, "Priority
// boost"), on its CPU without reaching a safe point (a loop without
// gmp::preempt_point(), a long system call or page fault), or neither (blocked
// in the kernel, or its vCPU descheduled by the host, which a guest with
// steal-time accounting counts as neither). The kernel keeps two numbers per
// thread that separate these: its CPU time (the thread's CPU-time clock,
// exact even while it runs on another CPU) and its run delay, the time it
// spent runnable on a run queue (the second field of
// /proc/self/task/<tid>/schedstat; updated when the thread gets a CPU, so
// exact once it has run again).
//
// So, once per stop, when the stop has lasted half the threshold (100 µs by
// default) without every P stopping, the stopper records both numbers for
// the M of each P still not stopped (up to kMaxMarks) and for itself, and
// after the restart, if the pause reached the threshold, reads them again.
// The first reading is inside the pause: a pread of the thread's schedstat
// (kept open) costs ~1 µs warm but ~20 µs cold, as it is in a stop that
// comes every few ms, plus ~3 µs for a clock; the stopper makes them one
// at a time and looks at all_stopped between them, so a P that stops
// meanwhile waits at most one of them to be noticed. The second reading is
// after the restart, outside the pause. Whoever stops a P notes which, and
// when (under sched.lock); the P stopped last is the one the stop waited
// for. After the restart, a stop whose total reached the threshold is
// classified, in this order:
//   held             the stopper's work while stopped plus the restart
//                    took longer than stopping;
//   sched_lock       the stopper slept on sched.lock for half of stopping;
//   stopper_wakeup   the last P stopped, and half of stopping passed before
//                    the stopper, asleep, noticed (its futex wake-up);
//   unknown          no snapshot, or the accounting could not be read;
//   stopper_preempted the stopper was runnable but off its CPU for half of
//                    the observed window (snapshot → second reading);
//   m_preempted      the last P's M was runnable but off its CPU for half
//                    (and on a CPU less than 1 ms);
//   no_safe_point    that M was on a CPU for half, or for 1 ms (a goroutine
//                    with safe points stops within µs of getting a CPU);
//   m_blocked        the rest: neither.
// Each cause is counted; the last 16 are kept (describe() makes a line of
// one) and traced (probe stw_slow). The window starts at the snapshot, not
// at the decision: it explains where the stop's time went after its first
// half-threshold, which is most of a stop over the threshold.
//
// Protection: the per-stop state below is the stopper's (serialized by
// world_mu); last_p is written under sched.lock and read by the stopper after
// every P has stopped (all_stopped, seq_cst, set under the same lock);
// counts are relaxed atomics; the recent ring is guarded by recent_mu.
#include "stw/explain.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>

#include "base/clock.hpp"
#include "sched/hooks.hpp"
#include "sched/sched.hpp"
#include "stw/boost.hpp"
#include "stw/reasons.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

constexpr int kCauses = static_cast<int>(gmp::stw::SlowCause::kCount);
constexpr const char* kCauseNames[] = {
    "m_preempted",        // kMPreempted
    "no_safe_point",      // kNoSafePoint
    "m_blocked",          // kMBlocked
    "stopper_preempted",  // kStopperPreempted
    "sched_lock",         // kSchedLock
    "held",               // kHeld
    "unknown",            // kUnknown
    "stopper_wakeup",     // kStopperWakeup
};
static_assert(std::size(kCauseNames) == kCauses, "stw: every SlowCause needs a name");

constexpr int kMaxMarks = 8;
// An M on a CPU this long during the window without stopping its P runs a
// goroutine without safe points (one with them stops within microseconds
// of getting a CPU), however long it was also held off the CPU.
constexpr std::int64_t kNoSafePointCpuNs = 1'000'000;
bool no_safe_point(std::int64_t on_cpu_ns, std::int64_t window_ns) noexcept {
  return on_cpu_ns * 2 >= window_ns || on_cpu_ns >= kNoSafePointCpuNs;
}
constexpr int kRecent = 16;

// One thread's accounting at the snapshot, then its change up to the stop.
struct Mark {
  int tid = 0;  // 0: the P had no M to observe (p_state says what it was)
  int fd = -1;  // the M's schedstat (M::schedstat_fd), or -1: open by path
  char p_state = '?';
  int m_id = -1;
  int p_id = -1;
  std::int64_t cpu_ns = -1;    // CPU-time clock at the snapshot
  std::int64_t delay_ns = -1;  // run delay at the snapshot
  std::int64_t cpu_d = -1;     // changes by the end of stopping (-1: unread)
  std::int64_t delay_d = -1;
};

// The stopper's (Protection in the Note).
bool snapped = false;
bool read_ok = false;  // the snapshot and the end were both read
bool stopped = false;  // every P is stopped: later lock waits are the restart's
bool snap_cut = false;  // the stop ended before the snapshot was complete
std::int64_t snap_ns = 0;
Mark self_mark;
Mark marks[kMaxMarks];
int nmarks = 0;
std::int64_t lock_wait_ns = 0;
int lock_holder = 0;

int last_p = -1;               // under sched.lock (the Note)
std::int64_t last_stop_ns = 0;  // when it stopped; under sched.lock
std::int64_t stopped_ns = 0;    // when the stopper saw every P stopped (the stopper's)

std::atomic<std::int64_t> threshold_ns{200'000};
std::atomic<std::uint64_t> counts[kCauses] = {};
std::mutex recent_mu;
gmp::stw::SlowStop recent[kRecent];  // guarded by recent_mu
int recent_n = 0, recent_next = 0;   // guarded by recent_mu

const char* proc_root = "/proc";

// The run delay of thread tid (ns), or -1. own_fd: its M's schedstat,
// opened at the M's start (M::schedstat_fd); other threads (a plain-thread
// stopper, a test's proc root) open the file for the one read.
std::int64_t read_delay(int tid, int own_fd) noexcept {
  const bool own = own_fd >= 0 && std::strcmp(proc_root, "/proc") == 0;
  int fd = own_fd;
  if (!own) {
    char path[96];
    std::snprintf(path, sizeof path, "%s/self/task/%d/schedstat", proc_root, tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
  }
  char buf[96];
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (!own) close(fd);
  if (n <= 0) return -1;  // the thread has exited
  buf[n] = '\0';
  unsigned long long exec = 0, delay = 0;
  if (std::sscanf(buf, "%llu %llu", &exec, &delay) != 2) return -1;
  return static_cast<std::int64_t>(delay);
}

// The state letter of thread tid (R, S, D, ...), or '?'.
char read_state(int tid) noexcept {
  char path[96];
  std::snprintf(path, sizeof path, "%s/self/task/%d/stat", proc_root, tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return '?';
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return '?';
  buf[n] = '\0';
  // "tid (comm) S ...": comm may hold spaces and parentheses; the state
  // follows the last ')'.
  const char* close_paren = std::strrchr(buf, ')');
  return close_paren != nullptr && close_paren[1] == ' ' && close_paren[2] != '\0' ? close_paren[2] : '?';
}

// The change since the snapshot; false if either number could not be read.
bool settle(Mark& k) noexcept {
  if (k.cpu_ns < 0 || k.delay_ns < 0) return false;
  std::int64_t cpu = thread_cpu_ns(k.tid), delay = read_delay(k.tid, k.fd);
  if (cpu < 0 || delay < 0) return false;
  k.cpu_d = cpu - k.cpu_ns;
  k.delay_d = delay - k.delay_ns;
  return true;
}

std::uint64_t us(std::uint64_t ns) { return (ns + 500) / 1000; }

}  // namespace

void stw_explain_init_m(M* mp) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", static_cast<int>(gettid()));
  mp->schedstat_fd.store(open(path, O_RDONLY | O_CLOEXEC), std::memory_order_relaxed);
}

void stw_explain_fini_m(M* mp) noexcept {
  const int fd = mp->schedstat_fd.exchange(-1, std::memory_order_relaxed);
  if (fd >= 0) close(fd);
}

namespace {

const MpHooks kExplainMpHooks{"stw explain", stw_explain_init_m, stw_explain_fini_m, nullptr, nullptr, nullptr};

struct Registrar {
  Registrar() noexcept { register_mp_hooks(&kExplainMpHooks); }
} registrar;

}  // namespace

void stw_explain_begin() noexcept {
  snapped = false;
  stopped = false;
  read_ok = false;
  nmarks = 0;
  lock_wait_ns = 0;
  lock_holder = 0;
}

std::int64_t stw_explain_snapshot_after() noexcept {
  const std::int64_t limit = threshold_ns.load(std::memory_order_relaxed);
  return limit == 0 ? -1 : limit / 2;
}

void stw_explain_snapshot(P* caller_p, std::int64_t now, const std::atomic<bool>& all_stopped) noexcept {
  if (snapped || threshold_ns.load(std::memory_order_relaxed) == 0) return;
  snapped = true;
  snap_ns = now;
  nmarks = 0;
  for (int i = 0; i < sched.nprocs && nmarks < kMaxMarks; i++) {
    P* pp = sched.allp[i];
    if (pp == caller_p || pp->status.load(std::memory_order_acquire) == PStatus::kStopped) continue;
    M* mp = pp->m.load(std::memory_order_acquire);
    Mark& k = marks[nmarks++];
    k = Mark{};
    k.p_id = pp->id;
    const PStatus st = pp->status.load(std::memory_order_relaxed);
    k.p_state = st == PStatus::kIdle ? 'i' : st == PStatus::kRunning ? 'r' : st == PStatus::kSyscall ? 's' : '?';
    k.tid = mp != nullptr ? mp->tid.load(std::memory_order_acquire) : 0;
    if (k.tid == 0) continue;  // nothing to read: kept for its P's state
    k.m_id = mp->id;
    k.fd = mp->schedstat_fd.load(std::memory_order_relaxed);
  }
  // One system call at a time, each ~1-20 µs: the stop may end meanwhile,
  // and then the stopper must notice at once, not after the rest.
  self_mark = Mark{};
  self_mark.tid = static_cast<int>(gettid());
  if (M* me = getm()) self_mark.fd = me->schedstat_fd.load(std::memory_order_relaxed);
  snap_cut = false;
  for (int i = -1; i < nmarks && !snap_cut; i++) {
    Mark& k = i < 0 ? self_mark : marks[i];
    if (k.tid == 0) continue;
    if ((snap_cut = all_stopped.load(std::memory_order_acquire))) break;
    k.cpu_ns = thread_cpu_ns(k.tid);
    if ((snap_cut = all_stopped.load(std::memory_order_acquire))) break;
    k.delay_ns = read_delay(k.tid, k.fd);
  }
}

void stw_explain_lock_wait(std::int64_t ns, int holder_tid) noexcept {
  if (stopped) return;
  lock_wait_ns += ns;
  if (holder_tid > 0) lock_holder = holder_tid;
}

void stw_explain_note_last(int p_id) noexcept {
  last_p = p_id;
  last_stop_ns = nanotime();
}

void stw_explain_stopped(std::int64_t t1) noexcept {
  stopped = true;
  stopped_ns = t1;
}

void stw_explain_finish(gmp::stw::Reason r, std::uint64_t gen, std::int64_t stopping_ns,
                        std::int64_t total_ns) noexcept {
  using gmp::stw::SlowCause;
  const std::int64_t limit = threshold_ns.load(std::memory_order_relaxed);
  if (limit == 0 || total_ns < limit) return;
  gmp::stw::SlowStop s;
  s.generation = gen;
  s.reason = r;
  s.stopping_ns = static_cast<std::uint64_t>(stopping_ns);
  s.total_ns = static_cast<std::uint64_t>(total_ns);
  s.p = last_p;
  const Mark* k = nullptr;
  for (int i = 0; i < nmarks; i++) {
    if (marks[i].p_id == last_p) k = &marks[i];
  }
  if (k != nullptr) {
    s.m = k->m_id;
    s.tid = k->tid;
    s.p_state = k->tid == 0 ? k->p_state : '?';
  }
  // The second reading, after the restart (outside the pause): the window
  // runs to it, so the M's few µs of spinning for the restart count as on
  // a CPU (Note [Slow stops explained]).
  std::int64_t window = 0;
  if (snapped) {
    read_ok = settle(self_mark);
    for (int i = 0; i < nmarks; i++) {
      if (marks[i].tid != 0) read_ok = settle(marks[i]) && read_ok;
    }
    window = nanotime() - snap_ns;
  }
  if (total_ns - stopping_ns > stopping_ns) {
    s.cause = SlowCause::kHeld;
    s.cause_ns = static_cast<std::uint64_t>(total_ns - stopping_ns);
  } else if (lock_wait_ns * 2 >= stopping_ns) {
    s.cause = SlowCause::kSchedLock;
    s.cause_ns = static_cast<std::uint64_t>(lock_wait_ns);
    s.tid = lock_holder;
    s.m = -1;
    s.holder_sysmon = lock_holder != 0 && lock_holder == sched.sysmon_tid.load(std::memory_order_relaxed);
    if (M* holder = stw_m_by_tid(lock_holder)) s.m = holder->id;
  } else if ((stopped_ns - last_stop_ns) * 2 >= stopping_ns) {
    // The last P stopped in time; the stopper was asleep and its wake-up
    // (a futex wake in a VM: tens of µs, more under load) was the rest.
    s.cause = SlowCause::kStopperWakeup;
    s.cause_ns = static_cast<std::uint64_t>(stopped_ns - last_stop_ns);
  } else if (!snapped || !read_ok || window <= 0 || k == nullptr || k->tid == 0) {
    s.cause = SlowCause::kUnknown;
    s.cause_ns = static_cast<std::uint64_t>(stopping_ns);
    if (snap_cut) s.p_state = '-';
  } else {
    s.window_ns = static_cast<std::uint64_t>(window);
    // A wait that began before the snapshot is added to the run delay
    // whole when the thread gets its CPU: count the window's part only.
    auto part = [&](std::int64_t d) { return static_cast<std::uint64_t>(d < 0 ? 0 : d > window ? window : d); };
    s.on_cpu_ns = part(k->cpu_d);
    s.runnable_ns = part(k->delay_d);
    if (self_mark.delay_d * 2 >= window) {
      s.cause = SlowCause::kStopperPreempted;
      s.cause_ns = part(self_mark.delay_d);
      s.tid = self_mark.tid;
      s.m = -1;
    } else if (no_safe_point(k->cpu_d, window)) {
      s.cause = SlowCause::kNoSafePoint;
      s.cause_ns = s.on_cpu_ns;
    } else if (k->delay_d * 2 >= window) {
      s.cause = SlowCause::kMPreempted;
      s.cause_ns = s.runnable_ns;
    } else {
      s.cause = SlowCause::kMBlocked;
      const std::int64_t rest = window - static_cast<std::int64_t>(s.on_cpu_ns + s.runnable_ns);
      s.cause_ns = static_cast<std::uint64_t>(rest > 0 ? rest : 0);
    }
  }
  counts[static_cast<int>(s.cause)].fetch_add(1, std::memory_order_relaxed);
  GMP_PROBE_STW_SLOW(static_cast<int>(r), gen, static_cast<int>(s.cause), s.cause_ns);
  std::lock_guard<std::mutex> lk(recent_mu);
  recent[recent_next] = s;
  recent_next = (recent_next + 1) % kRecent;
  if (recent_n < kRecent) recent_n++;
}

bool stw_explain_lag(int p_id, std::int64_t now, LagAccount* out) noexcept {
  if (!snapped) return false;
  for (int i = 0; i < nmarks; i++) {
    const Mark& k = marks[i];
    if (k.p_id != p_id || k.cpu_ns < 0 || k.delay_ns < 0) continue;
    const std::int64_t cpu = thread_cpu_ns(k.tid), delay = read_delay(k.tid, k.fd);
    if (cpu < 0 || delay < 0) return false;
    out->m_id = k.m_id;
    out->tid = k.tid;
    out->window_ns = now - snap_ns;
    out->on_cpu_ns = cpu - k.cpu_ns;
    // The current wait is added to the run delay only when the thread gets
    // its CPU back: a thread still waiting shows the rest as neither.
    out->runnable_ns = delay - k.delay_ns;
    out->state = read_state(k.tid);
    return true;
  }
  return false;
}

bool stw_explain_lag_is_no_safe_point(const LagAccount& lag) noexcept {
  return no_safe_point(lag.on_cpu_ns, lag.window_ns);
}

std::int64_t stw_explain_lock_waited(int* holder_tid) noexcept {
  *holder_tid = lock_holder;
  return lock_wait_ns;
}

void stw_explain_reset() noexcept {
  for (auto& c : counts) c.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lk(recent_mu);
  recent_n = 0;
  recent_next = 0;
}

void stw_explain_set_proc_root(const char* root) noexcept { proc_root = root; }

}  // namespace gmp::detail

namespace gmp::stw {

const char* slow_cause_name(SlowCause c) noexcept {
  const int i = static_cast<int>(c);
  return i >= 0 && i < detail::kCauses ? detail::kCauseNames[i] : "?";
}

std::string describe(const SlowStop& s) {
  using detail::us;
  char head[160];
  std::snprintf(head, sizeof head, "stop-the-world (%s, generation %llu) took %llu us (stopping %llu us): ",
                reason_name(s.reason), static_cast<unsigned long long>(s.generation),
                static_cast<unsigned long long>(us(s.total_ns)), static_cast<unsigned long long>(us(s.stopping_ns)));
  char m[64];
  std::snprintf(m, sizeof m, "P %d's M %d (thread %d)", s.p, s.m, s.tid);
  char body[320];
  const auto c = static_cast<unsigned long long>(us(s.cause_ns));
  const auto w = static_cast<unsigned long long>(us(s.window_ns));
  switch (s.cause) {
    case SlowCause::kMPreempted:
      std::snprintf(body, sizeof body, "%s was runnable but off its CPU for %llu of the last %llu us: another thread held the CPU", m, c, w);
      break;
    case SlowCause::kNoSafePoint:
      std::snprintf(body, sizeof body, "%s was on a CPU for %llu of the last %llu us without reaching a safe point (a loop without gmp::preempt_point(), or a long stay in the kernel)", m, c, w);
      break;
    case SlowCause::kMBlocked:
      std::snprintf(body, sizeof body, "%s was neither on a CPU nor runnable for %llu of the last %llu us: blocked in the kernel, or its vCPU held by the host", m, c, w);
      break;
    case SlowCause::kStopperPreempted:
      std::snprintf(body, sizeof body, "the stopping thread (thread %d) was runnable but off its CPU for %llu of the last %llu us", s.tid, c, w);
      break;
    case SlowCause::kSchedLock: {
      char who[48];
      if (s.holder_sysmon) {
        std::snprintf(who, sizeof who, "sysmon, thread %d", s.tid);
      } else if (s.m >= 0) {
        std::snprintf(who, sizeof who, "M %d, thread %d", s.m, s.tid);
      } else {
        std::snprintf(who, sizeof who, "thread %d", s.tid);
      }
      std::snprintf(body, sizeof body, "the stopper waited %llu us for the scheduler lock (held by %s)", c, who);
      break;
    }
    case SlowCause::kStopperWakeup:
      std::snprintf(body, sizeof body, "P %d, the last, stopped in time; the stopper, asleep, noticed it %llu us later", s.p, c);
      break;
    case SlowCause::kHeld:
      std::snprintf(body, sizeof body, "every P stopped in time; the world stayed stopped %llu us more (the stopper's own work, then the restart)", c);
      break;
    default:
      if (s.p_state == '-') {
        std::snprintf(body, sizeof body, "P %d, the last, stopped while the stopper was still taking its snapshot", s.p);
      } else if (s.m < 0) {
        const char* state = s.p_state == 'i'   ? "idle"
                            : s.p_state == 'r' ? "running with no M yet (handed to an M still waking up)"
                            : s.p_state == 's' ? "in a blocking call with no M recorded"
                                               : "already stopped (it stopped during the snapshot)";
        std::snprintf(body, sizeof body, "P %d, stopped last, had no M to observe when the stopper looked: %s", s.p, state);
      } else {
        std::snprintf(body, sizeof body, "no per-thread scheduler statistics to say why %s was late (/proc/self/task/<tid>/schedstat not readable)", m);
      }
      break;
  }
  return std::string(head) + body;
}

void set_slow_stop_threshold(std::chrono::nanoseconds t) noexcept {
  detail::threshold_ns.store(t.count() < 0 ? 0 : t.count(), std::memory_order_relaxed);
}

std::uint64_t slow_stops(SlowCause c) noexcept {
  const int i = static_cast<int>(c);
  return i >= 0 && i < detail::kCauses ? detail::counts[i].load(std::memory_order_relaxed) : 0;
}

std::vector<SlowStop> recent_slow_stops() {
  std::lock_guard<std::mutex> lk(detail::recent_mu);
  std::vector<SlowStop> out;
  out.reserve(static_cast<std::size_t>(detail::recent_n));
  const int first = (detail::recent_next - detail::recent_n + detail::kRecent) % detail::kRecent;
  for (int i = 0; i < detail::recent_n; i++) out.push_back(detail::recent[(first + i) % detail::kRecent]);
  return out;
}

}  // namespace gmp::stw
