// sync/wait_group.cpp — gmp::WaitGroup and the JoinHandle state.
#include "base/check.hpp"
#include "sync/spin_lock.hpp"
#include "base/clock.hpp"
#include "gmp/join.hpp"
#include "gmp/sync.hpp"

namespace gmp {

namespace {

struct WgCommit {
  std::atomic<std::uint32_t>* lock;
};
bool wg_commit(void* arg) {
  detail::short_unlock(*static_cast<WgCommit*>(arg)->lock);
  return true;
}

}  // namespace

WaitGroup::~WaitGroup() {
  GMP_CHECK(waiters_ == nullptr, "runtime: WaitGroup destroyed while goroutines wait on it");
}

void WaitGroup::add(std::int64_t delta) noexcept {
  std::int64_t v = count_.fetch_add(delta, std::memory_order_acq_rel) + delta;
  GMP_CHECK(v >= 0, "runtime: negative WaitGroup counter (%lld)", static_cast<long long>(v));
  if (v != 0 || delta > 0) return;
  detail::Waiter* list;
  {
    detail::short_lock(lock_);
    // Re-check under the lock: a concurrent add() may have raised it again
    // (reusing a WaitGroup before wait returns is a race in Go too; we only
    // make sure no waiter is woken early).
    if (count_.load(std::memory_order_acquire) != 0) {
      detail::short_unlock(lock_);
      return;
    }
    list = waiters_;
    waiters_ = nullptr;
    detail::short_unlock(lock_);
  }
  while (list != nullptr) {
    detail::Waiter* next = list->next;
    detail::wake(*list);
    list = next;
  }
}

void WaitGroup::wait() noexcept {
  if (count_.load(std::memory_order_acquire) == 0) return;
  detail::Waiter w;
  // Take the lock; enqueue; the commit (after our context is saved) releases it.
  detail::short_lock(lock_);
  if (count_.load(std::memory_order_acquire) == 0) {
    detail::short_unlock(lock_);
    return;
  }
  w.next = waiters_;
  waiters_ = &w;
  WgCommit c{&lock_};
  detail::wait(w, detail::WaitReason::kWaitGroup, wg_commit, &c);
}

namespace detail {

void JoinStateBase::finish() noexcept {
  std::uintptr_t old = word_.exchange(kDone, std::memory_order_acq_rel);
  GMP_CHECK(old != kDone, "runtime: goroutine result set twice");
  if (old != 0) wake(*reinterpret_cast<Waiter*>(old));
}

namespace {
struct JoinCommit {
  std::atomic<std::uintptr_t>* word;
  Waiter* w;
};
bool join_commit(void* arg) {
  auto* c = static_cast<JoinCommit*>(arg);
  std::uintptr_t expected = 0;
  // Fails if the goroutine finished meanwhile: then do not block.
  return c->word->compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(c->w),
                                          std::memory_order_acq_rel);
}
}  // namespace

void JoinStateBase::wait_done() noexcept {
  if (word_.load(std::memory_order_acquire) == kDone) return;
  Waiter w;
  JoinCommit c{&word_, &w};
  wait(w, WaitReason::kJoin, join_commit, &c);
  GMP_CHECK(word_.load(std::memory_order_acquire) == kDone, "runtime: join woke before the goroutine finished");
}

}  // namespace detail
}  // namespace gmp
