// sync/wait_queue.hpp — helpers shared by the sync primitives: a spin guard
// over an atomic<bool> queue lock, a FIFO of detail::Waiter (next/prev
// links), and the park commit that releases the queue lock.
// REQUIRES for every queue operation: the queue's lock held.
#pragma once

#include <atomic>

#include "base/clock.hpp"
#include "gmp/detail/wait.hpp"

namespace gmp::detail {

inline void qlock_acquire(std::atomic<bool>& l) noexcept {
  while (l.exchange(true, std::memory_order_acquire)) {
    while (l.load(std::memory_order_relaxed)) cpu_relax();
  }
}
inline void qlock_release(std::atomic<bool>& l) noexcept { l.store(false, std::memory_order_release); }

struct QGuard {
  explicit QGuard(std::atomic<bool>& l) noexcept : l_(l) { qlock_acquire(l_); }
  ~QGuard() { qlock_release(l_); }
  std::atomic<bool>& l_;
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
  qlock_release(*static_cast<std::atomic<bool>*>(arg));
  return true;
}

}  // namespace gmp::detail
