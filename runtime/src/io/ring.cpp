// io/ring.cpp — the ring per P: setup and feature detection, submission
// batching, reaping completions into the owning P's run queue (a PollSource),
// the idle M's wait in its P's ring, and cross-thread wake-ups (eventfd).
//
// Note [Submission batching]
// A goroutine that starts an operation only prepares its SQE; it is handed to
// the kernel (1) by the P's poll when the P runs out of goroutines (find
// runnable: one io_uring_enter submits every SQE of the round and the CQ is
// read right after), or (2) at park time once kSubmitBatch SQEs wait, or the
// oldest has waited kSubmitDelayNs while the P still has goroutines to run.
//
// Note [Idle M in its ring]
// An M that gives up its P waits in that P's ring (io_uring_enter GETEVENTS,
// EXT_ARG timeout = the P's next deadline) instead of its futex, so that a
// completion for the idle P wakes an M that takes the P back and reaps it.
// At most one M waits in a ring (Ring::idle_waiter; others use their futex):
// the kernel wakes CQ waiters one at a time, so a wake-up aimed at one M
// could wake another.
// Wakers (startm, poke_idle_p, stop) set the M's Note, then write the ring's
// eventfd if the M published that it waits there (m_wait_ring): the M
// stores m_wait_ring then checks its Note, the waker sets the Note then
// loads m_wait_ring, both with a seq_cst fence between, so one sees the other.
// A read on the eventfd is kept armed in each ring by its owner; a write made
// while it is not armed is kept in the eventfd counter and completes the next
// read at once, so no wake-up is lost.
//
// Why not IORING_OP_MSG_RING: a waker is often not on an M with a ring
// (sysmon, stop, plain threads), and an SQE on the waker's ring is only sent
// at the waker's next submit; an eventfd write is one syscall from anywhere.
#include "io/ring.hpp"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/go.hpp"
#include "io/ops.hpp"
#include "sched/hooks.hpp"
#include "sched/sched.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

IoCounters io_counters;

