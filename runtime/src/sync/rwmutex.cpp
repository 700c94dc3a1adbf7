// sync/rwmutex.cpp — gmp::RWMutex.
//
// All state is under qlock_ (a spin lock held for a few stores). Invariants:
// writer_ => readers_ == 0; a waiting writer (whead_ != null) makes new
// readers queue (writers are not starved); a writer's unlock first admits
// every queued reader (readers are not starved by a stream of writers), else
// hands the lock to the next writer. Ownership is handed to woken waiters:
// they return from wait() owning the lock.
#include "base/check.hpp"
#include "gmp/sync.hpp"
#include "sync/wait_queue.hpp"
#include "sync/park.hpp"

namespace gmp {

using namespace detail;

void RWMutex::lock_shared() noexcept {
  qlock_acquire(qlock_);
  if (!writer_ && whead_ == nullptr) {
    readers_++;
    qlock_release(qlock_);
    return;
  }
  Waiter w;
  w.next = rhead_;
  rhead_ = &w;
  park_waiter(w, WaitReason::kRWMutexRead, qlock_commit, &qlock_);  // readers_ counted us
}

bool RWMutex::try_lock_shared() noexcept {
  QGuard g(qlock_);
  if (writer_ || whead_ != nullptr) return false;
  readers_++;
  return true;
}

void RWMutex::unlock_shared() noexcept {
  Waiter* w = nullptr;
  {
    QGuard g(qlock_);
    GMP_CHECK(readers_ > 0, "runtime: unlock_shared of unlocked RWMutex");
    if (--readers_ == 0 && whead_ != nullptr) {
      w = fifo_pop(whead_, wtail_);
      writer_ = true;
    }
  }
  if (w != nullptr) wake_waiter(*w);
}

void RWMutex::lock() noexcept {
  qlock_acquire(qlock_);
  if (!writer_ && readers_ == 0) {
    writer_ = true;
    qlock_release(qlock_);
    return;
  }
  Waiter w;
  fifo_push_back(whead_, wtail_, &w);
  park_waiter(w, WaitReason::kRWMutexWrite, qlock_commit, &qlock_);  // writer_ set for us
}

bool RWMutex::try_lock() noexcept {
  QGuard g(qlock_);
  if (writer_ || readers_ != 0) return false;
  writer_ = true;
  return true;
}

void RWMutex::unlock() noexcept {
  Waiter* readers = nullptr;
  Waiter* w = nullptr;
  {
    QGuard g(qlock_);
    GMP_CHECK(writer_, "runtime: unlock of unlocked RWMutex");
    writer_ = false;
    if (rhead_ != nullptr) {
      readers = rhead_;
      rhead_ = nullptr;
      for (Waiter* r = readers; r != nullptr; r = r->next) readers_++;
    } else if (whead_ != nullptr) {
      w = fifo_pop(whead_, wtail_);
      writer_ = true;
    }
  }
  while (readers != nullptr) {
    Waiter* next = readers->next;  // read before the wake: the waiter may return at once
    wake_waiter(*readers);
    readers = next;
  }
  if (w != nullptr) wake_waiter(*w);
}

}  // namespace gmp
