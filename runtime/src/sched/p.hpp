// sched/p.hpp — P: a logical processor.
//
// A P is what an M needs to run goroutines: a run queue (run_queue.hpp), an
// inbox for wake-ups aimed at it, a cache of dead Gs, and the per-P state of
// other modules, which they keep in their own arrays indexed by P::id (so this
// struct does not grow a field per module).
//
// States:
//   kIdle     on the idle list (Sched::pidle), no M. Its queues may still be
//             non-empty for an instant; whoever finds that takes the P.
//   kRunning  owned by an M (P::m) that runs or looks for goroutines.
//   kSyscall  owned by an M blocked in gmp::blocking(); sysmon may CAS it to
//             kIdle and hand it to another M (Go's _Psyscall).
//   kStopped  stopped by stop-the-world.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/histogram.hpp"
#include "gmp/probes_abi.h"
#include "sched/run_queue.hpp"
#include "stack/stack.hpp"

namespace gmp::detail {

struct M;

enum class PStatus : std::uint32_t { kIdle, kRunning, kSyscall, kStopped };

struct alignas(64) P {
  int id = 0;
  int cpu = -1;  // the CPU an M running this P is pinned to (-1: not pinned)

  // atomic: transitions under Sched::lock, except kRunning<->kSyscall by the
  // owning M and kSyscall->kIdle by sysmon's CAS; read by anyone.
  std::atomic<PStatus> status{PStatus::kIdle};

  // The M that owns this P (null when idle). Written under Sched::lock or by
  // the owning M; read racily by sysmon and dumps.
  std::atomic<M*> m{nullptr};

  // True while this P's M is in find_runnable (spinning or about to park).
  // atomic seq_cst: pairs with the inbox push in ready() (see Note [Inbox
  // hand-off] in schedule.cpp).
  std::atomic<bool> searching{false};

  RunQueue runq;
  Inbox inbox;

  // Incremented each time the P starts a G with a fresh time slice.
  // atomic: owner writes (relaxed), sysmon reads.
  std::atomic<std::uint32_t> schedtick{0};
  // The G this P is running, for sysmon. atomic: owner writes, sysmon reads.
  std::atomic<G*> curg{nullptr};

  // Dead G descriptors, and free stacks by class, for reuse (gfree.cpp).
  // Owner only.
  G* gfree = nullptr;
  std::uint32_t gfree_n = 0;
  void* stack_free[kStackClasses] = {};
  std::uint32_t stack_free_n[kStackClasses] = {};

  // Idle list link. Guarded by Sched::lock.
  P* idle_link = nullptr;
  // The M that last ran this P, preferred when the P is started again (its
  // pinning already matches). Guarded by Sched::lock.
  M* home_m = nullptr;

  // Counters. Owner writes (relaxed), anyone reads.
  std::atomic<std::uint64_t> n_switches{0};
  // The last safe-point function generation this P ran (Note [Safe-point
  // functions] in safepoint.cpp): written by its owner, or by on_each_p's
  // caller under Sched::lock while the P is idle.
  std::atomic<std::uint64_t> sp_done{0};
  std::atomic<std::uint64_t> n_steals{0};
  std::atomic<std::uint64_t> n_stolen{0};
  std::atomic<std::uint64_t> n_created{0};
  std::atomic<std::uint64_t> n_exited{0};
  // Sampled scheduling latency (sched/latency.hpp), owner-written.
  gmp::Histogram sched_lat;
  std::atomic<std::uint64_t> sched_lat_probed{0};     // ... of which went through the probe
  std::atomic<std::uint64_t> sched_lat_probed_ns{0};
  std::uint32_t sched_lat_probe_tick = 0;             // owner only

  // Busy time (gmp_sched_p_busy_seconds_total, idle.cpp p_busy_ns): the time
  // since created_ns that the P was not on the idle list. idle_ns and
  // idle_since_ns (-1: not idle) are written under Sched::lock inside an odd
  // idle_seq (a seqlock: writers are serialized by that lock), read by anyone.
  std::atomic<std::int64_t> created_ns{0};
  std::atomic<std::int64_t> idle_ns{0};
  std::atomic<std::int64_t> idle_since_ns{-1};
  std::atomic<std::uint32_t> idle_seq{0};
};

}  // namespace gmp::detail