namespace {

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 8192;
constexpr std::uint32_t kSubmitBatch = 32;
constexpr std::int64_t kSubmitDelayNs = 20'000;
constexpr int kMaxWaitMs = 1024;

Ring rings[kMaxProcs];
int n_rings = 0;
bool g_uring = false;                 // set at start, read-only while running
std::string g_desc = "not started";   // set at start
std::string g_forced;                 // set_backend(); guarded by lifecycle (start/stop callers)
bool g_said_fallback = false;

// Which ring an idle M waits in (-1: none). Indexed by M::id.
std::atomic<int> m_wait_ring[kMaxWaitMs];

void flush(Ring* r) noexcept {
  if (r->unsubmitted == 0) return;
  int n = io_uring_submit(&r->ring);
  io_counters.enters.fetch_add(1, std::memory_order_relaxed);
  if (n > 0) {
    io_counters.submitted.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    r->unsubmitted = n >= static_cast<int>(r->unsubmitted) ? 0 : r->unsubmitted - static_cast<std::uint32_t>(n);
  }
  if (r->unsubmitted == 0) r->submit_due_ns.store(-1, std::memory_order_relaxed);
}

void arm_wake(Ring* r) noexcept {
  ring_reserve(r, 1);
  io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
  io_uring_prep_read(sqe, r->wake_fd, &r->wake_buf, sizeof r->wake_buf, 0);
  io_uring_sqe_set_data64(sqe, kWakeUserData);
  r->unsubmitted++;
  r->wake_armed.store(true, std::memory_order_release);
}

void inflight_remove(Ring* r, IoOp* op) noexcept {
  if (op->prev != nullptr) op->prev->next = op->next; else r->inflight = op->next;
  if (op->next != nullptr) op->next->prev = op->prev;
  op->prev = op->next = nullptr;
  r->n_inflight.store(r->n_inflight.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

// Turns queued cross-thread cancel requests into async-cancel SQEs.
void drain_cancels(Ring* r) noexcept {
  CancelReq* c = r->cancel_head.exchange(nullptr, std::memory_order_acquire);
  while (c != nullptr) {
    CancelReq* next = c->next;
    for (IoOp* op = r->inflight; op != nullptr; op = op->next) {
      if (op == c->op && op->seq == c->seq) {
        if (!op->cancel_sent) {
          op->cancel_sent = true;
          op->pending++;
          io_uring_sqe* sqe = ring_get_sqe(r);
          io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(op), 0);
          io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(op) | kTagCancel);
          r->unsubmitted++;
        }
        break;
      }
    }
    delete c;
    c = next;
  }
}

// Reaps every CQE of r; readies the goroutines whose operation is complete.
int reap(Ring* r, bool* rearm) noexcept {
  int readied = 0;
  io_uring_cqe* cqes[64];
  // More completions than the CQ holds: with IORING_FEAT_NODROP the kernel
  // keeps the rest on its overflow list and says so here; liburing's peek
  // flushes them into the CQ (io_uring_enter with GETEVENTS) once it is
  // empty, so the loop below takes them all. Counted, nothing is lost.
  if (__atomic_load_n(r->ring.sq.kflags, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW)
    io_counters.cq_overflows.fetch_add(1, std::memory_order_relaxed);
  for (;;) {
    unsigned n = io_uring_peek_batch_cqe(&r->ring, cqes, 64);
    if (n == 0) break;
    for (unsigned i = 0; i < n; i++) {
      io_uring_cqe* cqe = cqes[i];
      std::uint64_t ud = cqe->user_data;
      if (ud == kWakeUserData) {
        r->wake_armed.store(false, std::memory_order_relaxed);
        *rearm = true;
        continue;
      }
      auto* op = reinterpret_cast<IoOp*>(ud & ~kTagMask);
      switch (ud & kTagMask) {
        case kTagOp:
          op->res = cqe->res;
          op->cqe_flags = cqe->flags;
          break;
        case kTagLinkTimeout:
          if (cqe->res == -ETIME) op->timed_out = true;
          break;
        default:
          break;
      }
      if (--op->pending == 0) {
        inflight_remove(r, op);
        io_counters.completed.fetch_add(1, std::memory_order_relaxed);
        GMP_PROBE_IO_COMPLETE(static_cast<int>(op->op), op->res, r->id, op->seq);
        wake(op->w);
        readied++;
      }
    }
    io_uring_cq_advance(&r->ring, n);
  }
  return readied;
}

// PollSource::poll — runs on pp's owner.
int ring_poll(P* pp, std::int64_t /*now*/) noexcept {
  Ring* r = &rings[pp->id];
  if (!r->ok) return 0;
  // Called from find_runnable (g0) and, on a busy P, from the switch path
  // after the previous G's park was committed (schedule.cpp finish_switch),
  // so no G reaped here can still be mid-park.
  if (!r->wake_armed.load(std::memory_order_relaxed)) arm_wake(r);
  flush(r);
  bool rearm = false;
  int n = reap(r, &rearm);
  if (rearm) arm_wake(r);
  // Cancels are drained after the reap: ring_cancel pushes its request, then
  // writes the eventfd, so every request whose wake-up CQE was just consumed
  // is visible here. (Draining before the reap lost a request pushed between
  // the two: its wake-up was eaten and the idle M slept on it for ever.)
  if (r->cancel_head.load(std::memory_order_acquire) != nullptr) drain_cancels(r);
  flush(r);
  return n;
}

bool cq_ready(Ring* r) noexcept {
  // Read by other Ms and sysmon while the owner reaps: an atomic (relaxed)
  // load of a hint.
  const unsigned head = __atomic_load_n(r->ring.cq.khead, __ATOMIC_RELAXED);
  const unsigned tail = io_uring_smp_load_acquire(r->ring.cq.ktail);
  if (head != tail) return true;
  // COOP_TASKRUN: completions wait as task work until the submitting thread
  // enters the kernel; TASKRUN_FLAG says so here, and reap()'s peek enters
  // (GETEVENTS) to post them.
  return (__atomic_load_n(r->ring.sq.kflags, __ATOMIC_RELAXED) & IORING_SQ_TASKRUN) != 0;
}

std::int64_t ring_next_deadline(P* pp) noexcept {
  Ring* r = &rings[pp->id];
  if (!r->ok) return -1;
  if (cq_ready(r) || r->cancel_head.load(std::memory_order_relaxed) != nullptr) return 0;
  // SQEs prepared by a goroutine that then kept running (it did not park, so
  // nothing submitted them): due once the batching delay is over.
  return r->submit_due_ns.load(std::memory_order_relaxed);
}

const PollSource kRingSource{"io_uring", ring_poll, ring_next_deadline, nullptr};
// An idle M may wait in a ring rather than on its futex.
const MpHooks kRingMpHooks{"io_uring", nullptr, nullptr, nullptr, nullptr, io_wake_m};

struct Registrar {
  Registrar() {
    register_poll_source(&kRingSource);
    register_mp_hooks(&kRingMpHooks);
    for (auto& w : m_wait_ring) w.store(-1, std::memory_order_relaxed);
  }
} registrar;

// Why io_uring cannot be used here, or "".
std::string unavailable_reason() {
  if (!g_forced.empty() && g_forced == "blocking") return "forced off by io::set_backend(\"blocking\")";
  if (const char* e = std::getenv("GMP_IO"); e != nullptr && std::strcmp(e, "blocking") == 0) {
    return "forced off by GMP_IO=blocking";
  }
  if (FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "r")) {
    int v = 0;
    if (std::fscanf(f, "%d", &v) == 1 && v == 2) {
      std::fclose(f);
      return "disabled by the kernel.io_uring_disabled sysctl";
    }
    std::fclose(f);
  }
  return "";
}

// Kernel features, for the banner.
std::string probe_features(unsigned* setup_flags) {
  std::string kern;
  io_uring t;
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(4, &t, &p) == 0) {
    kern += " single-issuer defer-taskrun";
    io_uring_queue_exit(&t);
  }
  p = io_uring_params{};
  p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  bool coop = io_uring_queue_init_params(4, &t, &p) == 0;
  if (coop) {
    kern += " coop-taskrun";
    io_uring_queue_exit(&t);
  }
  p = io_uring_params{};
  p.flags = IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(4, &t, &p) == 0) {
    kern += " submit-all";
    io_uring_queue_exit(&t);
    *setup_flags |= IORING_SETUP_SUBMIT_ALL;
  }
  if (p.features & IORING_FEAT_EXT_ARG) kern += " ext-arg";
  if (p.features & IORING_FEAT_FAST_POLL) kern += " fast-poll";
  if (p.features & IORING_FEAT_NODROP) kern += " nodrop";
  // COOP_TASKRUN: completion work waits for the submitting thread's next
  // kernel entry instead of interrupting it (docs/IO.md, "Task work").
  // GMP_IO_COOP=0 turns it off.
  if (coop) {
    const char* e = std::getenv("GMP_IO_COOP");
    if (e == nullptr || std::strcmp(e, "0") != 0) *setup_flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  }
  return kern;
}

}  // namespace

