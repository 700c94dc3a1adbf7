// sync/chan_core.hpp — the type-erased channel (Go's hchan) and its wait
// queues, shared by chan.cpp (send/recv/close) and select.cpp.
//
// Invariants (as in Go's chan.go), all under ChanCore::lock:
//   - at most one of sendq and recvq is non-empty (a waiting sender and a
//     waiting receiver would have met);
//   - for a buffered channel: recvq non-empty => the buffer is empty, and
//     sendq non-empty => the buffer is full;
//   - closed only goes false -> true; after close both queues stay empty.
//
// Sudog: one waiting operation, on the waiter's stack. Plain send/recv use
// one; select enqueues one per case, all sharing one SelectState. A waker
// that dequeues a select's sudog must win the select (CAS done 0 -> 1) before
// it transfers anything; a loser's sudog is dropped from the queue and the
// select's goroutine removes its remaining sudogs after waking (under the
// locks of all its channels).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gmp/chan.hpp"
#include "gmp/detail/wait.hpp"
#include "sync/park.hpp"
#include "sync/elided_lock.hpp"

namespace gmp::detail {

struct SelectState {
  std::atomic<std::uint32_t> done{0};  // 0 until one case (or the timeout) wins
  int fired = -1;                       // written by the winner before wake()
  bool ok = false;                      // recv: a value arrived (not closed)
};

// * "Guarded by" here and in ChanCore is in words, not GMP_GUARDED_BY: the
// channel lock is not a Clang capability (a parked goroutine's commit
// releases it after the switch, and select takes several in a loop;
// sync/elided_lock.hpp).
struct Sudog {
  Sudog* next = nullptr;  // guarded by c->lock while queued*
  Sudog* prev = nullptr;
  Waiter* w = nullptr;
  void* elem = nullptr;            // send: the value; recv: raw destination storage
  SelectState* sel = nullptr;      // null for a plain send/recv
  int case_index = -1;
  bool queued = false;             // guarded by c->lock*
  bool success = false;            // written by the waker before wake(): false = woken by close
};

struct WaitQ {
  Sudog* head = nullptr;
  Sudog* tail = nullptr;

  bool empty() const noexcept { return head == nullptr; }
  void push(Sudog* s) noexcept {
    s->next = nullptr;
    s->prev = tail;
    if (tail != nullptr) tail->next = s; else head = s;
    tail = s;
    s->queued = true;
  }
  void remove(Sudog* s) noexcept {
    if (s->prev != nullptr) s->prev->next = s->next; else head = s->next;
    if (s->next != nullptr) s->next->prev = s->prev; else tail = s->prev;
    s->next = s->prev = nullptr;
    s->queued = false;
  }
  // The first waiter that can still be woken: plain ones always, a select's
  // only if this call wins it (then it records case and sets *won_sel).
  Sudog* dequeue() noexcept {
    while (Sudog* s = head) {
      head = s->next;  // remove(s), knowing s is the head
      if (head != nullptr) head->prev = nullptr; else tail = nullptr;
      s->next = nullptr;
      s->queued = false;
      if (s->sel == nullptr) return s;
      std::uint32_t expected = 0;
      if (s->sel->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        s->sel->fired = s->case_index;
        return s;
      }
      // Lost: its select already fired elsewhere (it cleans up its others).
    }
    return nullptr;
  }
};

class ChanCore {
 public:
  ChanCore(std::size_t cap, const ElemOps* ops, void* buf) noexcept : cap_(cap), ops_(ops), buf_(buf) {}

  ElidedLock lock;  // Note [One-P lock elision]
  const std::size_t cap_;
  const ElemOps* const ops_;
  void* const buf_;            // cap_ slots of ops_->size bytes (null if unbuffered)
  std::atomic<std::size_t> qcount{0};  // written under lock; read racily by len()
  std::size_t sendx = 0;               // guarded by lock*
  std::size_t recvx = 0;               // guarded by lock*
  std::atomic<bool> closed{false};  // written under lock; read racily by closed()
  WaitQ sendq;                      // guarded by lock*
  WaitQ recvq;                      // guarded by lock*
  std::atomic<std::int64_t> refs{1};

