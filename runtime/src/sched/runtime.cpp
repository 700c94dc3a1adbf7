// sched/runtime.cpp — starting and stopping the runtime; the public
// gmp/runtime.hpp API.
#include <sched.h>
#include <unistd.h>

#include <pthread.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "sched/dump.hpp"
#include "sched/deadlock.hpp"
#include "sched/exit.hpp"
#include "gmp/go.hpp"
#include "base/futex.hpp"
#include "sched/allgs.hpp"
#include "io/ring.hpp"
#include "sched/sched.hpp"
#include "sched/signals.hpp"
#include "sched/syscall.hpp"
#include "sched/sysmon.hpp"
#include "sync/elided_lock.hpp"
#include "stack/stack.hpp"
#include "stw/stw.hpp"
#include "timer/timer.hpp"

namespace gmp {

namespace {
std::mutex lifecycle_mu;  // serialises start/stop
Config empty_config;

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; c++) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}
}  // namespace

Status validate(const Config& cfg) {
  if (cfg.procs < 0 || cfg.procs > detail::kMaxProcs) {
    return Status::error("procs " + std::to_string(cfg.procs) + " is out of range (0 for one per CPU, or 1 to " +
                         std::to_string(detail::kMaxProcs) + ")");
  }
  if (cfg.stack_size < detail::kMinStackBytes || cfg.stack_size > detail::kMaxStackBytes) {
    // In bytes unless whole KiB: "0 KiB" for 64 bytes would hide the value.
    std::string given = cfg.stack_size % 1024 == 0 ? std::to_string(cfg.stack_size / 1024) + " KiB"
                                                   : std::to_string(cfg.stack_size) + " bytes";
    return Status::error("stack size " + given + " is out of range (" + std::to_string(detail::kMinStackBytes / 1024) +
                         " KiB to " + std::to_string(detail::kMaxStackBytes / 1024) + " KiB)");
  }
  if (cfg.hog_threshold.count() < 100'000) return Status::error("hog threshold must be at least 100 us");
  if (cfg.spin.count() < 0 || cfg.spin.count() > 10'000'000) return Status::error("spin must be from 0 to 10 ms");
  if (cfg.timer_lead.count() < 0 || cfg.timer_lead.count() > 1'000'000) {
    return Status::error("timer lead must be from 0 to 1 ms");
  }
  if (cfg.stw_boost.count() != 0 && (cfg.stw_boost.count() < 1'000 || cfg.stw_boost.count() > 10'000'000)) {
    return Status::error("stw boost must be 0 (off) or from 1 us to 10 ms");
  }
  if (cfg.stw_slow.count() != 0 && (cfg.stw_slow.count() < 1'000 || cfg.stw_slow.count() > 10'000'000'000)) {
    return Status::error("stw slow-stop threshold must be 0 (off) or from 1 us to 10 s");
  }
  if (!cfg.cpus.empty()) {
    auto allowed = affinity_cpus();
    for (int c : cfg.cpus) {
      bool ok = false;
      for (int a : allowed) ok = ok || a == c;
      if (!ok) {
        std::string list;
        for (int a : allowed) list += (list.empty() ? "" : ",") + std::to_string(a);
        return Status::error("CPU " + std::to_string(c) + " is not available to this process (allowed: " + list + ")");
      }
    }
  }
  return {};
}

Status start(const Config& cfg_in) {
  using namespace detail;
  std::lock_guard<std::mutex> lk(lifecycle_mu);
  if (sched.running.load()) return Status::error("the runtime is already running");
  if (Status st = validate(cfg_in); !st.ok()) return st;
  Config cfg = cfg_in;
  if (cfg.cpus.empty()) cfg.cpus = affinity_cpus();
  if (cfg.procs == 0) cfg.procs = static_cast<int>(cfg.cpus.size());
  // Round the stack up to its class so config() tells what goroutines get.
  cfg.stack_size = stack_class_bytes(stack_class_for(cfg.stack_size));

  sched.cfg = cfg;
  sched.nprocs = cfg.procs;
  sched.allp_len = cfg.procs;
  // gmp::set_procs may grow up to one P per CPU (at least 8): each needs an
  // io ring, made here (io has no per-P hook).
  {
    int cap = cfg.procs;
    int ncpu = static_cast<int>(affinity_cpus().size());
    if (cap < ncpu) cap = ncpu;
    if (cap < 8) cap = 8;
    sched.procs_cap = cap < kMaxProcs ? cap : kMaxProcs;
  }
  sched.stw_waiting.store(false);
  {
    // No M runs yet: the lock is uncontended, taken because the fields are
    // guarded by it.
    LockGuard lk(sched.lock);
    sched.stopwait = 0;
  }
  stw_reset();
  gmp::stw::set_slow_stop_threshold(cfg.stw_slow);
  sched.stopping.store(false);
  sched.stop_requested.store(0);
  sched.sp_gen.store(0);
  {
    LockGuard lk(sched.lock);
    sched.pidle = nullptr;
    sched.npidle.store(0);
    sched.midle = nullptr;
    sched.nwaking = 0;
    sched.gq_head = sched.gq_tail = nullptr;
    sched.gq_size.store(0);
  }
  sched.nmspinning.store(0);
  sched.allm.clear();
  sched.mcount.store(0);
  sched.n_parks = sched.n_unparks = sched.n_hogs = sched.n_hog_moved = sched.n_preempt_requests = 0;
  sched.n_timer_lead_wakeups = sched.n_timer_lead_spin_ns = 0;
  sched.n_live = sched.n_created_outside = 0;
  for (int i = 0; i < cfg.procs; i++) {
    P* pp = new P();
    pp->created_ns.store(nanotime(), std::memory_order_relaxed);
    pp->id = i;
    pp->cpu = cfg.pin ? cfg.cpus[i % cfg.cpus.size()] : -1;
    pp->status.store(PStatus::kRunning);
    sched.allp[i] = pp;
  }
  signals_install();
  exit_hook_install();
  deadlock_reset();
  io_start(sched.procs_cap);
  // Before any M runs: channels made from here on by the P's M are elided.
  if (cfg.procs == 1 && cfg.lock_elision) elision_on();
  sched.running.store(true, std::memory_order_release);
  sysmon_start();
  for (int i = 0; i < cfg.procs; i++) newm(sched.allp[i], false);
  return {};
}

namespace {

// Note [Stopping with goroutines still running]
// gmp::stop asks every M to finish: parked Ms are woken, and the goroutine
// each running M runs is asked to yield (its preempt flag, re-set every
// 10 ms for a G an M picked up meanwhile), so a loop with safe points
// (gmp::preempt_point, any runtime call) lets its M see the stop at once.
// An M can still not come back: its goroutine loops without a safe point,
// sits in a raw blocking system call, or in a gmp::blocking call that does
// not return. gmp::stop then waits for it (and says so once, after
// kStopReportNs: never a silent hang); try_stop gives up at its bound and
// leaves the runtime stopping: its memory stays, since those Ms still use
// it, and the process must end (return from main or exit(): the exit hook
// in exit.cpp ends it without running destructors those Ms could race).
// gmp::run and gmprun do that, as a Go program exits when main returns
// whatever its other goroutines are doing.
constexpr std::int64_t kStopReportNs = 1'000'000'000;
constexpr std::int64_t kStopRecheckNs = 10'000'000;

void flag_running_gs_locked() {
  using namespace detail;
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (G* gp = pp->curg.load(std::memory_order_acquire)) gp->preempt.store(kPreemptYield, std::memory_order_relaxed);
  }
}

// One line naming an M that has not exited and what its P runs.
void report_unstopped(detail::M* mp, std::int64_t waited_ns) {
  using namespace detail;
  LockGuard slk(sched.lock);
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp->m.load(std::memory_order_relaxed) != mp) continue;
    G* gp = pp->curg.load(std::memory_order_acquire);
    if (gp != nullptr) {
      errorf("runtime: gmp::stop has waited %lld ms for M %d: goroutine %llu on P %d (%s) has not reached a safe point",
             static_cast<long long>(waited_ns / 1'000'000), mp->id, static_cast<unsigned long long>(g_id_relaxed(gp)),
             pp->id, pstatus_name(pp->status.load(std::memory_order_relaxed)));
      return;
    }
  }
  errorf("runtime: gmp::stop has waited %lld ms for M %d (in a blocking call or the kernel, without a P)",
         static_cast<long long>(waited_ns / 1'000'000), mp->id);
}