Ring* ring_of(int pid) noexcept { return &rings[pid]; }
bool uring_on() noexcept { return g_uring; }

Ring* current_ring() noexcept {
  if (!g_uring) return nullptr;
  if (getg() == nullptr) return nullptr;
  P* pp = getp();
  return pp != nullptr ? &rings[pp->id] : nullptr;
}

void ring_reserve(Ring* r, unsigned n) noexcept {
  if (io_uring_sq_space_left(&r->ring) < n) flush(r);
  // With SUBMIT_ALL the kernel takes every SQE; without it a full CQ can
  // refuse them (-EBUSY): reap so the SQ drains.
  while (io_uring_sq_space_left(&r->ring) < n) {
    bool rearm = false;
    io_uring_get_events(&r->ring);
    reap(r, &rearm);
    if (rearm) r->wake_armed.store(false, std::memory_order_relaxed);
    flush(r);
  }
}

io_uring_sqe* ring_get_sqe(Ring* r) noexcept {
  ring_reserve(r, 1);
  io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
  GMP_CHECK(sqe != nullptr, "runtime: io_uring SQ of P %d full after flush", r->id);
  return sqe;
}

namespace {

struct CommitArg {
  Ring* r;
};

bool commit_io(void* arg) noexcept {
  Ring* r = static_cast<Ring*>(arg);
  // Note [Submission batching].
  if (r->unsubmitted >= kSubmitBatch) {
    flush(r);
  } else if (r->unsubmitted > 0) {
    P* pp = getp();
    bool more = pp != nullptr && (!pp->runq.empty() || !pp->inbox.empty());
    if (more && sched.coarse_now_ns.load(std::memory_order_relaxed) - r->first_unsubmitted_ns > kSubmitDelayNs) {
      flush(r);
    }
  }
  return true;
}

void token_lock(io::CancelToken* t) noexcept {
  std::uint32_t z = 0;
  while (!t->lock_.compare_exchange_weak(z, 1, std::memory_order_acquire)) {
    z = 0;
    cpu_relax();
  }
}
void token_unlock(io::CancelToken* t) noexcept { t->lock_.store(0, std::memory_order_release); }

}  // namespace

