// sync/sema.cpp — gmp::Semaphore: a FIFO counting semaphore.
//
// Under qlock_: count_ and the waiter queue (Waiter::token = units wanted).
// Invariant: if the queue is non-empty, count_ < head's request (else release
// would have granted it). Grants are hand-offs: a woken waiter owns its units.
// A newcomer never overtakes a queued waiter (a large request is not starved).
#include "base/check.hpp"
#include "gmp/sync.hpp"
#include "sync/wait_queue.hpp"
#include "sync/park.hpp"

namespace gmp {

using namespace detail;

void Semaphore::acquire(std::int64_t n) noexcept {
  GMP_CHECK(n > 0, "runtime: Semaphore::acquire(%lld): n must be positive", static_cast<long long>(n));
  qlock_acquire(qlock_);
  if (head_ == nullptr && count_ >= n) {
    count_ -= n;
    qlock_release(qlock_);
    return;
  }
  Waiter w;
  w.token = static_cast<std::uintptr_t>(n);
  fifo_push_back(head_, tail_, &w);
  park_waiter(w, WaitReason::kSemaphore, qlock_commit, &qlock_);
}

bool Semaphore::try_acquire(std::int64_t n) noexcept {
  GMP_CHECK(n > 0, "runtime: Semaphore::try_acquire(%lld): n must be positive", static_cast<long long>(n));
  QGuard g(qlock_);
  if (head_ != nullptr || count_ < n) return false;
  count_ -= n;
  return true;
}

void Semaphore::release(std::int64_t n) noexcept {
  GMP_CHECK(n > 0, "runtime: Semaphore::release(%lld): n must be positive", static_cast<long long>(n));
  Waiter* list = nullptr;
  Waiter* last = nullptr;
  {
    QGuard g(qlock_);
    GMP_CHECK(count_ <= INT64_MAX - n, "runtime: Semaphore count overflow");
    count_ += n;
    while (head_ != nullptr && count_ >= static_cast<std::int64_t>(head_->token)) {
      Waiter* w = fifo_pop(head_, tail_);
      count_ -= static_cast<std::int64_t>(w->token);
      if (last != nullptr) last->next = w; else list = w;
      last = w;
    }
  }
  while (list != nullptr) {
    Waiter* next = list->next;
    wake_waiter(*list);
    list = next;
  }
}

std::int64_t Semaphore::available() const noexcept {
  auto& l = const_cast<detail::ShortLockWord&>(qlock_);
  QGuard g(l);
  return count_;
}

}  // namespace gmp
