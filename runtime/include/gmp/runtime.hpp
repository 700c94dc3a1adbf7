// gmp/runtime.hpp — starting, stopping and inspecting the runtime.
//
// The runtime is a process-wide singleton: Ps (logical processors, each with
// a run queue), Ms (OS threads, by default one per P pinned to its own CPU)
// and a sysmon thread. Start it with gmp::start() and stop it with
// gmp::stop(), or let gmp::run() do both around a main goroutine.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gmp/status.hpp"

namespace gmp {

struct Config {
  // Number of Ps. 0: one per CPU in `cpus` (or in the process's affinity mask).
  int procs = 0;
  // Pin each M to the CPU of the P it runs (sched_setaffinity).
  bool pin = true;
  // CPUs to run on, in P order (P i runs on cpus[i % cpus.size()]).
  // Empty: the CPUs of the process's affinity mask.
  std::vector<int> cpus{};  // {}: designated initializers may leave it out (-Wextra)
  // Usable size of a goroutine stack, rounded up to its size class (a power
  // of two from 16 KiB to 8 MiB); a 16 KiB guard below it is added. Only
  // touched pages cost memory.
  std::size_t stack_size = 256 * 1024;
  // sysmon flags a goroutine that runs longer than this without reaching a
  // safe point, and moves the rest of its P's queue to other Ps.
  std::chrono::nanoseconds hog_threshold = std::chrono::milliseconds(10);
  // How long an M with nothing to run keeps looking before it parks.
  // Waking a parked thread costs tens of microseconds in a VM.
  std::chrono::nanoseconds spin = std::chrono::microseconds(50);
  // An idle M whose next event is a timer wakes up early and spins until the
  // timer is due, hiding the kernel's (and a VM's) timer wake-up latency:
  // early by the ~99.9th percentile of the lateness its own timed sleeps saw,
  // at most this much. 0: sleep until the deadline (docs/SCHEDULER.md,
  // "Timer lead"). Costs up to that much CPU per timer wake-up of an idle M.
  std::chrono::nanoseconds timer_lead = std::chrono::microseconds(200);
  // A stop-the-world that has waited this long for a P whose M runs a
  // goroutine raises that M's thread to SCHED_FIFO (priority 1) until it
  // stops its P, for at most 2 ms: a thread of another process that holds
  // the M's CPU for its time slice (ms) is preempted at once. Only Ms pinned
  // to a CPU the stopper does not run on. Needs CAP_SYS_NICE or
  // RLIMIT_RTPRIO >= 1; without, it is counted and the stop just waits
  // (docs/STW.md, "Priority boost"). 0: off; else 1 us to 10 ms.
  std::chrono::nanoseconds stw_boost = std::chrono::microseconds(20);
  // A stop-the-world whose pause reaches this is explained from the
  // kernel's per-thread accounting, counted by cause and kept
  // (gmp::stw::recent_slow_stops; docs/STW.md, "Slow stops explained").
  // Applied at start; gmp::stw::set_slow_stop_threshold changes it while
  // running. 0: off; else 1 us to 10 s.
  std::chrono::nanoseconds stw_slow = std::chrono::microseconds(200);
  // Print one line per hog to stderr (the counter is kept either way).
  bool report_hogs = true;
  // With one P, channel locks taken by goroutines are plain loads and
  // stores instead of locked instructions, until a thread that is not
  // running goroutines (a plain thread, a gmp::blocking call) uses one of
  // those channels: that switches it off for the process's run (one
  // process-wide barrier; SchedStats::lock_elision_revocations).
  // docs/SYNC.md, "One-P lock elision". No effect with more than one P.
  bool lock_elision = true;
};

// Checks a config: ok if it is usable, else one line saying what is wrong
// and what would be right.
Status validate(const Config& cfg);

// Starts the runtime: ok, or the reason it could not.
// REQUIRES: the runtime is not running.
Status start(const Config& cfg = {});

// Stops the runtime: every M finishes the goroutine it is running (at its
// next safe point: running goroutines are asked to yield), then exits.
// Goroutines still parked or queued are discarded: their closures are
// destroyed, their stacks unmapped. An M that does not come back (its
// goroutine loops without a safe point, or blocks in the kernel) is waited
// for, and named on stderr after 1 s.
// REQUIRES: called from a thread that is not an M of this runtime.
void stop();

// Like stop(), but gives up when some M has not finished within `grace`:
// returns false, and the runtime is left stopping, neither usable nor
// restartable. End the process then: returning from main or exit() ends it
// at once with that status, stdio flushed (docs/FAILURES.md, "Exit").
bool try_stop(std::chrono::nanoseconds grace);

// Starts the runtime, runs `main_fn` as the first goroutine, waits for it to
// return, stops the runtime and returns what main_fn returned. As in Go, the
// program ends when main returns: if the other goroutines cannot be stopped
// within 2 s (a loop without a safe point, a blocking system call), the
// process exits with main_fn's status (stdio flushed) instead of
// returning. If start fails it prints the reason to stderr and returns 2.
int run(const Config& cfg, std::function<int()> main_fn);

// Deadlock detection ("fatal error: all goroutines are asleep - deadlock!",
// docs/FAILURES.md) counts every thread of the process that is not one of
// the runtime's, and is not blocked in a runtime wait, as one that might
// still wake a goroutine, and reports nothing while one exists. A plain
// thread that never will (a signal-handling or logging thread) says so
// here; it holds until the thread ends.
void thread_wakes_no_goroutine() noexcept;

bool running() noexcept;

// The number of Ps of the running runtime (0 if not running).
int procs() noexcept;

// The config the running runtime was started with (resolved: procs and cpus
// filled in).
const Config& config() noexcept;

// Counters since start. Monotonic; read without stopping anything, so the
// fields are each exact but not a consistent snapshot.
struct SchedStats {
  std::uint64_t goroutines_created = 0;
  std::uint64_t goroutines_live = 0;   // created and not yet exited
  std::uint64_t context_switches = 0;
  std::uint64_t steals = 0;            // successful steal operations
  std::uint64_t stolen_goroutines = 0;
  std::uint64_t m_parks = 0;
  std::uint64_t m_unparks = 0;
  std::uint64_t preempt_requests = 0;  // time slices ended by sysmon
  std::uint64_t hogs = 0;              // goroutines that ran a whole threshold without a switch
  std::uint64_t hog_moved = 0;         // goroutines moved off hogged Ps
  std::uint64_t global_queue_len = 0;
  std::uint64_t stacks_mapped = 0;     // stacks currently mmap'd
  std::uint64_t stacks_released = 0;   // cached stacks the scavenger gave back to the kernel (process lifetime)
  std::uint64_t timer_lead_wakeups = 0;  // idle Ms that woke early for a timer and spun (Config::timer_lead)
  std::uint64_t timer_lead_spin_ns = 0;  // CPU time those spins took, in total
  bool lock_elision = false;              // channel locks elided right now (Config::lock_elision, one P)
  std::uint64_t lock_elision_revocations = 0;  // times a non-goroutine thread switched it off (process lifetime)
  std::uint64_t stw_boosts = 0;          // Ms raised to SCHED_FIFO by a slow stop (Config::stw_boost)
  std::uint64_t stw_boost_failures = 0;  // boosts the kernel refused (EPERM: see gmp::stw::boost_stats)
};
SchedStats sched_stats() noexcept;

}  // namespace gmp
