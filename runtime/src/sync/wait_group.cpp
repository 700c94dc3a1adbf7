// sync/wait_group.cpp — gmp::WaitGroup and the JoinHandle state.
#include "base/check.hpp"
#include "sync/spin_lock.hpp"
#include "base/clock.hpp"
#include "gmp/join.hpp"
#include "gmp/sync.hpp"
#include "sync/park.hpp"

namespace gmp {

namespace {

struct WgCommit {
  detail::ShortLockWord* lock;
};
bool wg_commit(void* arg) {
  detail::short_unlock(*static_cast<WgCommit*>(arg)->lock);
  return true;
}

}  // namespace

WaitGroup::~WaitGroup() {
  GMP_CHECK(static_cast<std::uint32_t>(state_.load(std::memory_order_acquire)) == 0,
            "runtime: WaitGroup destroyed while goroutines wait on it");
}

void WaitGroup::add(std::int64_t delta) noexcept {
  const std::uint64_t s =
      state_.fetch_add(static_cast<std::uint64_t>(delta) << 32, std::memory_order_acq_rel) +
      (static_cast<std::uint64_t>(delta) << 32);
  const auto v = static_cast<std::int32_t>(s >> 32);
  const auto w = static_cast<std::uint32_t>(s);
  GMP_CHECK(v >= 0, "runtime: negative WaitGroup counter (%d)", v);
  // Zero with no waiters: touch nothing more (a waiter may have seen zero
  // and destroyed us). Waiters counted in are parked or about to be, under
  // lock_, so they cannot return before we wake them.
  if (v > 0 || w == 0) return;
  detail::short_lock(lock_);
  detail::Waiter* list = waiters_;
  waiters_ = nullptr;
  // Reset the waiter count; a concurrent add() from 0 while waiters wait is
  // misuse in Go too (reuse before wait returned).
  state_.store(0, std::memory_order_release);
  detail::short_unlock(lock_);
  while (list != nullptr) {
    detail::Waiter* next = list->next;
    detail::wake_waiter(*list);
    list = next;
  }
}

void WaitGroup::wait() noexcept {
  if ((state_.load(std::memory_order_acquire) >> 32) == 0) return;
  detail::Waiter w;
  // Under lock_, count ourselves in only while the counter is non-zero, so
  // the add() that reaches zero either sees us (and wakes us after taking
  // lock_, i.e. after our commit enqueued us) or we see zero and return.
  detail::short_lock(lock_);
  std::uint64_t s = state_.load(std::memory_order_acquire);
  do {
    if ((s >> 32) == 0) {
      detail::short_unlock(lock_);
      return;
    }
  } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel));
  w.next = waiters_;
  waiters_ = &w;
  WgCommit c{&lock_};
  detail::park_waiter(w, detail::WaitReason::kWaitGroup, wg_commit, &c);
}

namespace detail {

void JoinStateBase::finish() noexcept {
  std::uintptr_t old = word_.exchange(kDone, std::memory_order_acq_rel);
  GMP_CHECK(old != kDone, "runtime: goroutine result set twice");
  if (old != 0) wake_waiter(*reinterpret_cast<Waiter*>(old));
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
  park_waiter(w, WaitReason::kJoin, join_commit, &c);
  GMP_CHECK(word_.load(std::memory_order_acquire) == kDone, "runtime: join woke before the goroutine finished");
}

}  // namespace detail
}  // namespace gmp