namespace {

// One submission of an operation on r. *migrated: it was cancelled because
// r's P is being removed (Note [Draining a removed P's ring]); the result is
// then meaningless and the caller runs it again.
int ring_run_once(Ring* r, io::Op kind, const io::OpOptions& o, void (*prep)(io_uring_sqe*, void*), void* ctx,
                  bool* migrated) noexcept {
  if (o.cancel != nullptr && o.cancel->cancelled()) return -ECANCELED;
  const bool has_deadline = o.deadline != io::kNoDeadline;
  std::int64_t dl = 0;
  if (has_deadline) {
    dl = std::chrono::duration_cast<std::chrono::nanoseconds>(o.deadline.time_since_epoch()).count();
    if (dl <= nanotime()) return -ETIMEDOUT;
  }
  IoOp op;
  op.op = kind;
  op.ring = r;
  op.seq = r->next_seq++;
  ring_reserve(r, has_deadline ? 2 : 1);
  io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
  prep(sqe, ctx);
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op));
  op.pending = 1;
  if (has_deadline) {
    sqe->flags |= IOSQE_IO_LINK;
    op.ts.tv_sec = dl / 1'000'000'000;
    op.ts.tv_nsec = dl % 1'000'000'000;
    io_uring_sqe* t = io_uring_get_sqe(&r->ring);
    io_uring_prep_link_timeout(t, &op.ts, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data64(t, reinterpret_cast<std::uint64_t>(&op) | kTagLinkTimeout);
    op.pending = 2;
  }
  if (r->unsubmitted == 0) {
    r->first_unsubmitted_ns = sched.coarse_now_ns.load(std::memory_order_relaxed);
    r->submit_due_ns.store(r->first_unsubmitted_ns + kSubmitDelayNs, std::memory_order_relaxed);
  }
  r->unsubmitted += static_cast<std::uint32_t>(op.pending);
  op.next = r->inflight;
  if (r->inflight != nullptr) r->inflight->prev = &op;
  r->inflight = &op;
  r->n_inflight.store(r->n_inflight.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (o.cancel != nullptr) {
    token_lock(o.cancel);
    o.cancel->op_ = &op;
    o.cancel->ring_ = r->id;
    o.cancel->seq_ = op.seq;
    token_unlock(o.cancel);
    // A cancel() between the check above and the registration saw no op.
    if (o.cancel->cancelled()) ring_cancel(o.cancel);
  }
  GMP_PROBE_IO_SUBMIT(static_cast<int>(kind), op.seq, r->id);
  wait(op.w, WaitReason::kIo, commit_io, r);
  if (o.cancel != nullptr) {
    token_lock(o.cancel);
    if (o.cancel->op_ == &op) {  // a later operation may have taken the token over
      o.cancel->op_ = nullptr;
      o.cancel->ring_ = -1;
    }
    token_unlock(o.cancel);
  }
  if (op.res == -ECANCELED && op.timed_out) return -ETIMEDOUT;
  if (op.res == -ECANCELED && op.migrate && !(o.cancel != nullptr && o.cancel->cancelled())) {
    *migrated = true;
  }
  return op.res;
}

}  // namespace

