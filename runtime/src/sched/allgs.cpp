// sched/allgs.cpp — see allgs.hpp.
#include "sched/allgs.hpp"

namespace gmp::detail {

AllGs allgs;

void AllGs::add(G* gp) {
  LockGuard lk(mu_);
  gp->allg_index = static_cast<std::uint32_t>(gs_.size());
  gs_.push_back(gp);
}

void AllGs::remove(G* gp) {
  LockGuard lk(mu_);
  std::uint32_t i = gp->allg_index;
  G* last = gs_.back();
  gs_[i] = last;
  last->allg_index = i;
  gs_.pop_back();
}

std::size_t AllGs::size() {
  LockGuard lk(mu_);
  return gs_.size();
}

}  // namespace gmp::detail
