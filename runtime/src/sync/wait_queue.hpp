// sync/wait_queue.hpp — helpers shared by the sync primitives: a guard over
// a short queue lock (spin, then futex: sync/spin_lock.hpp), a FIFO of detail::Waiter (next/prev
// links), and the park commit that releases the queue lock.
// REQUIRES for every queue operation: the queue's lock held.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/clock.hpp"
#include "sync/spin_lock.hpp"
#include "gmp/detail/wait.hpp"

namespace gmp::detail {

inline void qlock_acquire(ShortLockWord& l) noexcept { short_lock(l); }
inline void qlock_release(ShortLockWord& l) noexcept { short_unlock(l); }

struct QGuard {
  explicit QGuard(ShortLockWord& l) noexcept : l_(l) { qlock_acquire(l_); }
  ~QGuard() { qlock_release(l_); }
  ShortLockWord& l_;
};

inline void fifo_push_back(Waiter*& head, Waiter*& tail, Waiter* w) noexcept {
  w->next = nullptr;
  w->prev = tail;
  if (tail != nullptr) tail->next = w; else head = w;
  tail = w;
}
inline void fifo_push_front(Waiter*& head, Waiter*& tail, Waiter* w) noexcept {
  w->prev = nullptr;
  w->next = head;
  if (head != nullptr) head->prev = w; else tail = w;
  head = w;
}
inline Waiter* fifo_pop(Waiter*& head, Waiter*& tail) noexcept {
  Waiter* w = head;
  if (w == nullptr) return nullptr;
  head = w->next;
  if (head != nullptr) head->prev = nullptr; else tail = nullptr;
  w->next = w->prev = nullptr;
  return w;
}

// Park commit: release the queue lock the waiter was enqueued under.
inline bool qlock_commit(void* arg) {
  qlock_release(*static_cast<ShortLockWord*>(arg));
  return true;
}

}  // namespace gmp::detail
