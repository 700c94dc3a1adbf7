// sync/cond.cpp — gmp::CondVar (Go's sync.Cond).
//
// wait() enqueues under qlock_ and parks; the commit (after the goroutine's
// context is saved) releases qlock_ and then the user's mutex, so a notify
// that follows the unlock always finds the waiter queued: no lost wake-up.
// FIFO: notify_one wakes the longest waiter.
#include "gmp/sync.hpp"
#include "sync/wait_queue.hpp"
#include "sync/park.hpp"

namespace gmp {

using namespace detail;

namespace {
struct CondCommit {
  ShortLockWord* qlock;
  Mutex* m;
};
bool cond_commit(void* arg) {
  auto* c = static_cast<CondCommit*>(arg);
  qlock_release(*c->qlock);
  c->m->unlock();  // may wake a goroutine waiting for m: fine from a commit
  return true;
}
}  // namespace

void CondVar::wait(Mutex& m) noexcept {
  Waiter w;
  qlock_acquire(qlock_);
  fifo_push_back(head_, tail_, &w);
  CondCommit c{&qlock_, &m};
  detail::park_waiter(w, WaitReason::kCond, cond_commit, &c);
  m.lock();
}

void CondVar::notify_one() noexcept {
  Waiter* w;
  {
    QGuard g(qlock_);
    w = fifo_pop(head_, tail_);
  }
  if (w != nullptr) wake_waiter(*w);
}

void CondVar::notify_all() noexcept {
  Waiter* list;
  {
    QGuard g(qlock_);
    list = head_;
    head_ = tail_ = nullptr;
  }
  while (list != nullptr) {
    Waiter* next = list->next;
    wake_waiter(*list);
    list = next;
  }
}

}  // namespace gmp