int ring_run(Ring* r, io::Op kind, const io::OpOptions& o, void (*prep)(io_uring_sqe*, void*), void* ctx) noexcept {
  for (;;) {
    // A ring whose P set_procs is removing takes no new operation: wait
    // (a safe point) until the P is gone, and this goroutine on another one,
    // or the removal given up.
    while (r->draining.load(std::memory_order_acquire)) {
      gmp::yield();
      r = current_ring();
    }
    bool migrated = false;
    int res = ring_run_once(r, kind, o, prep, ctx, &migrated);
    if (!migrated) return res;
    io_counters.migrated.fetch_add(1, std::memory_order_relaxed);
    // The wake-up may have come after the removal (the P gone, the mark
    // already cleared): run again on the ring of the P this goroutine is
    // on now, never on the one it left.
    r = current_ring();
  }
}

namespace {

// Queues a cancel of op for r's owner (any thread: MPSC push).
void push_cancel(Ring* r, IoOp* op, std::uint64_t seq) {
  auto* c = new CancelReq{op, seq, nullptr};
  CancelReq* head = r->cancel_head.load(std::memory_order_relaxed);
  do {
    c->next = head;
  } while (!r->cancel_head.compare_exchange_weak(head, c, std::memory_order_release, std::memory_order_relaxed));
}

// Makes r's owner (or the idle M waiting in r) poll, which sends the
// queued cancels.
void wake_ring_owner(Ring* r) noexcept {
  std::uint64_t one = 1;
  ssize_t w = ::write(r->wake_fd, &one, sizeof one);
  (void)w;
  poke_idle_p(sched.allp[r->id]);
}

}  // namespace

void ring_cancel(io::CancelToken* t) noexcept {
  token_lock(t);
  IoOp* op = static_cast<IoOp*>(t->op_);
  int rid = t->ring_;
  std::uint64_t seq = t->seq_;
  token_unlock(t);
  if (op == nullptr || rid < 0) return;
  Ring* r = &rings[rid];
  push_cancel(r, op, seq);
  wake_ring_owner(r);
}

// ---- idle Ms ------------------------------------------------------------------

bool io_ring_waitable(P* pp) noexcept {
  if (!g_uring || pp == nullptr) return false;
  Ring* r = &rings[pp->id];
  return r->ok && r->wake_armed.load(std::memory_order_acquire);
}

bool io_ring_has_events(P* pp) noexcept {
  if (!io_ring_waitable(pp)) return false;
  Ring* r = &rings[pp->id];
  return cq_ready(r) || r->cancel_head.load(std::memory_order_acquire) != nullptr;
}

