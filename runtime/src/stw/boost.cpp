// stw/boost.cpp — the priority boost of a lagging M during a stop-the-world.
//
// Note [STW boost]
// A stop waits for each running P's goroutine to reach a safe point, which
// only helps while the M's thread runs. When a thread of another process
// (a compiler, a daemon, a kernel thread) holds the M's CPU, CFS/EEVDF lets
// it finish its slice, 1–5 ms here (HZ=250), while the M is runnable: every
// stop over 200 µs traced before this was that (docs/STW.md). Traced again
// with the first version of this boost, the rest were the same thing one
// step removed: the stopper itself preempted on its own CPU, or the stopper
// asleep on sched.lock held by an M preempted on the other CPU. So, when
// Config::stw_boost is on (default: after 20 µs):
//   - a goroutine stopper on a pinned M raises its own thread to SCHED_FIFO
//     priority 1 before the decision and restores it after the restart
//     (stop.cpp; two system calls per stop, outside the measured pause);
//   - once the stop has waited Config::stw_boost, it raises the thread of
//     every M still running a P's goroutine: the kernel preempts the CFS
//     task on that CPU at once and the goroutine reaches its safe point;
//   - a raised stopper that cannot get sched.lock after its short spin
//     raises the lock's holder (glibc's owner tid) if that is an M: a P's
//     M, or one without a P (back from a blocking call, or spinning for
//     work), found by its tid in the registry every M joins at start.
// An M restores its own policy as it stops its P (stw_park_m), before it
// spins for the restart: nothing spins at RT priority but the stopper
// (which spins at most 500 µs before it sleeps), and an M whose raise is
// still in flight does not spin at all. Whatever else happens to a raised
// M (its P was stopped in a blocking call, or freed on another path, or it
// only held the lock), the stopper restores it when every P is stopped (or
// at the end of the restart, for a lock holder raised there), and 2 ms
// after the decision in any case (kBoostMaxNs in stop.cpp; no raise after
// that). A goroutine without a safe point is then named by the hog report
// at 10 ms as before.
//
// Why this is safe. A thread at RT priority starves every CFS thread on its
// CPU, the stopper included if it shares that CPU, and then nothing would
// drop the raise but RT throttling (sched_rt_runtime_us: 950 ms of every
// second). So an M is raised only when it is pinned to a CPU the stopper
// cannot run on: the stopper is a goroutine on a pinned M of another CPU,
// or a plain thread whose affinity excludes the M's CPU. Unpinned Ms
// (Config::pin false) are never raised, nor is anything on a 1-CPU machine
// (a goroutine stopper's own P counts as stopped at once; a plain-thread
// stopper shares the only CPU). The stopper's own raise starves only its
// own CPU, where no M is needed while the world stops (it is not made when
// another P shares that CPU), and it is bounded by the stop's own length:
// stop_the_world's callers do not park or block.
// Raises set reset-on-fork, so a process forked meanwhile is not RT.
//
// The state of a raised M (M::boost; the stopper and the M move it, seq_cst):
//   kNone ──stopper CAS──► kBoosting ──its syscall, then CAS──► kBoosted
//   kBoosted ──CAS by the M (stw_park_m) or by the stopper──► kNone, and
//              the CAS winner restores the policy;
//   kBoosting ──CAS by the M──► kDropWanted: the M reached its stop while
//              the stopper's syscall was in flight; the M does not spin
//              (it may be RT still) and the stopper, whose CAS to kBoosted
//              then fails, restores it.
// Only the stopper raises, inside kBoosting; stoppers are serialized (and
// every stop ends with all its raises resolved), so no raise can land after
// a restore and leave a thread RT. The stopper sets kBoosting and then
// re-reads the P; the M stops the P (kStopped) and then reads the state: one
// sees the other (Dekker), so an M never spins raised because the stopper
// read a stale P status.
//
// Without permission (no CAP_SYS_NICE and RLIMIT_RTPRIO 0, or a cgroup with
// no RT runtime under CONFIG_RT_GROUP_SCHED) the kernel answers EPERM: said
// once per process on stderr, counted, and no further attempt is made until
// the next gmp::start; stops then work as before.
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "base/check.hpp"
#include "gmp/stw.hpp"
#include "sched/hooks.hpp"
#include "sched/sched.hpp"
#include "stw/boost.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

