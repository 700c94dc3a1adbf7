// sched/allgs.hpp — the registry of every G descriptor that exists (live,
// parked, or cached for reuse), for goroutine dumps and for stop().
//
// Entries are added when a stack is mapped for a new descriptor and removed
// when it is unmapped — not per spawn — so the lock is off the spawn path.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "gmp/detail/thread_annotations.hpp"
#include "sched/g.hpp"

namespace gmp::detail {

class AllGs {
 public:
  void add(G* gp);
  void remove(G* gp);
  // Calls fn(G*) for every descriptor, under the lock.
  template <class F>
  void for_each(F&& fn) {
    LockGuard lk(mu_);
    for (G* gp : gs_) fn(gp);
  }
  // Same, but gives up (returns false) if the lock is held: for fatal paths
  // that may have interrupted a holder.
  template <class F>
  bool try_for_each(F&& fn) {
    if (!mu_.try_lock()) return false;
    for (G* gp : gs_) fn(gp);
    mu_.unlock();
    return true;
  }
  std::size_t size();

 private:
  ThreadMutex mu_;
  std::vector<G*> gs_ GMP_GUARDED_BY(mu_);  // gs_[gp->allg_index] == gp
};

extern AllGs allgs;

}  // namespace gmp::detail