// Stops the runtime (Note [Stopping with goroutines still running]).
// bound_ns < 0: waits as long as it takes. Returns false when an M has not
// exited within bound_ns; the runtime is then left stopping.
bool stop_runtime(std::int64_t bound_ns) {
  using namespace detail;
  std::lock_guard<std::mutex> lk(lifecycle_mu);
  if (!sched.running.load()) return true;
  GMP_CHECK(getm() == nullptr, "runtime: gmp::stop called from a goroutine or M (call it from a plain thread)");
  // Ms exit with goroutines mid-run (and may hand the P around): no more
  // single-owner guarantee from here.
  elision_revoke();
  {
    LockGuard slk(sched.lock);
    sched.stop_requested.store(1);
    sched.stopping.store(true, std::memory_order_release);
    syscall_wake_waiters_locked();
    flag_running_gs_locked();
  }
  const std::int64_t t0 = nanotime();
  // Wake every parked M (running ones notice at their next switch) and
  // join it, then any M started meanwhile (a startm that passed its
  // stopping check, sysmon's hand-off, a stop-the-world's restart), never
  // holding sched.lock across a join: a new M takes it first thing
  // (m_main), so joining it under the lock deadlocked.
  std::size_t joined = 0;
  bool reported = false;
  auto join_new_ms = [&]() -> bool {
    for (;;) {
      std::vector<M*> more;
      {
        LockGuard slk(sched.lock);
        more.assign(sched.allm.begin() + static_cast<std::ptrdiff_t>(joined), sched.allm.end());
      }
      if (more.empty()) return true;
      for (M* mp : more) mp->park.wakeup();
      io_wake_all();  // Ms waiting in their P's ring
      for (M* mp : more) {
        for (;;) {
          std::int64_t now = nanotime();
          if (bound_ns >= 0 && now - t0 >= bound_ns) return false;
          std::int64_t until = now + kStopRecheckNs;
          if (bound_ns >= 0 && until > t0 + bound_ns) until = t0 + bound_ns;
          // pthread_timedjoin_np, not clockjoin: sanitizers know it as a join.
          timespec ts;
          clock_gettime(CLOCK_REALTIME, &ts);
          const std::int64_t abs = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec + (until - now);
          ts.tv_sec = static_cast<time_t>(abs / 1'000'000'000);
          ts.tv_nsec = static_cast<long>(abs % 1'000'000'000);
          if (pthread_timedjoin_np(mp->thread, nullptr, &ts) == 0) break;
          {
            LockGuard slk(sched.lock);
            flag_running_gs_locked();
          }
          io_wake_all();
          if (!reported && nanotime() - t0 >= kStopReportNs && bound_ns < 0) {
            reported = true;
            report_unstopped(mp, nanotime() - t0);
          }
        }
        joined++;
      }
    }
  };
  // Giving up: still join sysmon and every M that has finished (all but
  // the stuck ones), so that no finished thread is left unjoined.
  auto give_up = [&joined] {
    sysmon_stop();
    std::vector<M*> rest;
    {
      LockGuard slk(sched.lock);
      rest.assign(sched.allm.begin() + static_cast<std::ptrdiff_t>(joined), sched.allm.end());
    }
    for (M* mp : rest) (void)pthread_tryjoin_np(mp->thread, nullptr);
    return false;
  };
  if (!join_new_ms()) return give_up();
  sysmon_stop();
  if (!join_new_ms()) return give_up();  // sysmon may have started one before it stopped
  io_stop();
  {
    LockGuard slk(sched.lock);
    for (M* mp : sched.allm) delete mp;
    sched.allm.clear();
  }
  // Disarm every timer first: most nodes live on the stacks unmapped below.
  timers_drop_all();
  // Discard what never ran; unmap every stack.
  allgs.for_each([](G* gp) {
    GStatus st = gp->status.load();
    if (st == GStatus::kRunnable || st == GStatus::kWaiting) g_discard(gp);
  });
  sched.nprocs = sched.allp_len;  // purge the caches of Ps removed by set_procs too
  gfree_purge();
  for (int i = 0; i < sched.allp_len; i++) {
    delete sched.allp[i];
    sched.allp[i] = nullptr;
  }
  sched.nprocs = 0;
  sched.allp_len = 0;
  signals_uninstall();
  sched.running.store(false, std::memory_order_release);
  return true;
}

}  // namespace

void stop() { stop_runtime(-1); }

bool try_stop(std::chrono::nanoseconds grace) { return stop_runtime(grace.count() < 0 ? 0 : grace.count()); }

int run(const Config& cfg, std::function<int()> main_fn) {
  if (Status st = start(cfg); !st.ok()) {
    std::fprintf(stderr, "gmp: cannot start the runtime: %s\n", st.message().c_str());
    return 2;
  }
  int rc = 0;
  detail::Note done;
  // This thread cannot wake a goroutine until main returns; main's
  // goroutine ends the count as it wakes us (Note [Deadlock]).
  detail::plain_wait_begin();
  go([&] {
    rc = main_fn();
    detail::plain_wait_end();
    done.wakeup();
  });
  done.sleep();
  // When main returns the program ends (Note [Stopping with goroutines
  // still running]): if the others cannot be stopped in time, exit.
  if (!try_stop(detail::kExitGrace)) {
    std::fflush(nullptr);
    std::exit(rc);
  }
  return rc;
}

bool running() noexcept { return detail::sched.running.load(std::memory_order_acquire); }

int procs() noexcept { return running() ? detail::sched.nprocs.load(std::memory_order_relaxed) : 0; }

const Config& config() noexcept { return running() ? detail::sched.cfg : empty_config; }

SchedStats sched_stats() noexcept {
  using namespace detail;
  SchedStats s;
  for (int i = 0; i < sched.allp_len; i++) {  // removed Ps' counts too
    P* pp = sched.allp[i];
    if (pp == nullptr) continue;
    s.goroutines_created += pp->n_created.load(std::memory_order_relaxed);
    s.context_switches += pp->n_switches.load(std::memory_order_relaxed);
    s.steals += pp->n_steals.load(std::memory_order_relaxed);
    s.stolen_goroutines += pp->n_stolen.load(std::memory_order_relaxed);
  }
  s.goroutines_created += sched.n_created_outside.load(std::memory_order_relaxed);
  s.goroutines_live = sched.n_live.load(std::memory_order_relaxed);
  s.m_parks = sched.n_parks.load(std::memory_order_relaxed);
  s.timer_lead_wakeups = sched.n_timer_lead_wakeups.load(std::memory_order_relaxed);
  s.timer_lead_spin_ns = sched.n_timer_lead_spin_ns.load(std::memory_order_relaxed);
  s.lock_elision = elision_enabled();
  s.lock_elision_revocations = elision_revocations();
  s.m_unparks = sched.n_unparks.load(std::memory_order_relaxed);
  s.hogs = sched.n_hogs.load(std::memory_order_relaxed);
  s.preempt_requests = sched.n_preempt_requests.load(std::memory_order_relaxed);
  s.hog_moved = sched.n_hog_moved.load(std::memory_order_relaxed);
  s.global_queue_len = sched.gq_size.load(std::memory_order_relaxed);
  s.stacks_mapped = stacks_mapped();
  s.stacks_released = stacks_scavenged();
  const gmp::stw::BoostStats b = gmp::stw::boost_stats();
  s.stw_boosts = b.boosts;
  s.stw_boost_failures = b.failures;
  return s;
}

}  // namespace gmp
