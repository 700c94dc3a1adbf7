// sched/gfree.cpp — recycling G descriptors and stacks (Go's gfget/gfput and
// stack cache).
//
// Descriptors and stacks are cached separately (g.hpp): a G gets its stack
// when it first runs and gives it back when it exits. Each P caches up to
// kLocalMax descriptors and kLocalMax stacks per class (owner only, no
// atomics, LIFO so the next G starts on the stack that was freed last, still
// hot); beyond that half moves to the global caches (mutex). A free stack's
// list node is a Stack record in its own top bytes. Cached stacks keep their
// touched pages; the scavenger gives back what stays unused (Note [Stack
// scavenging]).
//
// Note [Stack scavenging]
// ~~~~~~~~~~~~~~~~~~~~~~~
// Returning a stack's memory to the kernel is a system call and a TLB flush,
// and reusing it afterwards a page fault: 10-20 us each on some VMs. Done on
// the exit path (as this file did once, past 65536 cached stacks per class),
// it made the wake-up of N parked goroutines superlinear: 100k woke and
// finished in 14 us a goroutine, 10k in 0.9 us. Go never frees a stack on
// exit either: freed stacks stay in its stack pool and the background
// scavenger returns idle memory slowly.
//
// So the exit path only caches, and sysmon calls stacks_scavenge() on its
// ticks. Each kScavengePeriodNs it takes, per class, the low-water mark of
// the global cache over the period just ended — stacks nobody needed in that
// whole period — and releases that many beyond kRetainStacks during the next
// period, in batches (neighbours in a slab in one madvise), spending at most
// kScavengeShare of sysmon's wall time. A burst of a million goroutines
// therefore leaves its stacks cached for a second or two, then they go back
// over the following seconds; a service that bursts every second keeps them.
// At gmp::stop every slab is unmapped whole (stacks_drop_all_slabs) instead
// of stack by stack.
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "sched/allgs.hpp"
#include "sched/sanitizer.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

namespace {

constexpr std::uint32_t kLocalMax = 64;
constexpr std::uint32_t kBatch = 32;
// Note [Stack scavenging].
constexpr std::int64_t kScavengePeriodNs = 1'000'000'000;
constexpr std::uint32_t kRetainStacks = 1024;  // per class, never scavenged
constexpr std::size_t kScavengeBatch = 256;
constexpr double kScavengeShare = 0.05;  // of wall time, on the sysmon thread

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
  // Note [Stack scavenging]: the fewest cached this period, and how many
  // may still be released in this one.
  std::uint32_t low_water[kStackClasses] GMP_GUARDED_BY(mu) = {};
  std::uint32_t surplus[kStackClasses] GMP_GUARDED_BY(mu) = {};
};
GlobalCaches global;

// Scavenger state: sysmon's thread only.
std::int64_t scavenge_period_ns = 0;  // start of the current period
std::int64_t scavenge_spent_ns = 0;   // release time spent since sysmon started
std::int64_t scavenge_since_ns = 0;   // when sysmon started scavenging
std::atomic<std::uint64_t> scavenged_total{0};  // stacks released (read by sched_stats)

void note_taken(int c) noexcept GMP_REQUIRES(global.mu) {
  if (global.n_stacks[c] < global.low_water[c]) global.low_water[c] = global.n_stacks[c];
  if (global.surplus[c] > global.n_stacks[c]) global.surplus[c] = global.n_stacks[c];
}

void stack_put_global(FreeStack* list) noexcept {
  LockGuard lk(global.mu);
  while (list != nullptr) {
    FreeStack* next = list->next;
    int c = list->stack.cls;
    list->next = global.stacks[c];
    global.stacks[c] = list;
    global.n_stacks[c]++;
    list = next;
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
        note_taken(cls);
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
      note_taken(cls);
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
  // Slab stacks are not released one by one: every slab goes at the end in
  // one munmap each (a million released singly cost tens of seconds on a VM
  // where each release is a system call and a TLB flush). Stacks of their
  // own mapping (the mprotect fallback) are unmapped here.
  std::vector<Stack> own;
  auto drop = [&own](const Stack& s) {
    if (s.map != nullptr && !s.slab) own.push_back(s);
  };
  std::vector<G*> all;
  allgs.for_each([&](G* gp) { all.push_back(gp); });
  for (G* gp : all) {
    if (gp->closure_on_heap) std::free(gp->closure);
    drop(gp->stack);
    gp->stack = Stack{};
    allgs.remove(gp);
    san_fiber_destroy(gp);
    delete gp;
  }
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    for (int c = 0; c < kStackClasses; c++) {
      for (auto* n = static_cast<FreeStack*>(pp->stack_free[c]); n != nullptr; n = n->next) drop(n->stack);
      pp->stack_free[c] = nullptr;
      pp->stack_free_n[c] = 0;
    }
    pp->gfree = nullptr;
    pp->gfree_n = 0;
  }
  {
    LockGuard lk(global.mu);
    global.gfree = nullptr;
    for (int c = 0; c < kStackClasses; c++) {
      for (FreeStack* n = global.stacks[c]; n != nullptr; n = n->next) drop(n->stack);
      global.stacks[c] = nullptr;
      global.n_stacks[c] = 0;
      global.low_water[c] = 0;
      global.surplus[c] = 0;
    }
  }
  if (!own.empty()) stacks_release(own.data(), own.size());
  stacks_drop_all_slabs();
  scavenge_period_ns = scavenge_spent_ns = scavenge_since_ns = 0;
}

void stacks_scavenge(std::int64_t now) noexcept {
  if (scavenge_since_ns == 0) scavenge_since_ns = scavenge_period_ns = now;
  if (now - scavenge_period_ns >= kScavengePeriodNs) {
    // A new period: what stayed cached through the whole last one is surplus.
    LockGuard lk(global.mu);
    for (int c = 0; c < kStackClasses; c++) {
      std::uint32_t idle = global.low_water[c];
      global.surplus[c] = idle > kRetainStacks ? idle - kRetainStacks : 0;
      global.low_water[c] = global.n_stacks[c];
    }
    scavenge_period_ns = now;
  }
  // The budget: kScavengeShare of the wall time since sysmon started.
  auto budget = static_cast<std::int64_t>(kScavengeShare * static_cast<double>(now - scavenge_since_ns));
  Stack batch[kScavengeBatch];
  while (scavenge_spent_ns < budget) {
    std::size_t n = 0;
    {
      LockGuard lk(global.mu);
      for (int c = 0; c < kStackClasses && n < kScavengeBatch; c++) {
        while (global.surplus[c] > 0 && global.stacks[c] != nullptr && n < kScavengeBatch) {
          FreeStack* f = global.stacks[c];
          global.stacks[c] = f->next;
          global.n_stacks[c]--;
          global.surplus[c]--;
          if (global.low_water[c] > global.n_stacks[c]) global.low_water[c] = global.n_stacks[c];
          batch[n++] = f->stack;
        }
      }
    }
    if (n == 0) break;
    std::int64_t t0 = nanotime();
    stacks_release(batch, n);
    scavenge_spent_ns += nanotime() - t0;
    scavenged_total.fetch_add(n, std::memory_order_relaxed);
  }
  // Unused budget does not pile up: at most one period's worth carries over.
  auto floor = budget - static_cast<std::int64_t>(kScavengeShare * kScavengePeriodNs);
  if (scavenge_spent_ns < floor) scavenge_spent_ns = floor;
}

std::uint64_t stacks_scavenged() noexcept { return scavenged_total.load(std::memory_order_relaxed); }

}  // namespace gmp::detail
