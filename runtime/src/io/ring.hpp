// io/ring.hpp — one io_uring per P: the ring, the operation record that lives
// on a parked goroutine's stack, and the calls the rest of io/ uses.
//
// Invariants:
//   - A P's ring is used (SQEs prepared, CQEs reaped) only by the M that owns
//     the P. Ps move between Ms (gmp::blocking hand-off, idle Ps taken by
//     other Ms), so the ring is not IORING_SETUP_SINGLE_ISSUER (docs/IO.md).
//   - An IoOp lives on its goroutine's stack until its last CQE is reaped:
//     the goroutine stays parked until then, even when a deadline or a
//     CancelToken cancels it, so buffers and fds are never freed under the
//     kernel (monoio#318, tokio#8112 are the bugs this rules out).
//   - An idle P's M may wait in the P's ring (io_idle_wait) but never reaps
//     it: when the wait returns with completions it takes the P back first.
//   - Other threads touch a ring only through cancel_head (MPSC push) and the
//     eventfd (write).
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>

#include "gmp/detail/wait.hpp"
#include "gmp/io.hpp"

namespace gmp::detail {

struct M;
struct P;
struct Ring;

// user_data low bits: which CQE of an operation this is.
inline constexpr std::uint64_t kTagOp = 0;
inline constexpr std::uint64_t kTagLinkTimeout = 1;
inline constexpr std::uint64_t kTagCancel = 2;
inline constexpr std::uint64_t kTagMask = 7;
inline constexpr std::uint64_t kWakeUserData = 8;  // the eventfd read (not an IoOp)

struct alignas(8) IoOp {
  Waiter w;
  int res = 0;
  std::uint32_t cqe_flags = 0;
  int pending = 0;            // CQEs still expected. Owner P only.
  bool timed_out = false;     // the linked timeout fired. Owner P only.
  bool cancel_sent = false;   // an async cancel is in flight. Owner P only.
  // Cancelled because its P is being removed (io_drain_begin, under
  // stop-the-world): ring_run runs it again on the goroutine's next P.
  // Written by the stopper, read by the goroutine after its wake-up.
  bool migrate = false;
  io::Op op = io::Op::kCount;
  std::uint64_t seq = 0;      // unique per ring, for cross-P cancels
  Ring* ring = nullptr;
  IoOp* prev = nullptr;       // in-flight list. Owner P only.
  IoOp* next = nullptr;
  __kernel_timespec ts{};     // the linked timeout's deadline
};

// A cancel request from another thread: heap-allocated, freed by the owner.
struct CancelReq {
  IoOp* op;            // compared, never dereferenced before validation
  std::uint64_t seq;
  CancelReq* next;
};

struct alignas(64) Ring {
  io_uring ring{};
  bool ok = false;                        // set at start, read-only after
  int id = 0;                             // the P's id
  int wake_fd = -1;                       // eventfd; anyone writes
  std::uint64_t wake_buf = 0;             // kernel writes (eventfd read)
  std::atomic<bool> wake_armed{false};    // owner writes; idle waiters read
  std::uint32_t unsubmitted = 0;          // owner only
  std::int64_t first_unsubmitted_ns = 0;  // owner only
  // When the oldest unsubmitted SQE is due to be sent (first_unsubmitted_ns
  // + the batching delay), or -1 when none waits. Owner writes; sysmon and
  // other Ms read it (ring_next_deadline) so that a busy goroutine that
  // never parks is asked to poll, which submits.
  std::atomic<std::int64_t> submit_due_ns{-1};
  std::uint64_t next_seq = 1;             // owner only
  IoOp* inflight = nullptr;               // owner only
  std::atomic<std::uint32_t> n_inflight{0};  // owner writes, sysmon reads
  std::atomic<CancelReq*> cancel_head{nullptr};  // MPSC: anyone pushes, owner drains
  // The one idle M allowed to wait in this ring (CAS to claim, store null to
  // leave); others wait on their futex. io_uring wakes CQ waiters
  // exclusively: with two Ms in one ring a wake-up aimed at one (its eventfd
  // CQE) woke the other, which reaped it, and the first slept on with a P
  // handed to it (a stall seen in gmpbench).
  std::atomic<M*> idle_waiter{nullptr};
  // set_procs is removing this ring's P (Note [Draining a removed P's
  // ring] in ring.cpp): new operations wait for the removal, cancelled
  // ones run again elsewhere. Written by the stopper; read by goroutines.
  std::atomic<bool> draining{false};
};

// The calling goroutine's ring, or null (plain thread, or blocking backend).
Ring* current_ring() noexcept;
Ring* ring_of(int pid) noexcept;
bool uring_on() noexcept;

// Prepares space for n SQEs (flushing the SQ if it is too full).
// REQUIRES: the caller's M owns r's P.
io_uring_sqe* ring_get_sqe(Ring* r) noexcept;
void ring_reserve(Ring* r, unsigned n) noexcept;
// Runs one operation whose main SQE `prep` fills: links a timeout for the
// deadline, registers the cancel token, parks until the last CQE. Returns
// the kernel result (-errno), with -ETIMEDOUT for a fired deadline.
// REQUIRES: r == current_ring() (a goroutine on r's P).
int ring_run(Ring* r, io::Op op, const io::OpOptions& o, void (*prep)(io_uring_sqe*, void*), void* ctx) noexcept;

// Queues a cancel for whatever operation the token names (any thread).
void ring_cancel(io::CancelToken* t) noexcept;

// Runtime hooks (runtime.cpp): create/destroy the rings; wake every M that
// waits in a ring (stop).
void io_start(int nprocs) noexcept;
void io_stop() noexcept;
void io_wake_all() noexcept;
// idle.cpp / find.cpp: wait in pp's ring as an idle M. Returns true if the
// ring has completions to reap (the caller should take pp back), false when
// woken otherwise or at the deadline. Falls back to mp->park when pp's ring
// cannot be waited on.
bool io_idle_wait(M* mp, P* pp, std::int64_t deadline_ns) noexcept;
// Wakes mp if it waits in a ring (after mp->park.wakeup(): the scheduler
// calls it as an m_wake hook, sched/hooks.hpp).
void io_wake_m(M* mp) noexcept;
// True if pp's ring can serve as an idle M's wait.
bool io_ring_waitable(P* pp) noexcept;
// True if pp's ring has completions (or deferred task work, or queued
// cancels) to reap: a racy hint for an idle M that spins (Note [Timer lead]).
bool io_ring_has_events(P* pp) noexcept;
// For sysmon's retake: operations in flight on pp's ring.
std::uint32_t io_inflight(P* pp) noexcept;
// set_procs removing pp (Note [Draining a removed P's ring]): begin marks
// its ring draining and asks the kernel to cancel every operation in
// flight there, each to be run again on its goroutine's next P.
// REQUIRES: the world is stopped. poke makes pp's M (or the idle M in
// its ring) send the cancels, after the world restarts. end clears the
// mark (pp removed, or the removal given up).
void io_drain_begin(P* pp) noexcept;
void io_drain_poke(P* pp) noexcept;
void io_drain_end(P* pp) noexcept;

// Counters (relaxed).
struct IoCounters {
  std::atomic<std::uint64_t> submitted{0}, completed{0}, enters{0}, ring_waits{0}, blocking_calls{0}, handoffs{0};
  // I/O operations a goroutine ran as a blocking system call (no ring: the
  // blocking backend, or io_uring unavailable).
  std::atomic<std::uint64_t> fallbacks{0};
  // Operations cancelled on a P that set_procs removed and run again on
  // another (Note [Draining a removed P's ring]).
  std::atomic<std::uint64_t> migrated{0};
  // Reaps that found completions waiting on the kernel's overflow list.
  std::atomic<std::uint64_t> cq_overflows{0};
};
extern IoCounters io_counters;

}  // namespace gmp::detail
