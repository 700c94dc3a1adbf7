// sync/wait.cpp — detail::wait/wake (gmp/detail/wait.hpp): the parking
// primitive under every blocking API, for goroutines and plain threads.
#include "gmp/detail/wait.hpp"

#include "base/check.hpp"
#include "base/futex.hpp"
#include "sched/deadlock.hpp"
#include "sched/sched.hpp"
#include "sync/park.hpp"

namespace gmp::detail {

namespace {
constexpr const char* kWaitReasonNames[] = {
    "none",          "join",          "wait group",   "chan send",      "chan receive",
    "select",        "select (no cases)", "mutex",    "rwmutex read",   "rwmutex write",
    "cond",          "once",          "semaphore",    "sleep",          "timer",
    "io",            "syscall",       "stop the world", "preempted",    "user",
};
static_assert(sizeof(kWaitReasonNames) / sizeof(kWaitReasonNames[0]) == static_cast<size_t>(WaitReason::kCount),
              "every WaitReason needs a name");
}  // namespace

const char* wait_reason_name(WaitReason r) noexcept {
  auto i = static_cast<size_t>(r);
  return i < static_cast<size_t>(WaitReason::kCount) ? kWaitReasonNames[i] : "?";
}

void wait_thread(Waiter& w, bool (*commit)(void*), void* arg) noexcept {
  // A plain thread: block on the waiter's futex word.
  w.g = nullptr;
  w.woken.store(0, std::memory_order_relaxed);
  // Cannot wake a goroutine meanwhile (Note [Deadlock] in
  // sched/deadlock.cpp); counted before commit publishes the waiter, ended
  // by wake_thread (exactly one per committed wait) or here.
  plain_wait_begin();
  if (!commit(arg)) {
    plain_wait_end();
    return;
  }
  while (w.woken.load(std::memory_order_acquire) == 0) futex_wait(&w.woken, 0);
}

void wake_thread(Waiter& w) noexcept {
  // Not asleep from now on, though not yet running (Note [Deadlock]).
  plain_wait_end();
  // The waiter may return (and its Waiter die) as soon as woken is 1: the
  // wake syscall only uses the address.
  std::atomic<std::uint32_t>* word = &w.woken;
  word->store(1, std::memory_order_release);
  futex_wake(word);
}

void wait(Waiter& w, WaitReason reason, bool (*commit)(void*), void* arg) noexcept {
  park_waiter(w, reason, commit, arg);
}

void wake(Waiter& w) noexcept { wake_waiter(w); }

}  // namespace gmp::detail
