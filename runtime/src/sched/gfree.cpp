// sched/gfree.cpp — recycling G descriptors and stacks (Go's gfget/gfput and
// stack cache).
//
// Descriptors and stacks are cached separately (g.hpp): a G gets its stack
// when it first runs and gives it back when it exits. Each P caches up to
// kLocalMax descriptors and kLocalMax stacks per class (owner only, no
// atomics, LIFO so the next G starts on the stack that was freed last, still
// hot); beyond that half moves to the global caches (mutex), and stacks beyond
// kGlobalStacks per class are released (memory returned, address range kept
// for reuse: stack/stack.hpp). A free stack's list node is a Stack record in
// its own top bytes.
#include <cerrno>
#include <cstdlib>
#include <new>

#include "base/check.hpp"
#include "sched/allgs.hpp"
#include "sched/sanitizer.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

namespace {

constexpr std::uint32_t kLocalMax = 64;
constexpr std::uint32_t kBatch = 32;
// Each cached stack keeps its touched pages (typically one or two), so this
// bounds the cache near 256–512 MiB per class.
constexpr std::uint32_t kGlobalStacks = 65536;

// A free stack's node, stored in the stack's own top bytes.
struct FreeStack {
  Stack stack;
  FreeStack* next;
};

FreeStack* node_of(const Stack& s) noexcept {
  return reinterpret_cast<FreeStack*>(s.hi - ((sizeof(FreeStack) + 15) & ~std::size_t{15}));
}

struct GlobalCaches {
  ThreadMutex mu;
  G* gfree GMP_GUARDED_BY(mu) = nullptr;
  FreeStack* stacks[kStackClasses] GMP_GUARDED_BY(mu) = {};
  std::uint32_t n_stacks[kStackClasses] GMP_GUARDED_BY(mu) = {};
};
GlobalCaches global;

void stack_put_global(FreeStack* list) noexcept {
  FreeStack* release = nullptr;
  {
    LockGuard lk(global.mu);
    while (list != nullptr) {
      FreeStack* next = list->next;
      int c = list->stack.cls;
      if (global.n_stacks[c] >= kGlobalStacks) {
        list->next = release;
        release = list;
      } else {
        list->next = global.stacks[c];
        global.stacks[c] = list;
        global.n_stacks[c]++;
      }
      list = next;
    }
  }
  while (release != nullptr) {
    FreeStack* next = release->next;
    Stack s = release->stack;
    stack_unmap(&s);
    release = next;
  }
}

void stack_put(P* pp, const Stack& s) noexcept {
#if GMP_ASAN
  // A goroutine never returns from its first frames (it exits by switching
  // away), so ASan's redzones for them stay poisoned: clear them before the
  // stack serves another goroutine.
  __asan_unpoison_memory_region(s.lo, s.size());
#endif
  FreeStack* n = node_of(s);
  n->stack = s;
  if (pp == nullptr) {
    n->next = nullptr;
    stack_put_global(n);
    return;
  }
  int c = s.cls;
  n->next = static_cast<FreeStack*>(pp->stack_free[c]);
  pp->stack_free[c] = n;
  if (++pp->stack_free_n[c] <= kLocalMax) return;
  // Move the older half to the global cache.
  FreeStack* keep = n;
  for (std::uint32_t i = 1; i < kLocalMax / 2; i++) keep = keep->next;
  FreeStack* spill = keep->next;
  keep->next = nullptr;
  pp->stack_free_n[c] = kLocalMax / 2;
  stack_put_global(spill);
}

int stack_get(P* pp, int cls, Stack* out) noexcept {
  if (pp != nullptr) {
    if (pp->stack_free[cls] == nullptr) {
      LockGuard lk(global.mu);
      while (pp->stack_free_n[cls] < kBatch && global.stacks[cls] != nullptr) {
        FreeStack* n = global.stacks[cls];
        global.stacks[cls] = n->next;
        global.n_stacks[cls]--;
        n->next = static_cast<FreeStack*>(pp->stack_free[cls]);
        pp->stack_free[cls] = n;
        pp->stack_free_n[cls]++;
      }
    }
    if (auto* n = static_cast<FreeStack*>(pp->stack_free[cls])) {
      pp->stack_free[cls] = n->next;
      pp->stack_free_n[cls]--;
      *out = n->stack;
      return 0;
    }
  } else {
    LockGuard lk(global.mu);
    if (FreeStack* n = global.stacks[cls]) {
      global.stacks[cls] = n->next;
      global.n_stacks[cls]--;
      *out = n->stack;
      return 0;
    }
  }
  return stack_map(cls, out);
}

}  // namespace

