// gmp/stw.hpp — stop-the-world with measured pauses, and what it is for:
// resizing Ps, sweeping pools, applying a config, dumping goroutines.
//
// stop_the_world(reason) returns when every P is stopped: idle Ps and Ps in
// blocking calls at once, running Ps at their goroutine's next safe point
// (any runtime call, any switch, gmp::preempt_point()). Only the caller runs
// until start_the_world(). Requests are serialized; a nested request by the
// caller that holds the world only counts (depth). Each stop is measured
// twice, as Go 1.22 does: *stopping* (decision → all stopped) and *total*
// (decision → world restarted), per reason (docs/STW.md).
//
// REQUIRES (while the world is stopped, for the caller): do not park, yield,
// sleep, do I/O through the runtime, or call gmp::blocking; write to fds with
// plain system calls. Allocating from the pool is fine.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gmp/histogram.hpp"
#include "gmp/status.hpp"

namespace gmp {

// Changes the number of Ps of the running runtime under stop-the-world.
// Growing adds Ps (each with its own run queue, timer heap, pool cache and
// io ring); shrinking moves the removed Ps' queued goroutines to the global
// queue, their timers to P 0, and drains their pool caches. Nothing is lost.
// io operations waiting on a removed P's ring are cancelled there and run
// again on the Ps that remain (their goroutines see nothing but the move).
// Ok, or one line saying why not (out of range, above the io ring capacity
// fixed at start, a stop that timed out, a removed P's operation the kernel
// could not cancel within ~1 s).
Status set_procs(int n);

namespace stw {

// Why the world was stopped. Values are part of the USDT interface
// (docs/PROBES.md): append, never reuse or renumber.
enum class Reason : std::uint8_t {
  kUser = 0,            // stop_the_world called by the program
  kProcResize = 1,      // gmp::set_procs
  kPoolSweep = 2,       // no longer stops the world (sweep_pools hands off to each P); kept for the probe ABI
  kConfigReload = 3,    // reload_config
  kGoroutineDump = 4,   // dump_goroutines
  kCount
};
const char* reason_name(Reason r) noexcept;

// REQUIRES: the runtime is running. Callable from a goroutine or a plain
// thread (not from g0, a signal handler or a timer callback).
void stop_the_world(Reason reason) noexcept;
// Like stop_the_world, but waits at most `bound` for running Ps to reach a
// safe point. Ok when every P stopped; else one line naming the
// goroutine (P, M, how long it has run) that did not, and the caller holds
// a partly stopped world: those Ps still run. Either way the caller calls
// start_the_world(). The dump, reload_config and set_procs use it with a
// 1 s bound (docs/FAILURES.md, "A goroutine that never yields").
Status try_stop_the_world(Reason reason, std::chrono::nanoseconds bound);
// The bound of what a user triggers from outside (SIGQUIT, SIGHUP,
// set_procs).
inline constexpr std::chrono::seconds kStopBound{1};
// REQUIRES: the caller stopped the world.
void start_the_world() noexcept;
// True while the world is stopped (or stopping).
bool world_stopped() noexcept;

// Scoped stop: stops in the constructor, restarts in the destructor.
class StopGuard {
 public:
  explicit StopGuard(Reason r) noexcept { stop_the_world(r); }
  ~StopGuard() { start_the_world(); }
  StopGuard(const StopGuard&) = delete;
  StopGuard& operator=(const StopGuard&) = delete;
};

// Pause durations in ns, as the runtime's one histogram type
// (gmp/histogram.hpp: 16 sub-buckets per power of two, quantiles within
// 6.25 %; count, sum and max exact; bounds are Prometheus `le` bounds).
using Histogram = gmp::HistogramSnapshot;
struct PauseStats {
  Reason reason = Reason::kUser;
  Histogram stopping;  // decision → every P stopped
  Histogram total;     // decision → world restarted
};
// Since the runtime started (reset by gmp::start).
PauseStats pause_stats(Reason r);
// The most recent stop, for tests and tools.
struct LastPause {
  std::uint64_t generation = 0;  // 1 for the first stop since start
  Reason reason = Reason::kUser;
  std::uint64_t stopping_ns = 0, total_ns = 0;
};
LastPause last_pause() noexcept;
std::uint64_t generation() noexcept;

// A stop that waits longer than this for a P to reach a safe point reports,
// once, on stderr which goroutine on which P holds it, and counts it.
// Default 10 ms.
void set_hog_report_threshold(std::chrono::nanoseconds t) noexcept;
std::uint64_t hog_reports() noexcept;

// The priority boost of Ms a stop waits for (Config::stw_boost;
// docs/STW.md, "Priority boost"). Since gmp::start.
struct BoostStats {
  std::uint64_t boosts = 0;    // M threads raised to SCHED_FIFO
  std::uint64_t failures = 0;  // raises or restores the kernel refused
  std::uint64_t expired = 0;   // boosts dropped at the 2 ms bound before their M stopped
  bool permitted = true;       // false once a raise got EPERM: no further attempts
};
BoostStats boost_stats() noexcept;

// ---- slow stops, explained ------------------------------------------------
// A stop whose total pause reaches the slow-stop threshold
// (Config::stw_slow, default 200 µs, the pause goal of docs/STW.md; 0 turns
// it off; set_slow_stop_threshold changes it while running) is explained from the
// kernel's per-thread scheduler accounting: what the thread of the P it
// waited for last was doing meanwhile (docs/STW.md, "Slow stops explained").
// Values are part of the USDT interface (probe stw_slow): append only.
enum class SlowCause : std::uint8_t {
  kMPreempted = 0,        // that M was runnable, but another thread held its CPU
  kNoSafePoint = 1,       // that M was on its CPU: no safe point, or long in the kernel
  kMBlocked = 2,          // neither on a CPU nor runnable: blocked in the kernel, or the host held its vCPU
  kStopperPreempted = 3,  // the stopper itself was runnable but off its CPU
  kSchedLock = 4,         // the stopper waited for the scheduler lock
  kHeld = 5,              // every P stopped in time; the stopper's own work and the restart took longer
  kUnknown = 6,           // no per-thread scheduler statistics (/proc/<pid>/task/<tid>/schedstat)
  kStopperWakeup = 7,     // the last P stopped in time; the stopper, asleep, noticed it late
  kCount
};
const char* slow_cause_name(SlowCause c) noexcept;
struct SlowStop {
  std::uint64_t generation = 0;
  Reason reason = Reason::kUser;
  std::uint64_t stopping_ns = 0, total_ns = 0;
  SlowCause cause = SlowCause::kUnknown;
  std::uint64_t cause_ns = 0;  // how much of the pause the cause accounts for
  int p = -1;                  // the P stopped last (-1: none observed)
  int m = -1;                  // its M, when observed (kSchedLock: the holder's M, if it was one)
  int tid = 0;                 // that M's thread; for kSchedLock the lock holder's (0: unknown)
  bool holder_sysmon = false;  // kSchedLock: the holder was sysmon's thread
  // kUnknown: the last P at the snapshot when it had no M to observe ('i'
  // idle, 'r' running but being handed over, 's' in a blocking call), or
  // '-' when the stop ended before the snapshot was complete; '?' otherwise.
  char p_state = '?';
  // The observed M from the snapshot (taken when the stopper stops spinning)
  // to the last P's stop: wall time, time on a CPU, time runnable off it.
  std::uint64_t window_ns = 0, on_cpu_ns = 0, runnable_ns = 0;
};
// One line: "stop-the-world (user, generation 7) took 3870 us: ...".
std::string describe(const SlowStop& s);
void set_slow_stop_threshold(std::chrono::nanoseconds t) noexcept;
// Since gmp::start: slow stops per cause, and the last 16 (oldest first).
std::uint64_t slow_stops(SlowCause c) noexcept;
std::vector<SlowStop> recent_slow_stops();

// ---- uses ------------------------------------------------------------------

// Recycles every P's expired txn-tier objects and flushes its remote frees,
// without stopping the world: each P sweeps its own cache between two of its
// goroutines, an idle P's is swept by the caller (docs/STW.md, "The pool
// sweep"). Waits up to 50 ms for Ps running a goroutine; a P in a blocking
// call, or whose goroutine has no safe point, sweeps when it next schedules
// (lagging_ps counts them). Returns the txn bytes cached before and after.
struct SweepResult {
  std::uint64_t txn_cached_before = 0, txn_cached_after = 0;
  std::int64_t took_ns = 0;  // the caller's wait, not a pause: nobody else waited
  int lagging_ps = 0;        // Ps that had not swept when it returned
};
SweepResult sweep_pools() noexcept;

// Validates the pool config file and applies it under stop-the-world
// (kConfigReload). Ok, or the reason it was refused; a refused change
// (invalid, growing pool memory by more than 15 %, or a goroutine that does
// not reach a safe point within kStopBound) keeps the old config.
Status reload_config(const std::string& path);

// Stops the world (kGoroutineDump) and writes every goroutine (id, state,
// wait reason, time in that state, P/M, creation site, and the stack where
// it waits) and every P to fd, without allocating from the pool. A
// goroutine that does not reach a safe point within kStopBound does not
// hold it up: the dump says so and shows it running. Returns the number of
// goroutines written, or -1.
int dump_goroutines(int fd) noexcept;

}  // namespace stw
}  // namespace gmp
