// sync/chan.cpp — channel send, receive and close (Go's chan.go) over the
// type-erased ChanCore (chan_core.hpp has the invariants).
//
// Every operation takes the channel's spin lock, and either completes at
// once (a waiting partner, or buffer room/values) or enqueues a Sudog on its
// own stack and parks; the park's commit releases the lock, so a waker finds
// the sudog only once the parked goroutine's context is saved. The waker does
// the whole transfer (copying into the parked receiver's storage, or out of
// the parked sender's value) before wake(): the woken side only reads
// `success`. A woken goroutine goes to the waker's runnext (detail::wake).
#include <cstdlib>
#include <new>

#include "base/check.hpp"
#include "sync/chan_core.hpp"
#include "trace/probes.hpp"
#include "sync/park.hpp"

namespace gmp::detail {

namespace {

bool unlock_commit(void* arg) {
  static_cast<ElidedLock*>(arg)->unlock();
  return true;
}

}  // namespace

ChanCore* chan_new(std::size_t cap, const ElemOps* ops) {
  std::size_t align = ops->align < alignof(std::max_align_t) ? alignof(std::max_align_t) : ops->align;
  std::size_t head = (sizeof(ChanCore) + align - 1) & ~(align - 1);
  GMP_CHECK(ops->size == 0 || cap <= (std::size_t{1} << 40) / ops->size, "runtime: channel capacity %zu too large",
            cap);
  void* mem = ::operator new(head + cap * ops->size, std::align_val_t(align));
  void* buf = cap > 0 ? static_cast<char*>(mem) + head : nullptr;
  return ::new (mem) ChanCore(cap, ops, buf);
}

void chan_ref(ChanCore* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chan_unref(ChanCore* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Last handle: no operation can be pending (a waiter holds a handle).
  std::size_t n = c->qcount.load(std::memory_order_relaxed);
  for (std::size_t i = 0, x = c->recvx; i < n; i++) {
    c->destroy_elem(c->slot(x));
    if (++x == c->cap_) x = 0;
  }
  std::size_t align = c->ops_->align < alignof(std::max_align_t) ? alignof(std::max_align_t) : c->ops_->align;
  c->~ChanCore();
  ::operator delete(static_cast<void*>(c), std::align_val_t(align));
}

namespace {

// Enqueues a sudog for elem on q and parks until a partner (which does the
// transfer) or close wakes it. Returns the sudog's success.
// REQUIRES: c->lock held (released by the park commit).
bool park_on(ChanCore* c, WaitQ& q, void* elem, WaitReason reason) noexcept {
  Waiter w;
  Sudog s;
  s.w = &w;
  s.elem = elem;
  q.push(&s);
  park_waiter(w, reason, unlock_commit, &c->lock);
  return s.success;
}

}  // namespace

ChanResult chan_send(ChanCore* c, void* elem, bool block) noexcept {
  safe_point();
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    fatal("runtime: send on closed channel");
  }
  Sudog* woken;
  if (c->try_send_locked(elem, &woken)) {
    c->lock.unlock();
    if (woken != nullptr) sudog_wake(woken);
    return ChanResult::kOk;
  }
  if (!block) {
    c->lock.unlock();
    return ChanResult::kWouldBlock;
  }
  // Woken by a receiver (which took the value) or by close.
  GMP_CHECK(park_on(c, c->sendq, elem, WaitReason::kChanSend), "runtime: send on closed channel");
  return ChanResult::kOk;
}

ChanResult chan_recv(ChanCore* c, void* out, bool block) noexcept {
  safe_point();
  // Fast fail for a non-blocking receive on an empty open buffered channel
  // (Go does the same lock-free check: not-ready observed at one instant;
  // cap > 0 and qcount == 0 means no sender waits).
  if (!block && c->cap_ > 0 && c->qcount.load(std::memory_order_acquire) == 0 &&
      !c->closed.load(std::memory_order_acquire)) {
    return ChanResult::kWouldBlock;
  }
  c->lock.lock();
  Sudog* woken;
  ChanResult r = c->try_recv_locked(out, &woken);
  if (r != ChanResult::kWouldBlock || !block) {
    c->lock.unlock();
    if (woken != nullptr) sudog_wake(woken);
    return r;
  }
  return park_on(c, c->recvq, out, WaitReason::kChanRecv) ? ChanResult::kOk : ChanResult::kClosed;
}

void chan_close(ChanCore* c) noexcept {
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    fatal("runtime: close of closed channel");
  }
  c->closed.store(true, std::memory_order_release);
  // Collect every waiter (success = false), wake them after unlocking.
  Sudog* list = nullptr;
  while (Sudog* r = c->recvq.dequeue()) {
    r->success = false;
    if (r->sel != nullptr) r->sel->ok = false;
    r->next = list;
    list = r;
  }
  while (Sudog* s = c->sendq.dequeue()) {
    s->success = false;
    s->next = list;
    list = s;
  }
  c->lock.unlock();
  while (list != nullptr) {
    Sudog* next = list->next;  // read before the wake: the sudog may die
    sudog_wake(list);
    list = next;
  }
}

std::size_t chan_len(const ChanCore* c) noexcept { return c->qcount.load(std::memory_order_relaxed); }
std::size_t chan_cap(const ChanCore* c) noexcept { return c->cap_; }
bool chan_closed(const ChanCore* c) noexcept { return c->closed.load(std::memory_order_acquire); }

}  // namespace gmp::detail
