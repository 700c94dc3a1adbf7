// mem/current_p.cpp — the pool's one seam to the scheduler: which P is this?
#include "mem/pool_state.hpp"
#include "sched/sched.hpp"

namespace gmp::detail::mem {

static_assert(kMaxPools == kMaxProcs, "one pool cache per possible P");

int current_p_id() noexcept {
  P* pp = getp();
  return pp != nullptr ? pp->id : -1;
}

}  // namespace gmp::detail::mem
