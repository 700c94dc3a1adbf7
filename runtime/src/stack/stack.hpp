// stack/stack.hpp — goroutine stacks: mmap'd, guarded, in size classes.
//
// Layout of one mapping (low to high addresses):
//   [ guard: kGuardBytes, PROT_NONE ][ usable stack, `size` bytes ............ top ]
// A goroutine's frames start at the top, so until it recurses it touches
// one page of its stack (its descriptor is a separate small object:
// sched/g.hpp). Mappings are MAP_NORESERVE: only touched pages cost memory.
//
// Where the kernel has lightweight guard regions (MADV_GUARD_INSTALL, Linux
// 6.13+), stacks are carved from large slabs and the guards are page-table
// markers, so a million goroutines cost a handful of VMAs. Elsewhere each
// stack is its own mapping with an mprotect'ed guard — two VMAs per stack, so
// more than ~vm.max_map_count/2 live goroutines need that sysctl raised
// (stack_map's caller says so when mmap fails for that reason).
//
// Stacks are never mapped per spawn on the hot path: dead Gs keep their
// stack and are cached per P and globally by size class (sched/gfree.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gmp::detail {

inline constexpr std::size_t kPageSize = 4096;
// Below the usable stack. Larger than one page so that a frame of a few KiB
// that skips over a single page still lands in the guard.
inline constexpr std::size_t kGuardBytes = 16 * 1024;

// Size classes: powers of two from 16 KiB to 8 MiB of usable stack.
inline constexpr std::size_t kMinStackBytes = 16 * 1024;
inline constexpr int kStackClasses = 10;  // 16K … 8M
inline constexpr std::size_t kMaxStackBytes = kMinStackBytes << (kStackClasses - 1);

// The class that holds `bytes`, or -1 if bytes > kMaxStackBytes.
int stack_class_for(std::size_t bytes) noexcept;
constexpr std::size_t stack_class_bytes(int cls) noexcept { return kMinStackBytes << cls; }

struct Stack {
  char* map = nullptr;         // start of the mapping (the guard)
  std::size_t map_bytes = 0;   // guard + usable
  char* lo = nullptr;          // lowest usable byte (just above the guard)
  char* hi = nullptr;          // one past the highest usable byte (the top)
  int cls = -1;
  bool slab = false;           // carved from a slab (never unmapped, reused)

  std::size_t size() const noexcept { return static_cast<std::size_t>(hi - lo); }
  // True when addr is in the guard, or within one guard's width below it
  // (a big frame that jumped the guard faults just below the mapping).
  bool guard_hit(std::uintptr_t addr) const noexcept {
    auto base = reinterpret_cast<std::uintptr_t>(map);
    return addr >= base - kGuardBytes && addr < reinterpret_cast<std::uintptr_t>(lo);
  }
};

// Maps a stack of class `cls`. Returns 0 or -errno.
int stack_map(int cls, Stack* out) noexcept;
// Returns a stack's memory to the kernel (*s becomes empty). A slab stack
// keeps its address range and guard and is handed out again by stack_map.
void stack_unmap(Stack* s) noexcept;
// The same for n stacks at once (reordered; all become empty): neighbours in
// a slab go back in one system call.
void stacks_release(Stack* v, std::size_t n) noexcept;
// Unmaps every slab, with whatever stacks they hold. REQUIRES: no slab stack
// is in use or cached any more (gmp::stop, after every goroutine is gone);
// the Stack records that pointed into them are dropped without a call.
void stacks_drop_all_slabs() noexcept;

// Stacks currently mapped, process-wide.
std::uint64_t stacks_mapped() noexcept;

// True when guards are MADV_GUARD_INSTALL markers in slabs.
bool stack_guard_regions() noexcept;
// Testing seam: force the per-stack mprotect path (call before any stack_map).
void stack_force_mprotect_guards(bool on) noexcept;

}  // namespace gmp::detail