G* gfget(P* pp) noexcept {
  if (pp != nullptr) {
    if (pp->gfree == nullptr) {
      LockGuard lk(global.mu);
      while (pp->gfree_n < kBatch && global.gfree != nullptr) {
        G* gp = global.gfree;
        global.gfree = gp->sched_link;
        gp->sched_link = pp->gfree;
        pp->gfree = gp;
        pp->gfree_n++;
      }
    }
    if (G* gp = pp->gfree) {
      pp->gfree = gp->sched_link;
      pp->gfree_n--;
      gp->sched_link = nullptr;
      return gp;
    }
  } else {
    LockGuard lk(global.mu);
    if (G* gp = global.gfree) {
      global.gfree = gp->sched_link;
      gp->sched_link = nullptr;
      return gp;
    }
  }
  G* gp = new G();
  san_fiber_create(gp);
  allgs.add(gp);
  return gp;
}

int g_bind_stack(P* pp, G* gp) noexcept { return stack_get(pp, gp->stack_cls, &gp->stack); }

void gfput(P* pp, G* gp) noexcept {
  san_fiber_recycle(gp);
  gp->status.store(GStatus::kIdle, std::memory_order_relaxed);
  gp->m.store(nullptr, std::memory_order_relaxed);
  if (gp->closure_on_heap) std::free(gp->closure);
  gp->closure = nullptr;
  gp->closure_on_heap = false;
  gp->sp = nullptr;
  if (gp->stack.map != nullptr) {
    stack_put(pp, gp->stack);
    gp->stack = Stack{};
  }
  if (pp != nullptr) {
    gp->sched_link = pp->gfree;
    pp->gfree = gp;
    if (++pp->gfree_n <= kLocalMax) return;
    LockGuard lk(global.mu);
    while (pp->gfree_n > kLocalMax / 2) {
      G* x = pp->gfree;
      pp->gfree = x->sched_link;
      pp->gfree_n--;
      x->sched_link = global.gfree;
      global.gfree = x;
    }
    return;
  }
  LockGuard lk(global.mu);
  gp->sched_link = global.gfree;
  global.gfree = gp;
}

void gfree_purge() noexcept {
  // REQUIRES: no M runs (stop()).
  std::vector<G*> all;
  allgs.for_each([&](G* gp) { all.push_back(gp); });
  for (G* gp : all) {
    if (gp->closure_on_heap) std::free(gp->closure);
    if (gp->stack.map != nullptr) stack_unmap(&gp->stack);
    allgs.remove(gp);
    san_fiber_destroy(gp);
    delete gp;
  }
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    for (int c = 0; c < kStackClasses; c++) {
      auto* n = static_cast<FreeStack*>(pp->stack_free[c]);
      while (n != nullptr) {
        FreeStack* next = n->next;
        Stack s = n->stack;
        stack_unmap(&s);
        n = next;
      }
      pp->stack_free[c] = nullptr;
      pp->stack_free_n[c] = 0;
    }
    pp->gfree = nullptr;
    pp->gfree_n = 0;
  }
  LockGuard lk(global.mu);
  global.gfree = nullptr;
  for (int c = 0; c < kStackClasses; c++) {
    FreeStack* n = global.stacks[c];
    while (n != nullptr) {
      FreeStack* next = n->next;
      Stack s = n->stack;
      stack_unmap(&s);
      n = next;
    }
    global.stacks[c] = nullptr;
    global.n_stacks[c] = 0;
  }
}

}  // namespace gmp::detail