  void* slot(std::size_t i) const noexcept { return static_cast<char*>(buf_) + i * ops_->size; }

  // Moves an element into raw storage dst / destroys one (ElemOps::trivial:
  // a copy of a fixed size, no call).
  void move_elem(void* dst, void* src) const noexcept {
    if (ops_->trivial) {
      switch (ops_->size) {
        case 0: return;
        case 4: std::memcpy(dst, src, 4); return;
        case 8: std::memcpy(dst, src, 8); return;
        case 16: std::memcpy(dst, src, 16); return;
        default: std::memcpy(dst, src, ops_->size); return;
      }
    }
    ops_->move_construct(dst, src);
  }
  void destroy_elem(void* p) const noexcept {
    if (!ops_->trivial) ops_->destroy(p);
  }

  // The operations below REQUIRE: lock held. Each returns with it held.
  // The non-blocking halves of send and receive, shared by chan.cpp and
  // select.cpp. *woken: a dequeued partner to sudog_wake() once the lock is
  // released (null if none).
  // Send: to a waiting receiver, else into the buffer; false if neither.
  // REQUIRES: not closed (the caller reports send-on-closed).
  bool try_send_locked(void* elem, Sudog** woken) noexcept;
  // Receive: from a waiting sender, else the buffer, else kClosed if closed,
  // else kWouldBlock.
  ChanResult try_recv_locked(void* out, Sudog** woken) noexcept;
  // A waiting sender s was dequeued: take its value into raw storage out.
  void recv_from_sender(Sudog* s, void* out) noexcept;
  // Takes the oldest buffered value into raw storage out. REQUIRES: qcount > 0.
  void recv_from_buffer(void* out) noexcept;
  // Appends *elem to the buffer. REQUIRES: qcount < cap.
  void send_to_buffer(void* elem) noexcept;
};

// The non-blocking halves, inline: chan.cpp's send/recv and select.cpp each
// get their own copy (one call level less on every channel operation).
inline void ChanCore::recv_from_sender(Sudog* s, void* out) noexcept {
  if (cap_ == 0) {
    move_elem(out, s->elem);
  } else {
    // The buffer is full: take its head, and put the sender's value in the
    // slot just freed (the tail, since sendx == recvx when full).
    void* head = slot(recvx);
    move_elem(out, head);
    destroy_elem(head);
    move_elem(head, s->elem);
    if (++recvx == cap_) recvx = 0;
    sendx = recvx;
  }
  s->success = true;
}

inline void ChanCore::recv_from_buffer(void* out) noexcept {
  void* p = slot(recvx);
  move_elem(out, p);
  destroy_elem(p);
  if (++recvx == cap_) recvx = 0;
  qcount.store(qcount.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

inline void ChanCore::send_to_buffer(void* elem) noexcept {
  move_elem(slot(sendx), elem);
  if (++sendx == cap_) sendx = 0;
  qcount.store(qcount.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

inline bool ChanCore::try_send_locked(void* elem, Sudog** woken) noexcept {
  if (Sudog* r = recvq.dequeue()) {
    move_elem(r->elem, elem);
    r->success = true;
    if (r->sel != nullptr) r->sel->ok = true;
    *woken = r;
    return true;
  }
  *woken = nullptr;
  if (qcount.load(std::memory_order_relaxed) < cap_) {
    send_to_buffer(elem);
    return true;
  }
  return false;
}

inline ChanResult ChanCore::try_recv_locked(void* out, Sudog** woken) noexcept {
  if (Sudog* s = sendq.dequeue()) {
    recv_from_sender(s, out);
    *woken = s;
    return ChanResult::kOk;
  }
  *woken = nullptr;
  if (qcount.load(std::memory_order_relaxed) > 0) {
    recv_from_buffer(out);
    return ChanResult::kOk;
  }
  return closed.load(std::memory_order_relaxed) ? ChanResult::kClosed : ChanResult::kWouldBlock;
}

// Wakes the waiter of a dequeued sudog. REQUIRES: the channel lock released
// (the waiter may return and free the sudog as soon as it is woken).
inline void sudog_wake(Sudog* s) noexcept { wake_waiter(*s->w); }

}  // namespace gmp::detail
