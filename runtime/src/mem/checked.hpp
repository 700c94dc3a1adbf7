// mem/checked.hpp — the pool's checked mode: every free validated, freed
// objects poisoned with a pattern that the next allocation verifies.
//
// Note [Checked mode]
// Off in Release builds unless asked for (checks.enabled, GMP_POOL_CHECKED,
// gmprun --pool-checked), on by default in Debug and sanitizer builds
// (GMP_POOL_CHECKED_DEFAULT, set by CMake). Decided once, before the pool's
// first use: the live bits below must have seen every allocation.
//
// When on, the inline paths of gmp/detail/pool_inline.hpp are never published (slot_of all
// the miss slot, no slot map), so every allocation and free reaches
// allocate_slow/deallocate_slow and their in-front forms in pool.cpp, which
// call the two hooks below; the unchecked fast path is the same code as
// without the mode (one relaxed load more on the slow paths).
//
// - Live bits: one bit per 16 bytes of the arena's reservation (reserved /
//   128 bytes of NORESERVE address space, touched as the arena is used), set
//   at the start of every object handed out and cleared at its free, with
//   atomic RMWs (neighbouring objects share a word and may be freed on
//   different threads). A free whose bit is clear is a double free (or of a
//   pointer never handed out); one that is not 16-aligned, or inside an
//   object, is an invalid pointer. Exact: no pattern can fool it.
// - Large objects (jemalloc: above the class limit, and fallbacks) are kept
//   in a locked pointer set, so a free of a pointer that is neither in the
//   arena nor a live large object is reported as foreign (or a double free
//   of a large object) instead of reaching jemalloc.
// - Poisoning (jemalloc's junk fill, mimalloc's secure mode): a freed object
//   is filled with kFreeJunk, every span with it when carved; an allocation
//   checks that the object still holds it past its link words (the first 8
//   bytes, 24 on the txn tier: where the free lists keep their links) and
//   reports a write after free, then fills the object with kAllocJunk
//   (reading memory never written shows 0xa5, reading freed memory 0xdf).
//   Stable-tier blocks (4 KiB and more, whole buddy blocks) are filled at
//   free but not verified: the buddy hands out memory that was never filled.
//
// A failed check is fatal (base/check.hpp: one line, the goroutine dump, exit
// 70): "gmp pool: double free of 0x...: ...". The pool's own state is still
// intact at that point (the check runs before anything is changed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gmp::detail::mem {

inline constexpr unsigned char kFreeJunk = 0xdf;
inline constexpr unsigned char kAllocJunk = 0xa5;
inline constexpr std::size_t kLiveGranule = 16;  // every object starts on one

#if defined(GMP_POOL_CHECKED_DEFAULT) && GMP_POOL_CHECKED_DEFAULT
inline constexpr bool kCheckedByDefault = true;
#else
inline constexpr bool kCheckedByDefault = false;
#endif

// What GMP_POOL_CHECKED says: 1 (on), 0 (off), -1 (unset). A value other
// than 0/1/on/off/true/false is reported once (errorf) and ignored.
int checked_from_env() noexcept;

// Maps the live bits for an arena of `reserved` bytes at `base`. Returns ""
// or why not. REQUIRES: cfg_mu held; no live bits mapped.
std::string checked_attach(std::uintptr_t base, std::size_t reserved);
// Unmaps them (reset_for_test). REQUIRES: cfg_mu held; no live objects.
void checked_detach() noexcept;

// After a pool allocation returned p (null: nothing). Verifies the poison,
// fills the object, sets its live bit or records it as large.
void checked_on_alloc(void* p) noexcept;
// Before a free of p (non-null) does anything: fatal unless p is live.
void checked_on_free(void* p) noexcept;
// Fills [p, p + n) of a span being carved with kFreeJunk (central.cpp).
void checked_fill_span(void* p, std::size_t n) noexcept;

}  // namespace gmp::detail::mem
