// sched/gfree.cpp — recycling dead Gs with their stacks (Go's gfget/gfput).
//
// A dead G keeps its descriptor and stack. Each P caches up to kLocalMax per
// stack class (owner only, no atomics); beyond that half moves to the global
// cache, and beyond kGlobalMax per class the global cache unmaps. A P with an
// empty cache takes a batch from the global cache before it maps a new stack,
// so spawning maps nothing once the process is warm.
#include <new>

#include "base/check.hpp"
#include "sched/allgs.hpp"
#include "sched/sanitizer.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

namespace {

constexpr std::uint32_t kLocalMax = 64;
constexpr std::uint32_t kBatch = 32;
// Each cached G keeps its touched stack pages (4–8 KiB), so this bounds the
// cache near 256–512 MiB at the default stack class; beyond it stacks are
// released (their memory returned, their address range kept for reuse).
constexpr std::uint32_t kGlobalMax = 65536;

struct GlobalGFree {
  std::mutex mu;
  G* head[kStackClasses] = {};          // GMP_GUARDED_BY(mu)
  std::uint32_t n[kStackClasses] = {};  // GMP_GUARDED_BY(mu)
};
GlobalGFree gfree_global;

constexpr std::size_t kGDescBytes = (sizeof(G) + 63) & ~std::size_t{63};

G* g_map(int cls, int* err) {
  Stack st;
  int r = stack_map(cls, &st);
  if (r != 0) {
    *err = r;
    return nullptr;
  }
  G* gp = ::new (st.hi - kGDescBytes) G();
  gp->stack = st;
  san_fiber_create(gp);
  allgs.add(gp);
  return gp;
}

void g_unmap(G* gp) {
  allgs.remove(gp);
  san_fiber_destroy(gp);
  Stack st = gp->stack;
  gp->~G();
  stack_unmap(&st);
}

}  // namespace

G* gfget(P* pp, std::size_t stack_bytes, int* err) noexcept {
  int cls = stack_class_for(stack_bytes < kMinStackBytes ? kMinStackBytes : stack_bytes);
  if (cls < 0) {
    *err = -EINVAL;
    return nullptr;
  }
  if (pp != nullptr) {
    if (pp->gfree[cls] == nullptr) {
      // Refill a batch from the global cache.
      std::lock_guard<std::mutex> lk(gfree_global.mu);
      while (pp->gfree_n[cls] < kBatch && gfree_global.head[cls] != nullptr) {
        G* gp = gfree_global.head[cls];
        gfree_global.head[cls] = gp->sched_link;
        gfree_global.n[cls]--;
        gp->sched_link = pp->gfree[cls];
        pp->gfree[cls] = gp;
        pp->gfree_n[cls]++;
      }
    }
    if (G* gp = pp->gfree[cls]) {
      pp->gfree[cls] = gp->sched_link;
      pp->gfree_n[cls]--;
      gp->sched_link = nullptr;
      return gp;
    }
  } else {
    std::lock_guard<std::mutex> lk(gfree_global.mu);
    if (G* gp = gfree_global.head[cls]) {
      gfree_global.head[cls] = gp->sched_link;
      gfree_global.n[cls]--;
      gp->sched_link = nullptr;
      return gp;
    }
  }
  return g_map(cls, err);
}

void gfput(P* pp, G* gp) noexcept {
  int cls = gp->stack.cls;
  gp->status.store(GStatus::kIdle, std::memory_order_relaxed);
  gp->m.store(nullptr, std::memory_order_relaxed);
  if (pp != nullptr) {
    gp->sched_link = pp->gfree[cls];
    pp->gfree[cls] = gp;
    if (++pp->gfree_n[cls] <= kLocalMax) return;
    // Move half to the global cache.
    G* unmap_list = nullptr;
    {
      std::lock_guard<std::mutex> lk(gfree_global.mu);
      while (pp->gfree_n[cls] > kLocalMax / 2) {
        G* x = pp->gfree[cls];
        pp->gfree[cls] = x->sched_link;
        pp->gfree_n[cls]--;
        if (gfree_global.n[cls] >= kGlobalMax) {
          x->sched_link = unmap_list;
          unmap_list = x;
        } else {
          x->sched_link = gfree_global.head[cls];
          gfree_global.head[cls] = x;
          gfree_global.n[cls]++;
        }
      }
    }
    while (unmap_list != nullptr) {
      G* x = unmap_list;
      unmap_list = x->sched_link;
      g_unmap(x);
    }
    return;
  }
  bool unmap = false;
  {
    std::lock_guard<std::mutex> lk(gfree_global.mu);
    if (gfree_global.n[cls] >= kGlobalMax) {
      unmap = true;
    } else {
      gp->sched_link = gfree_global.head[cls];
      gfree_global.head[cls] = gp;
      gfree_global.n[cls]++;
    }
  }
  if (unmap) g_unmap(gp);
}

void gfree_purge() noexcept {
  // REQUIRES: no M runs (stop()). Unmaps every descriptor, cached or not.
  std::vector<G*> all;
  allgs.for_each([&](G* gp) { all.push_back(gp); });
  for (G* gp : all) g_unmap(gp);
  std::lock_guard<std::mutex> lk(gfree_global.mu);
  for (int c = 0; c < kStackClasses; c++) {
    gfree_global.head[c] = nullptr;
    gfree_global.n[c] = 0;
  }
}

}  // namespace gmp::detail
