// stw/explain.hpp — the stopper's side of "slow stops explained" (Note [Slow
// stops explained] in explain.cpp). Every function but stw_explain_note_last
// and stw_explain_reset is called by the stopper only (stoppers are
// serialized by world_mu), so the per-stop state needs no lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/stw.hpp"

namespace gmp::detail {

struct P;
struct M;

// At the decision: forget the previous stop.
void stw_explain_begin() noexcept;
// When to take the snapshot, in ns after the decision (half the
// threshold); -1 when slow stops are not explained.
std::int64_t stw_explain_snapshot_after() noexcept;
// The stop has lasted that long without every P stopping: record the
// scheduler accounting of the Ms of the Ps still not stopped and of the
// stopper's own thread. Once per stop; a few system calls (~5-40 µs), only
// for stops already that long.
// Stops reading as soon as all_stopped is set.
void stw_explain_snapshot(P* caller_p, std::int64_t now, const std::atomic<bool>& all_stopped) noexcept;
// The stopper slept on sched.lock for ns (its holder's tid, 0 if unknown).
void stw_explain_lock_wait(std::int64_t ns, int holder_tid) noexcept;
// Whoever stops a P records which one it was, and when. REQUIRES:
// sched.lock held.
void stw_explain_note_last(int p_id) noexcept;
// Every P is stopped: later lock waits belong to the restart.
void stw_explain_stopped(std::int64_t t1) noexcept;
// After the restart: a stop at or over the threshold reads the accounting
// again (outside the pause) and is classified, counted, kept and traced
// (probe stw_slow).
void stw_explain_finish(gmp::stw::Reason r, std::uint64_t gen, std::int64_t stopping_ns, std::int64_t total_ns) noexcept;
// What the M of P p_id has done since the snapshot (the hog report asks
// before it blames the goroutine): false if there is no snapshot of it or
// the accounting cannot be read. Stopper only.
struct LagAccount {
  int m_id = -1, tid = 0;
  std::int64_t window_ns = 0, on_cpu_ns = 0, runnable_ns = 0;
  char state = '?';  // the thread's state now (/proc .../stat): R running or runnable, S, D, ...
};
bool stw_explain_lag(int p_id, std::int64_t now, LagAccount* out) noexcept;
// Whether lag shows a goroutine without safe points: its M on a CPU for
// half the window or 1 ms (Note [Slow stops explained]).
bool stw_explain_lag_is_no_safe_point(const LagAccount& lag) noexcept;
// How long this stop's stopper has slept on sched.lock so far, and the
// holder it saw (0 if unknown). Stopper only.
std::int64_t stw_explain_lock_waited(int* holder_tid) noexcept;
// An M opens its own schedstat at start and closes it at exit
// (M::schedstat_fd): m_start and m_stop hooks (sched/hooks.hpp).
void stw_explain_init_m(M* mp) noexcept;
void stw_explain_fini_m(M* mp) noexcept;
// At gmp::start.
void stw_explain_reset() noexcept;

// For tests: where per-thread accounting is read from ("/proc" by default);
// a directory without it exercises the kUnknown path. Not thread-safe: set
// it while the runtime is stopped.
void stw_explain_set_proc_root(const char* root) noexcept;

}  // namespace gmp::detail