// struct sched_attr, SCHED_ATTR_SIZE_VER0 (glibc before 2.41 has no wrapper).
struct SchedAttr {
  std::uint32_t size = sizeof(SchedAttr);
  std::uint32_t policy = 0;
  std::uint64_t flags = 0;
  std::int32_t nice = 0;
  std::uint32_t priority = 0;
  std::uint64_t runtime = 0, deadline = 0, period = 0;
};
static_assert(sizeof(SchedAttr) == 48, "SCHED_ATTR_SIZE_VER0");

constexpr std::uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK
constexpr std::uint8_t kNone = 0, kBoosting = 1, kBoosted = 2, kDropWanted = 3;

std::atomic<bool> permitted{true};
std::atomic<std::uint64_t> n_boosts{0}, n_failures{0}, n_expired{0};
std::atomic<bool> restore_reported{false};
// The EPERM line is printed once per process, not per gmp::start (a test
// binary or a service that restarts the runtime says it once).
std::atomic<bool> eperm_reported{false};

// Every M of this run, by start order, for the lock-holder raise (a holder
// need not hold a P). Appended by each M as it starts (release), cleared at
// gmp::start before any M runs; Ms beyond kMaxRegistered are never raised
// as lock holders.
constexpr int kMaxRegistered = 256;
std::atomic<M*> registry[kMaxRegistered];
std::atomic<int> n_registered{0};

// Owner only (the stopper, serialized by world_mu):
M* boosted[kMaxProcs];  // boosted by this stop, until dropped
int nboosted = 0;
bool cpus_known = false;
cpu_set_t stopper_cpus;  // where the stopper may run, once per stop

int set_attr(int tid, const SchedAttr& a) noexcept {
  return syscall(SYS_sched_setattr, tid, &a, 0) == 0 ? 0 : -errno;
}

int raise_fifo(int tid) noexcept {
  SchedAttr a;
  a.policy = SCHED_FIFO;
  a.flags = kResetOnFork;
  a.priority = 1;
  return set_attr(tid, a);
}

// Back to the policy and nice the M started with. An unprivileged thread
// (RLIMIT_RTPRIO) may not clear the reset-on-fork flag the boost set: then
// it keeps it (it changes nothing for a SCHED_OTHER thread's own running).
void restore(int tid, const M* mp) noexcept {
  SchedAttr a;
  a.policy = static_cast<std::uint32_t>(mp->boost_policy);
  a.nice = mp->boost_nice;
  int r = set_attr(tid, a);
  if (r == -EPERM) {
    a.flags = kResetOnFork;
    r = set_attr(tid, a);
  }
  if (r != 0) {
    n_failures.fetch_add(1, std::memory_order_relaxed);
    if (!restore_reported.exchange(true, std::memory_order_relaxed)) {
      errorf("runtime: cannot restore the scheduling policy of M %d after a stop-the-world boost: %s", mp->id,
             std::strerror(-r));
    }
  }
}

// May a thread pinned to `cpu` be boosted without starving the stopper?
bool cpu_ok(P* caller_p, int cpu) noexcept {
  if (!sched.cfg.pin || cpu < 0) return false;
  if (!cpus_known) {
    cpus_known = true;
    CPU_ZERO(&stopper_cpus);
    if (caller_p != nullptr) {
      if (caller_p->cpu >= 0) {
        CPU_SET(caller_p->cpu, &stopper_cpus);
      } else {
        CPU_ZERO(&stopper_cpus);
        for (int c = 0; c < CPU_SETSIZE; c++) CPU_SET(c, &stopper_cpus);  // unpinned: anywhere
      }
    } else if (sched_getaffinity(0, sizeof stopper_cpus, &stopper_cpus) != 0) {
      for (int c = 0; c < CPU_SETSIZE; c++) CPU_SET(c, &stopper_cpus);
    }
  }
  return cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &stopper_cpus);
}

void report_eperm() noexcept {
  if (eperm_reported.exchange(true, std::memory_order_relaxed)) return;
  errorf("runtime: stop-the-world boost not permitted (sched_setattr SCHED_FIFO: EPERM; needs CAP_SYS_NICE or "
         "RLIMIT_RTPRIO >= 1, and RT runtime in the cgroup): a stop will wait out other threads' time slices on "
         "its Ms' CPUs (Config::stw_boost = 0 turns the attempt off)");
}

bool listed(const M* mp) noexcept {
  for (int i = 0; i < nboosted; i++) {
    if (boosted[i] == mp) return true;
  }
  return false;
}

