// stack/stack.cpp — see stack.hpp.
#include "stack/stack.hpp"

#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <utility>
#include <vector>

#include "gmp/detail/thread_annotations.hpp"

namespace gmp::detail {

namespace {

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux 6.13 uapi
#endif

constexpr std::size_t kSlabStacks = 64;

std::atomic<std::uint64_t> g_mapped{0};

// 1: guard regions work; 0: use mprotect; -1: not probed yet.
std::atomic<int> g_guard_regions{-1};

// Slabs and released slab stacks, per class. A released stack's address is
// kept here, not in the stack: writing a link into memory just returned to
// the kernel would fault a fresh zero page straight back in (a page fault
// costs 10-15 us in some VMs), so the release would give nothing back.
struct SlabState {
  ThreadMutex mu;
  char* next[kStackClasses] GMP_GUARDED_BY(mu) = {};                    // next uncarved stack
  std::size_t left[kStackClasses] GMP_GUARDED_BY(mu) = {};              // stacks left in the slab
  std::vector<char*> released[kStackClasses] GMP_GUARDED_BY(mu);        // memory returned, guard kept
  std::vector<std::pair<char*, std::size_t>> maps GMP_GUARDED_BY(mu);   // every slab (base, bytes)
  std::uint64_t live GMP_GUARDED_BY(mu) = 0;                            // slab stacks handed out, not released
};
SlabState slabs;

std::size_t stride(int cls) noexcept { return stack_class_bytes(cls) + kGuardBytes; }

void fill(char* base, int cls, bool slab, Stack* out) noexcept {
  out->map = base;
  out->map_bytes = stride(cls);
  out->lo = base + kGuardBytes;
  out->hi = base + stride(cls);
  out->cls = cls;
  out->slab = slab;
}

// Returns 0, -errno, or 1 if guard regions turned out to be unsupported.
int slab_map(int cls, Stack* out) noexcept {
  LockGuard lk(slabs.mu);
  if (!slabs.released[cls].empty()) {
    char* s = slabs.released[cls].back();
    slabs.released[cls].pop_back();
    fill(s, cls, true, out);
    slabs.live++;
    return 0;
  }
  if (slabs.left[cls] == 0) {
    std::size_t bytes = stride(cls) * kSlabStacks;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
    if (p == MAP_FAILED) return -errno;
    madvise(p, bytes, MADV_NOHUGEPAGE);
    slabs.maps.emplace_back(static_cast<char*>(p), bytes);
    slabs.next[cls] = static_cast<char*>(p);
    slabs.left[cls] = kSlabStacks;
  }
  char* base = slabs.next[cls];
  if (madvise(base, kGuardBytes, MADV_GUARD_INSTALL) != 0) return 1;
  slabs.next[cls] += stride(cls);
  slabs.left[cls]--;
  fill(base, cls, true, out);
  slabs.live++;
  return 0;
}

int single_map(int cls, Stack* out) noexcept {
  const std::size_t total = stride(cls);
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1,
                 0);
  if (p == MAP_FAILED) return -errno;
  char* base = static_cast<char*>(p);
  if (mprotect(base, kGuardBytes, PROT_NONE) != 0) {
    int err = errno;
    munmap(base, total);
    return -err;
  }
  // A stack touches a page or two; a transparent hugepage would make every
  // goroutine cost 2 MiB where THP is "always".
  madvise(base + kGuardBytes, total - kGuardBytes, MADV_NOHUGEPAGE);
  fill(base, cls, false, out);
  return 0;
}

}  // namespace

int stack_class_for(std::size_t bytes) noexcept {
  for (int c = 0; c < kStackClasses; c++) {
    if (bytes <= stack_class_bytes(c)) return c;
  }
  return -1;
}

int stack_map(int cls, Stack* out) noexcept {
  int r;
  if (g_guard_regions.load(std::memory_order_relaxed) != 0) {
    r = slab_map(cls, out);
    if (r == 1) {
      g_guard_regions.store(0, std::memory_order_relaxed);  // EINVAL: kernel without guard regions
      r = single_map(cls, out);
    } else if (r == 0) {
      g_guard_regions.store(1, std::memory_order_relaxed);
    }
  } else {
    r = single_map(cls, out);
  }
  if (r == 0) g_mapped.fetch_add(1, std::memory_order_relaxed);
  return r;
}

void stack_unmap(Stack* s) noexcept { stacks_release(s, 1); }

void stacks_release(Stack* v, std::size_t n) noexcept {
  // Slab stacks: sorted by address, so that neighbours in a slab go back in
  // one madvise over [first.lo, last.hi): the guards between them are page
  // table markers that MADV_DONTNEED leaves in place (Linux 6.13+; only
  // MADV_GUARD_REMOVE and munmap take them away). One call for a run of
  // stacks costs about what one call for one stack does.
  std::sort(v, v + n, [](const Stack& a, const Stack& b) { return a.map < b.map; });
  for (std::size_t i = 0; i < n;) {
    if (v[i].map == nullptr) {
      i++;
      continue;
    }
#if defined(__SANITIZE_ADDRESS__)
    // A goroutine discarded at gmp::stop never unwound its frames: their
    // redzones are still poisoned, and the range (a slab's, or a later
    // mmap's) will hold another goroutine's stack (gfree.cpp's stack_put does
    // the same for stacks that are reused directly).
    __asan_unpoison_memory_region(v[i].lo, v[i].size());
#endif
    if (!v[i].slab) {
      munmap(v[i].map, v[i].map_bytes);
      g_mapped.fetch_sub(1, std::memory_order_relaxed);
      v[i] = Stack{};
      i++;
      continue;
    }
    std::size_t j = i + 1;
    while (j < n && v[j].slab && v[j].cls == v[i].cls && v[j].map == v[j - 1].hi) {
#if defined(__SANITIZE_ADDRESS__)
      __asan_unpoison_memory_region(v[j].lo, v[j].size());
#endif
      j++;
    }
    madvise(v[i].lo, static_cast<std::size_t>(v[j - 1].hi - v[i].lo), MADV_DONTNEED);
    {
      LockGuard lk(slabs.mu);
      for (std::size_t k = i; k < j; k++) slabs.released[v[k].cls].push_back(v[k].map);
      slabs.live -= j - i;
    }
    g_mapped.fetch_sub(j - i, std::memory_order_relaxed);
    for (std::size_t k = i; k < j; k++) v[k] = Stack{};
    i = j;
  }
}

void stacks_drop_all_slabs() noexcept {
  LockGuard lk(slabs.mu);
  for (auto& [base, bytes] : slabs.maps) {
#if defined(__SANITIZE_ADDRESS__)
    __asan_unpoison_memory_region(base, bytes);
#endif
    munmap(base, bytes);
  }
  slabs.maps.clear();
  for (int c = 0; c < kStackClasses; c++) {
    slabs.released[c].clear();
    slabs.released[c].shrink_to_fit();
    slabs.next[c] = nullptr;
    slabs.left[c] = 0;
  }
  g_mapped.fetch_sub(slabs.live, std::memory_order_relaxed);
  slabs.live = 0;
}

std::uint64_t stacks_mapped() noexcept { return g_mapped.load(std::memory_order_relaxed); }

bool stack_guard_regions() noexcept { return g_guard_regions.load(std::memory_order_relaxed) == 1; }

void stack_force_mprotect_guards(bool on) noexcept { g_guard_regions.store(on ? 0 : -1, std::memory_order_relaxed); }

}  // namespace gmp::detail