bool io_idle_wait(M* mp, P* pp, std::int64_t deadline_ns) noexcept {
  if (!io_ring_waitable(pp) || mp->id >= kMaxWaitMs) {
    mp->park.sleep(deadline_ns);
    return false;
  }
  Ring* r = &rings[pp->id];
  M* none = nullptr;
  if (!r->idle_waiter.compare_exchange_strong(none, mp, std::memory_order_acq_rel)) {
    mp->park.sleep(deadline_ns);  // another M waits in this ring (Ring::idle_waiter)
    return false;
  }
  m_wait_ring[mp->id].store(pp->id, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool ready = false;
  if (!mp->park.signaled() && !sched.stopping.load(std::memory_order_acquire)) {
    if (cq_ready(r) || r->cancel_head.load(std::memory_order_acquire) != nullptr) {
      ready = true;
    } else {
      io_counters.ring_waits.fetch_add(1, std::memory_order_relaxed);
      __kernel_timespec ts{};
      io_uring_getevents_arg arg{};
      arg.sigmask = 0;
      arg.sigmask_sz = _NSIG / 8;
      unsigned flags = IORING_ENTER_GETEVENTS;
      if (deadline_ns >= 0) {
        std::int64_t rel = deadline_ns - nanotime();
        if (rel < 0) rel = 0;
        ts.tv_sec = rel / 1'000'000'000;
        ts.tv_nsec = rel % 1'000'000'000;
        arg.ts = reinterpret_cast<std::uint64_t>(&ts);
      }
      flags |= IORING_ENTER_EXT_ARG;
      // Waits for one CQE; never reaps (the CQ belongs to the P's owner).
      syscall(__NR_io_uring_enter, r->ring.ring_fd, 0, 1, flags, &arg, sizeof arg);
      ready = cq_ready(r);
    }
  }
  m_wait_ring[mp->id].store(-1, std::memory_order_relaxed);
  r->idle_waiter.store(nullptr, std::memory_order_release);
  return ready && !mp->park.signaled();
}

void io_wake_m(M* mp) noexcept {
  if (!g_uring || mp->id >= kMaxWaitMs) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  int rid = m_wait_ring[mp->id].load(std::memory_order_seq_cst);
  if (rid < 0) return;
  std::uint64_t one = 1;
  ssize_t w = ::write(rings[rid].wake_fd, &one, sizeof one);
  (void)w;
}

void io_wake_all() noexcept {
  if (!g_uring) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (int i = 0; i < n_rings; i++) {
    std::uint64_t one = 1;
    ssize_t w = ::write(rings[i].wake_fd, &one, sizeof one);
    (void)w;
  }
}

std::uint32_t io_inflight(P* pp) noexcept {
  if (!g_uring) return 0;
  return rings[pp->id].n_inflight.load(std::memory_order_relaxed);
}

// Note [Draining a removed P's ring]
// A P's ring is reaped only by the M that owns the P, so set_procs cannot
// remove a P whose ring still has operations in flight: nobody would reap
// their completions. A server's accept (or a connection's recv) waits there
// for as long as no client comes, so waiting for it to finish is no answer:
// set_procs refused, and a listener's P could never be removed. Instead,
// under the stop, the stopper marks the ring draining and queues a cancel
// of every operation in flight with the op marked `migrate`; after the
// restart the P's M (still owning it) sends the cancels and reaps them. A
// cancelled operation whose kernel work had not started completes with
// -ECANCELED; its goroutine, seeing `migrate`, does not return that:
// ring_run waits (yielding) until the ring is no longer draining and runs
// the same operation again on its current P's ring. Any operation started
// on a draining ring waits the same way before it is submitted, so the ring
// empties, and set_procs's next stop removes the P; its goroutines move to
// the global queue and resubmit on the Ps that remain. An operation that
// completed before its cancel took effect keeps its real result (a cancel
// never undoes work done: io_uring answers such a cancel with -EALREADY or
// -ENOENT). A user's own cancel or deadline still wins over a migration.
void io_drain_begin(P* pp) noexcept {
  if (!g_uring) return;
  Ring* r = &rings[pp->id];
  if (!r->ok) return;
  r->draining.store(true, std::memory_order_relaxed);           // published by start_the_world
  for (IoOp* op = r->inflight; op != nullptr; op = op->next) {  // the world is stopped: no owner runs
    op->migrate = true;
    push_cancel(r, op, op->seq);  // a plain thread's ring_cancel may push at the same time
  }
}

void io_drain_poke(P* pp) noexcept {
  if (!g_uring) return;
  Ring* r = &rings[pp->id];
  if (r->ok && r->cancel_head.load(std::memory_order_acquire) != nullptr) wake_ring_owner(r);
}

void io_drain_end(P* pp) noexcept {
  if (!g_uring) return;
  rings[pp->id].draining.store(false, std::memory_order_release);
}

// ---- start / stop ------------------------------------------------------------

void io_start(int nprocs) noexcept {
  for (auto& c : {&io_counters.submitted, &io_counters.completed, &io_counters.enters, &io_counters.ring_waits,
                  &io_counters.blocking_calls, &io_counters.handoffs, &io_counters.fallbacks, &io_counters.migrated,
                  &io_counters.cq_overflows}) {
    c->store(0, std::memory_order_relaxed);
  }
  g_uring = false;
  std::string why = unavailable_reason();
  unsigned flags = 0;
  std::string kern;
  if (why.empty()) {
    kern = probe_features(&flags);
    if (std::string missing = ops_unsupported_by_kernel(); !missing.empty()) why = "kernel lacks " + missing;
  }
  int created = 0;
  if (why.empty()) {
    for (int i = 0; i < nprocs; i++) {
      Ring* r = &rings[i];
      r->id = i;
      io_uring_params p{};
      p.flags = flags | IORING_SETUP_CQSIZE;
      p.cq_entries = kCqEntries;
      int rc = io_uring_queue_init_params(kSqEntries, &r->ring, &p);
      if (rc < 0) {
        why = std::string("io_uring_setup failed: ") + std::strerror(-rc);
        break;
      }
      r->wake_fd = eventfd(0, EFD_CLOEXEC);
      if (r->wake_fd < 0) {
        io_uring_queue_exit(&r->ring);
        why = std::string("eventfd failed: ") + std::strerror(errno);
        break;
      }
      r->ok = true;
      r->idle_waiter.store(nullptr, std::memory_order_relaxed);
      r->unsubmitted = 0;
      r->submit_due_ns.store(-1, std::memory_order_relaxed);
      r->inflight = nullptr;
      r->n_inflight.store(0);
      r->wake_armed.store(false);
      r->cancel_head.store(nullptr);
      created++;
    }
  }
  n_rings = created;
  if (!why.empty()) {
    for (int i = 0; i < created; i++) {
      io_uring_queue_exit(&rings[i].ring);
      ::close(rings[i].wake_fd);
      rings[i].ok = false;
    }
    n_rings = 0;
    g_desc = "blocking system calls (io_uring " + why + ")";
    if (!g_said_fallback) {
      g_said_fallback = true;
      std::fprintf(stderr, "gmp: io_uring not used (%s): I/O runs as blocking system calls via gmp::blocking\n",
                   why.c_str());
    }
    return;
  }
  g_uring = true;
  std::string using_flags = (flags & IORING_SETUP_COOP_TASKRUN) ? "coop-taskrun" : "default task work";
  if (flags & IORING_SETUP_SUBMIT_ALL) using_flags += " submit-all";
  g_desc = "io_uring, one ring per P (" + std::to_string(kSqEntries) + " SQ / " + std::to_string(kCqEntries) +
           " CQ); kernel:" + kern + "; using: " + using_flags + ", eventfd wake-ups, linked timeouts";
}

void io_stop() noexcept {
  for (int i = 0; i < n_rings; i++) {
    Ring* r = &rings[i];
    if (!r->ok) continue;
    io_uring_queue_exit(&r->ring);
    ::close(r->wake_fd);
    r->wake_fd = -1;
    r->ok = false;
    CancelReq* c = r->cancel_head.exchange(nullptr);
    while (c != nullptr) {
      CancelReq* n = c->next;
      delete c;
      c = n;
    }
    r->inflight = nullptr;
  }
  n_rings = 0;
  g_uring = false;
}

}  // namespace gmp::detail