// The tail of a raise, once the caller has moved mp->boost from kNone to
// kBoosting: the system call, then kBoosted (or the M's kDropWanted).
void raise_claimed(M* mp, int tid, std::uint64_t gen) noexcept;

void boost_m(P* caller_p, P* pp, std::uint64_t gen, int only_tid = 0) noexcept {
  M* mp = pp->m.load(std::memory_order_acquire);
  if (mp == nullptr || listed(mp) || nboosted == kMaxProcs) return;
  if (only_tid != 0 && mp->tid.load(std::memory_order_relaxed) != only_tid) return;
  const int tid = mp->tid.load(std::memory_order_acquire);
  if (tid == 0) return;
  // An M the user started at RT or idle priority keeps it.
  if (mp->boost_policy != SCHED_OTHER && mp->boost_policy != SCHED_BATCH) return;
  if (!cpu_ok(caller_p, pp->cpu)) return;
  std::uint8_t s = kNone;
  if (!mp->boost.compare_exchange_strong(s, kBoosting, std::memory_order_seq_cst)) return;
  // Dekker with stw_park_m (the Note): the M stores kStopped, then reads
  // boost. (A lock holder is boosted whatever its P's status: the stopper
  // drops it when its wait or its restart ends.)
  if ((only_tid == 0 && pp->status.load(std::memory_order_seq_cst) != PStatus::kRunning) ||
      pp->m.load(std::memory_order_relaxed) != mp) {
    mp->boost.store(kNone, std::memory_order_seq_cst);
    return;
  }
  raise_claimed(mp, tid, gen);
}

// A holder of sched.lock without a P: raised like a P's M, with the CPU it
// is pinned to in place of its P's. It restores nothing itself (it stops
// no P): the stopper drops it with the others.
void boost_pless_holder(P* caller_p, M* mp, std::uint64_t gen) noexcept {
  if (listed(mp) || nboosted == kMaxProcs) return;
  const int tid = mp->tid.load(std::memory_order_acquire);
  if (tid == 0) return;
  if (mp->boost_policy != SCHED_OTHER && mp->boost_policy != SCHED_BATCH) return;
  if (!cpu_ok(caller_p, mp->pinned_cpu.load(std::memory_order_relaxed))) return;
  std::uint8_t s = kNone;
  if (!mp->boost.compare_exchange_strong(s, kBoosting, std::memory_order_seq_cst)) return;
  raise_claimed(mp, tid, gen);
}

void raise_claimed(M* mp, int tid, std::uint64_t gen) noexcept {
  std::uint8_t s = kBoosting;
  const int r = raise_fifo(tid);
  GMP_PROBE_STW_BOOST(gen, mp->id, r);
  if (r != 0) {
    mp->boost.store(kNone, std::memory_order_seq_cst);
    n_failures.fetch_add(1, std::memory_order_relaxed);
    if (r == -EPERM && permitted.exchange(false, std::memory_order_relaxed)) report_eperm();
    return;
  }
  n_boosts.fetch_add(1, std::memory_order_relaxed);
  boosted[nboosted++] = mp;
  if (!mp->boost.compare_exchange_strong(s, kBoosted, std::memory_order_seq_cst)) {
    // kDropWanted: the M stopped meanwhile and did not restore itself.
    restore(tid, mp);
    mp->boost.store(kNone, std::memory_order_seq_cst);
  }
}

}  // namespace

void stw_boost_init_m(M* mp) noexcept {
  SchedAttr a;
  const int tid = static_cast<int>(gettid());
  if (syscall(SYS_sched_getattr, tid, &a, sizeof a, 0) == 0) {
    mp->boost_policy = static_cast<int>(a.policy);
    mp->boost_nice = a.nice;
  } else {
    mp->boost_policy = -1;  // unknown: never boosted
  }
  mp->tid.store(tid, std::memory_order_release);
  const int slot = n_registered.fetch_add(1, std::memory_order_relaxed);
  if (slot < kMaxRegistered) registry[slot].store(mp, std::memory_order_release);
}

namespace {

const MpHooks kBoostMpHooks{"stw boost", stw_boost_init_m, nullptr, nullptr, nullptr, nullptr};

struct Registrar {
  Registrar() noexcept { register_mp_hooks(&kBoostMpHooks); }
} registrar;

}  // namespace

bool stw_boost_permitted() noexcept { return permitted.load(std::memory_order_relaxed); }

void stw_boost_begin() noexcept {
  nboosted = 0;
  cpus_known = false;
}

