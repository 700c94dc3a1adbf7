// stw/explain.hpp — the stopper's side of "slow stops explained" (Note [Slow
// stops explained] in explain.cpp). Every function but stw_explain_note_last
// and the start/stop/reset ones is called by the stopper only (stoppers are
// serialized by world_mu); the snapshot is read by an observer thread.
#pragma once

#include <cstdint>

#include "gmp/stw.hpp"

namespace gmp::detail {

struct P;

// At the decision: forget the previous stop.
void stw_explain_begin() noexcept;
// When to take the snapshot, in ns after the decision (half the
// threshold); -1 when slow stops are not explained.
std::int64_t stw_explain_snapshot_after() noexcept;
// The stop has lasted that long without every P stopping: name the Ms of
// the Ps still not stopped (and the stopper) and ask the observer thread to
// read their accounting. Once per stop; no system call but a futex wake-up.
void stw_explain_snapshot(P* caller_p, std::uint64_t gen) noexcept;
// The stopper slept on sched.lock for ns (its holder's tid, 0 if unknown).
void stw_explain_lock_wait(std::int64_t ns, int holder_tid) noexcept;
// Whoever stops a P records which one it was. REQUIRES: sched.lock held.
void stw_explain_note_last(int p_id) noexcept;
// Every P is stopped: later lock waits belong to the restart.
void stw_explain_stopped() noexcept;
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
// At gmp::start, before any M runs.
void stw_explain_reset() noexcept;
// The observer thread: started with the runtime, joined at gmp::stop.
void stw_explain_start() noexcept;
void stw_explain_stop() noexcept;

// For tests: where per-thread accounting is read from ("/proc" by default);
// a directory without it exercises the kUnknown path. Not thread-safe: set
// it while the runtime is stopped.
void stw_explain_set_proc_root(const char* root) noexcept;

}  // namespace gmp::detail