namespace gmp::io {

std::string backend_description() { return detail::g_desc; }
bool uring_enabled() noexcept { return detail::g_uring; }

Status set_backend(const std::string& name) {
  if (name != "io_uring" && name != "blocking") {
    return Status::error("I/O backend '" + name + "' is unknown (use io_uring or blocking)");
  }
  detail::g_forced = name;
  return {};
}

IoStats io_stats() noexcept {
  using detail::io_counters;
  IoStats s;
  s.submitted = io_counters.submitted.load(std::memory_order_relaxed);
  s.completed = io_counters.completed.load(std::memory_order_relaxed);
  s.enters = io_counters.enters.load(std::memory_order_relaxed);
  s.ring_waits = io_counters.ring_waits.load(std::memory_order_relaxed);
  s.blocking_calls = io_counters.blocking_calls.load(std::memory_order_relaxed);
  s.handoffs = io_counters.handoffs.load(std::memory_order_relaxed);
  s.fallbacks = io_counters.fallbacks.load(std::memory_order_relaxed);
  s.migrated = io_counters.migrated.load(std::memory_order_relaxed);
  s.cq_overflows = io_counters.cq_overflows.load(std::memory_order_relaxed);
  for (int i = 0; i < detail::n_rings; i++) {
    const detail::Ring& r = detail::rings[i];
    if (r.ok) s.in_flight += r.n_inflight.load(std::memory_order_relaxed);
  }
  return s;
}

void CancelToken::cancel() noexcept {
  cancelled_.store(true, std::memory_order_seq_cst);
  detail::ring_cancel(this);
}

}  // namespace gmp::io
