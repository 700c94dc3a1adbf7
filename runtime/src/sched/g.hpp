// sched/g.hpp — G: a goroutine.
//
// A G is a stackful coroutine. Its descriptor is a small heap object holding
// the spawn closure inline (kInlineClosure bytes; larger closures go to the
// heap); its stack is bound only when it first runs and returned to the P's
// stack cache the moment it exits (gfree.cpp). So a spawned-but-not-started G
// costs a few hundred dense bytes, and the G that starts next reuses the stack
// that was just freed, still hot in cache — the same economy Go gets from
// small growable stacks. Descriptors are cached and never freed while the
// runtime runs.
//
// States and who owns the G in each (Go's runtime2.go, adapted):
//   kIdle      just allocated or on a free list; owned by that list.
//   kRunnable  on a run queue, runnext, an inbox or the global queue; not
//              running; owned by the queue. Its context (sp) is saved.
//   kRunning   running on an M; owned by that M. sp is stale.
//   kWaiting   parked (wait_reason says why); owned by whatever will wake it
//              (a channel's wait queue, a timer…). Its context is saved.
//   kDead      exited; its closure is destroyed; waiting for its stack to be
//              recycled by the M that switched away from it.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/detail/wait.hpp"
#include "stack/stack.hpp"

namespace gmp::detail {

struct P;
struct M;

inline constexpr std::uint32_t kPreemptYield = 1;
inline constexpr std::uint32_t kPreemptPoll = 2;

enum class GStatus : std::uint32_t { kIdle, kRunnable, kRunning, kWaiting, kDead };
const char* gstatus_name(GStatus s) noexcept;

struct alignas(64) G {
  // Saved stack pointer of the context. Written by gmp_ctx_switch on the M
  // that switches away from this G, read by the M that switches to it; the
  // queue the G passes through in between orders the two (release/acquire).
  void* sp = nullptr;

  // A request to the running G, read at safe points (gmp::preempt_point):
  // kPreemptYield from sysmon (time slice over) or stop-the-world;
  // kPreemptPoll from sysmon when the G's P has due timers or io completions
  // and has not switched since (poll them, then yield only if that readied
  // something). atomic: any writer, the G reads and clears.
  std::atomic<std::uint32_t> preempt{0};

  // atomic: written by whoever owns the G (see states above), read racily by
  // dumps and sysmon.
  std::atomic<GStatus> status{GStatus::kIdle};

  std::uint64_t id = 0;         // set at spawn (relaxed atomic store); sysmon reads it with g_id_relaxed()
  std::uint64_t parent_id = 0;  // the spawner's id, 0 for a thread

  // Link for whichever intrusive queue holds the G (global queue, an inbox, a
  // free list). Guarded by that queue.
  G* sched_link = nullptr;

  // The P this G last ran on. atomic: written by the M running it, read by
  // wakers choosing where to put it (relaxed: a stale value only costs
  // locality).
  std::atomic<P*> last_p{nullptr};
  // The M running the G (kRunning), else null. Read racily by dumps.
  std::atomic<M*> m{nullptr};

  // Why and since when (CLOCK_MONOTONIC ns) the G is in its current state.
  // Written by the owner; read racily by dumps and sysmon.
  std::atomic<WaitReason> wait_reason{WaitReason::kNone};
  std::atomic<std::int64_t> state_since_ns{0};

  // The stack, bound when the G first runs (sp == nullptr until then) and
  // released when it exits. Owner only.
  Stack stack;
  int stack_cls = 0;  // the class to bind

  // The spawn closure (in closure_buf, or on the heap when larger) and how to
  // run or destroy it. Owner only.
  void* closure = nullptr;
  bool closure_on_heap = false;
  void (*run)(void*) = nullptr;
  void (*destroy)(void*) = nullptr;

  // Index in the all-Gs registry (allgs.hpp). Guarded by the registry lock.
  std::uint32_t allg_index = 0;

  // Sanitizer fiber state (sanitizer.hpp). Owner only.
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;

  // errno of the G while it is switched out: goroutines migrate between
  // threads, and errno is per thread.
  int saved_errno = 0;

  // Where gmp::go was called (a return address), for dumps. Owner only.
  void* creator_pc = nullptr;
  // The closure has started running (at stop, only unstarted closures are
  // destroyed: a started one's frames are on the stack). Owner only.
  bool started = false;

  bool is_g0 = false;  // an M's scheduling context (its thread stack)

  // Scheduling-latency sampling (sched/latency.hpp): transitions to runnable
  // since the last stamp, and when the stamped one happened (0: not
  // stamped). Written by whoever makes the G runnable (it owns the G then),
  // read by the M that runs it; the run queue between them orders the two.
  std::uint32_t lat_tick = 0;
  std::int64_t runnable_at_ns = 0;

  static constexpr std::size_t kInlineClosure = 128;
  alignas(16) unsigned char closure_buf[kInlineClosure];
};

// G::id of a G that another thread may be recycling meanwhile (sysmon's
// reports name the G it saw running): a relaxed atomic read, paired with
// g_new's relaxed store, so a stale id is possible but no data race is.
inline std::uint64_t g_id_relaxed(const G* gp) noexcept { return __atomic_load_n(&gp->id, __ATOMIC_RELAXED); }

}  // namespace gmp::detail
