// stack/stack.cpp — see stack.hpp.
#include "stack/stack.hpp"

#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <atomic>
#include <cerrno>
#include <mutex>

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

// Slabs and released slab stacks, per class.
struct SlabState {
  ThreadMutex mu;
  char* next[kStackClasses] GMP_GUARDED_BY(mu) = {};        // next uncarved stack
  std::size_t left[kStackClasses] GMP_GUARDED_BY(mu) = {};  // stacks left in the slab
  char* released[kStackClasses] GMP_GUARDED_BY(mu) = {};    // list threaded through each stack's top word
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
  if (char* s = slabs.released[cls]) {
    // The next pointer lives in the (zero-filled on next touch) top word.
    slabs.released[cls] = *reinterpret_cast<char**>(s + stride(cls) - sizeof(char*));
    fill(s, cls, true, out);
    return 0;
  }
  if (slabs.left[cls] == 0) {
    std::size_t bytes = stride(cls) * kSlabStacks;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
    if (p == MAP_FAILED) return -errno;
    madvise(p, bytes, MADV_NOHUGEPAGE);
    slabs.next[cls] = static_cast<char*>(p);
    slabs.left[cls] = kSlabStacks;
  }
  char* base = slabs.next[cls];
  if (madvise(base, kGuardBytes, MADV_GUARD_INSTALL) != 0) return 1;
  slabs.next[cls] += stride(cls);
  slabs.left[cls]--;
  fill(base, cls, true, out);
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

void stack_unmap(Stack* s) noexcept {
  if (s->map == nullptr) return;
#if defined(__SANITIZE_ADDRESS__)
  // A goroutine discarded at gmp::stop never unwound its frames: their
  // redzones are still poisoned, and the range (a slab's, or a later mmap's)
  // will hold another goroutine's stack (gfree.cpp's stack_put does the same
  // for stacks that are reused directly).
  __asan_unpoison_memory_region(s->lo, s->size());
#endif
  if (s->slab) {
    // Give the memory back but keep the address range (and its guard).
    madvise(s->lo, s->size(), MADV_DONTNEED);
    LockGuard lk(slabs.mu);
    *reinterpret_cast<char**>(s->hi - sizeof(char*)) = slabs.released[s->cls];
    slabs.released[s->cls] = s->map;
  } else {
    munmap(s->map, s->map_bytes);
  }
  g_mapped.fetch_sub(1, std::memory_order_relaxed);
  *s = Stack{};
}

std::uint64_t stacks_mapped() noexcept { return g_mapped.load(std::memory_order_relaxed); }

bool stack_guard_regions() noexcept { return g_guard_regions.load(std::memory_order_relaxed) == 1; }

void stack_force_mprotect_guards(bool on) noexcept { g_guard_regions.store(on ? 0 : -1, std::memory_order_relaxed); }

}  // namespace gmp::detail