void stw_boost_lagging(P* caller_p, std::uint64_t gen) noexcept {
  if (!permitted.load(std::memory_order_relaxed)) return;
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp == caller_p || pp->status.load(std::memory_order_relaxed) != PStatus::kRunning) continue;
    boost_m(caller_p, pp, gen);
  }
}

void stw_boost_lock_holder(P* caller_p, std::uint64_t gen, int owner_tid) noexcept {
  if (owner_tid <= 0 || !permitted.load(std::memory_order_relaxed)) return;
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    M* mp = pp->m.load(std::memory_order_acquire);
    if (pp != caller_p && mp != nullptr && mp->tid.load(std::memory_order_relaxed) == owner_tid) {
      boost_m(caller_p, pp, gen, owner_tid);
      return;
    }
  }
  // Not a P's M: one back from a blocking call, or between Ps.
  M* mp = stw_m_by_tid(owner_tid);
  if (mp != nullptr && mp != getm()) boost_pless_holder(caller_p, mp, gen);
}

M* stw_m_by_tid(int tid) noexcept {
  if (tid <= 0) return nullptr;
  const int n = n_registered.load(std::memory_order_acquire);
  for (int i = 0; i < n && i < kMaxRegistered; i++) {
    M* mp = registry[i].load(std::memory_order_acquire);
    if (mp != nullptr && mp->tid.load(std::memory_order_relaxed) == tid) return mp;
  }
  return nullptr;
}

bool stw_boost_raise_self(M* mp, P* caller_p) noexcept {
  if (!permitted.load(std::memory_order_relaxed) || !sched.cfg.pin || caller_p == nullptr || caller_p->cpu < 0) {
    return false;
  }
  if (mp->boost_policy != SCHED_OTHER && mp->boost_policy != SCHED_BATCH) return false;
  // Another P on this CPU (more Ps than CPUs): its M must run here to stop,
  // and a raised stopper's spin (up to 500 µs) would keep it off.
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    if (pp != caller_p && pp->cpu == caller_p->cpu) return false;
  }
  const int r = raise_fifo(0);
  if (r == 0) return true;
  n_failures.fetch_add(1, std::memory_order_relaxed);
  if (r == -EPERM && permitted.exchange(false, std::memory_order_relaxed)) report_eperm();
  return false;
}

void stw_boost_restore_stopper(M* mp) noexcept { restore(0, mp); }

void stw_boost_drop_all(bool expired) noexcept {
  for (int i = 0; i < nboosted; i++) {
    M* mp = boosted[i];
    std::uint8_t s = kBoosted;
    if (mp->boost.compare_exchange_strong(s, kNone, std::memory_order_seq_cst)) {
      restore(mp->tid.load(std::memory_order_relaxed), mp);
      if (expired) n_expired.fetch_add(1, std::memory_order_relaxed);
    }
  }
  nboosted = 0;
}

BoostClaim stw_boost_claim(M* mp) noexcept {
  for (;;) {
    std::uint8_t s = mp->boost.load(std::memory_order_seq_cst);
    if (s == kNone) return BoostClaim::kNotBoosted;
    if (s == kDropWanted) return BoostClaim::kStopperRestores;
    const std::uint8_t to = s == kBoosted ? kNone : kDropWanted;
    if (mp->boost.compare_exchange_strong(s, to, std::memory_order_seq_cst)) {
      return to == kNone ? BoostClaim::kRestore : BoostClaim::kStopperRestores;
    }
  }
}

void stw_boost_restore_self(M* mp) noexcept { restore(mp->tid.load(std::memory_order_relaxed), mp); }

void stw_boost_reset() noexcept {
  for (auto& r : registry) r.store(nullptr, std::memory_order_relaxed);
  n_registered.store(0, std::memory_order_relaxed);
  permitted.store(true, std::memory_order_relaxed);
  restore_reported.store(false, std::memory_order_relaxed);
  n_boosts.store(0, std::memory_order_relaxed);
  n_failures.store(0, std::memory_order_relaxed);
  n_expired.store(0, std::memory_order_relaxed);
  nboosted = 0;
}

}  // namespace gmp::detail

namespace gmp::stw {

BoostStats boost_stats() noexcept {
  using namespace detail;
  BoostStats s;
  s.boosts = n_boosts.load(std::memory_order_relaxed);
  s.failures = n_failures.load(std::memory_order_relaxed);
  s.expired = n_expired.load(std::memory_order_relaxed);
  s.permitted = permitted.load(std::memory_order_relaxed);
  return s;
}

}  // namespace gmp::stw
