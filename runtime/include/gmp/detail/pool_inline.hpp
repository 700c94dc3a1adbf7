// gmp/detail/pool_inline.hpp — the memory pool's inline paths. Not API.
//
// Included at the end of gmp/pool.hpp, which declares allocate and
// deallocate; this header holds their inline definitions and the layout they
// share with runtime/src/mem (cache.hpp embeds FastFront; pool.cpp checks
// the rest at compile time). Users include gmp/pool.hpp, never this file.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "gmp/pool.hpp"

// docs/POOL.md, "Inline fast path".
//
// Note [Inline path and migrating goroutines]
// A goroutine may park on one M and resume on another, and the compiler may
// keep a thread_local's address in a register across a call (Note [TLS across
// switches] in sched/schedule.cpp). So the inline path never lets the
// compiler form the address of its thread-local: tls_front() reads the slot
// `gmp_pool_t_front` with one volatile asm (thread pointer + the slot's
// offset, both inside the asm), which the compiler can neither hoist over a
// call nor merge with another read. The slot holds the cache of the P this
// thread's M holds (written by acquirep/releasep through
// on_acquirep/on_releasep, mem/current_p.cpp), a foreign thread's cache, or
// &g_no_front (an M between Ps, a thread not yet seen, one past its TLS
// destructors): magazines with nothing to pop (the null sentinel) and no
// room to push, so both
// inline paths fall to the slow path, which sets the slot. The pointer is used only
// until the call returns; pool code never switches, so the P (or thread)
// whose cache it is stays the owner for that whole call.

#if defined(__SANITIZE_ADDRESS__)
#define GMP_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GMP_POOL_ASAN 1
#endif
#endif
#if defined(GMP_POOL_ASAN)
#include <sanitizer/asan_interface.h>
#define GMP_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define GMP_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define GMP_POOL_POISON(p, n) ((void)(p), (void)(n))
#define GMP_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace gmp::detail::mem {

inline constexpr int kFrontClasses = 52;            // == kNumClasses (size_class.hpp; checked there)
inline constexpr std::size_t kInlineMaxSize = 1024;  // largest request the inline path serves
inline constexpr int kInlineClasses = 20;            // classes of 16 .. 1024 B

// Owner-written counter: relaxed loads by stats readers on any thread; the
// one owner adds with a plain (not locked) add to memory. On x86-64 that add
// is one asm instruction on the atomic's storage: a naturally aligned 8-byte
// store, so a reader sees the old or the new value, never a torn one (the
// compiler would emit load, add, store for a relaxed load + store).
// REQUIRES (add/sub/set): called only by the owner.
template <class T>
struct OwnerCounter {
  std::atomic<T> v{0};
  void add(T n = 1) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    // The size suffix spelled out: clang has no %z operand modifier.
    if constexpr (sizeof(T) == 8) {
      asm volatile("addq %1, %0" : "+m"(*reinterpret_cast<T*>(&v)) : "er"(n));
    } else {
      static_assert(sizeof(T) == 4, "OwnerCounter: 4- or 8-byte counters");
      asm volatile("addl %1, %0" : "+m"(*reinterpret_cast<T*>(&v)) : "er"(n));
    }
#else
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
#endif
  }
  void sub(T n = 1) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if constexpr (sizeof(T) == 8) {
      asm volatile("subq %1, %0" : "+m"(*reinterpret_cast<T*>(&v)) : "er"(n));
    } else {
      static_assert(sizeof(T) == 4, "OwnerCounter: 4- or 8-byte counters");
      asm volatile("subl %1, %0" : "+m"(*reinterpret_cast<T*>(&v)) : "er"(n));
    }
#else
    v.store(v.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
#endif
  }
  void set(T n) noexcept { v.store(n, std::memory_order_relaxed); }
  T get() const noexcept { return v.load(std::memory_order_relaxed); }
};
using Counter = OwnerCounter<std::uint64_t>;
static_assert(sizeof(Counter) == 8 && std::atomic<std::uint64_t>::is_always_lock_free);

// Decrements an owner-written countdown with one non-locked `sub` to memory
// (as OwnerCounter::sub: stats readers see the old or the new value) and
// branches on the flags it sets; true when it reached 0.
// REQUIRES: called only by the owner.
[[gnu::always_inline]] inline bool count_down(std::atomic<std::uint32_t>& c) noexcept {
#if defined(__x86_64__) && defined(__GNUC__) && (defined(__clang__) ? __clang_major__ >= 14 : __GNUC__ >= 11)
  asm goto("subl $1, %0\n\tjz %l[zero]" : "+m"(*reinterpret_cast<std::uint32_t*>(&c)) : : "cc" : zero);
  return false;
zero:
  return true;
#else
  std::uint32_t n = c.load(std::memory_order_relaxed) - 1;
  c.store(n, std::memory_order_relaxed);
  return n == 0;
#endif
}

// The word every magazine without an array points at (FastSlot's top, base
// and limit all g_empty_magazine + 1): it holds null, the sentinel the
// allocate path pops when a magazine is empty. Never written: a slot whose top
// is its limit takes no push.
inline constinit void* g_empty_magazine[1] = {nullptr};
inline constexpr void** kEmptyMagazine = g_empty_magazine + 1;

// One fast-tier class of one cache: a magazine, i.e. a LIFO stack of
// pointers to free objects in [base, top), at most limit - base of them (the
// class's cap), and the class's sampling countdown. An array, not a list
// threaded through the objects: allocation pops without loading the next
// pointer out of the object (no pointer chase, no load-latency chain through
// a batch), and a free writes the pointer array, never the object. Neither
// hits nor frees are counted on the hit paths: the countdown counts the
// class's allocations (fast_taken: its completed periods, kept on the slow
// path, plus period - countdown), hits = taken - misses, and frees = held -
// objects refills put in + objects flushed out + hits (fast_frees,
// fast_tier.cpp). So the hit path of an allocation updates top and the
// countdown, in one line, and a free only top. 32 bytes.
//
// Invariant (the null sentinel): base[-1] is null, and no magazine entry is.
// So the allocate path pops p = top[-1] and tests p, without loading base:
// null means empty (top == base) and goes to the slow path with top
// unmoved. fast_tier.cpp's arrays have one word more than the cap, the
// sentinel, just below base; a slot with no array (a cache's slots before
// their first refill, the miss slot, every slot of g_no_front) has top = base
// = limit = kEmptyMagazine: nothing to pop, no room to push.
//
// top, base, countdown and period are owner-written relaxed atomics (stats
// read them on any thread: held = top - base, taken); limit is owner only.
// The array is the owner's (fast_tier.cpp allocates and resizes it on a slow
// path); g_no_front's slots are never written.
struct FastSlot {
  std::atomic<void**> top{kEmptyMagazine};
  std::atomic<void**> base{kEmptyMagazine};
  void** limit = kEmptyMagazine;
  // Allocations of the class left before its next sampled one: every
  // allocation of the class decrements it once, the inline path on a hit
  // (count_down) or the slow path (fast_alloc_counted). When the inline
  // path takes it to 0 it leaves the allocation to the slow path, which
  // samples at 0 and sets both words to stats.sample_every (UINT32_MAX for
  // 0). So exactly every sample_every-th allocation *of each class* is timed,
  // and period - countdown (mod 2^32) is the count in the current period.
  std::atomic<std::uint32_t> countdown{1};
  std::atomic<std::uint32_t> period{1};  // what countdown was last set to
};
static_assert(sizeof(FastSlot) == 32, "slot offsets (fast_slot_offset) are 32 per class and fit in 16 bits");

// The part of a cache (per P or per foreign thread) the inline path uses.
// Owner only: the M holding P `home`, or the one foreign thread holding it.
//
// Both inline paths find their slot as the front plus a byte offset read from
// a table (allocate: g_inline.slot_of[size]; deallocate: the page's
// entry in the slot map), so neither computes a class nor tests a tier. Whatever the
// inline path must not serve (a request above its limit, a pool that is not
// ready, a page of another tier or never carved) has offset 0, the `miss`
// slot, which has no array in every front (kEmptyMagazine): nothing to pop and
// no room to push, so both paths fall to their slow paths.
struct alignas(64) FastFront {
  FastSlot miss;  // offset 0; empty and full (kEmptyMagazine), never written
  // Class cls's slot is at fast_slot_offset(cls), each within one cache line.
  FastSlot fast[kFrontClasses];
  std::uint32_t home = 0;              // P id, or a foreign slot; set once (set_home)
  // Owner only. The sampling countdown of the cache's allocations that are
  // not the fast tier's (txn, stable, large, fallbacks; the slow path's
  // alloc_with): each fast class has its own (FastSlot::countdown).
  std::uint32_t sample_countdown = 1;
};
static_assert(std::is_standard_layout_v<FastFront>);
inline void set_home(FastFront& f, std::uint32_t home) noexcept { f.home = home; }
inline constexpr std::size_t kFastSlotsOffset = sizeof(FastSlot);  // offsetof(FastFront, fast): checked in pool.cpp
// The byte offset of class cls's slot in a FastFront: what slot_of and
// the slot map hold for a fast class (0 is the miss slot).
constexpr std::uint16_t fast_slot_offset(int cls) noexcept {
  return static_cast<std::uint16_t>(kFastSlotsOffset + static_cast<std::size_t>(cls) * sizeof(FastSlot));
}
inline FastSlot& slot_at(FastFront* f, std::uint32_t offset) noexcept {
  return *reinterpret_cast<FastSlot*>(reinterpret_cast<char*>(f) + offset);
}

// Read-mostly process-wide view for the inline path. Relaxed atomics but
// slot_map (init stores it with release once the arena's entries are open;
// a free of a pool pointer is ordered after init by however the pointer
// reached the freeing thread anyway). slot_of is all 0 (the miss slot) and
// slot_map null until the pool is ready and while a test resets it.
struct InlineView {
  // slot_of[n], n <= 1024: fast_slot_offset(class_of(n)) if the inline path
  // serves n (n up to the largest class <= fast_max_size, and <= max_size:
  // publish_inline), else 0. Indexed by the size itself, so the hit path
  // neither rounds it nor loads a limit; first, so that its address is
  // g_inline's and the load is one instruction with the size as the index.
  std::atomic<std::uint16_t> slot_of[1024 + 1] = {};
  // The slot map (Note [The slot map], runtime/src/mem/slot_map.hpp): for
  // every 4 KiB page below 2^kInlineAddressBits, slot_map[p >> 12] is the
  // slot offset of the page's class on a page of a fast-tier span and 0 (the
  // miss slot) on every other page, ours or not. Null: every free goes slow.
  std::atomic<const std::uint16_t*> slot_map{nullptr};
};
inline constexpr int kInlineAddressBits = 47;  // REQUIRES: a freed pointer is below 2^47 (slot_map.hpp)
extern InlineView g_inline;

// The calling thread's front as the slow path computes it: its P's cache, or
// its foreign-thread cache (created on first use); null on a thread past its
// TLS destructors and on an M between Ps (the slow path then uses the locked
// orphan cache). Also refreshes this thread's gmp_pool_t_front.
FastFront* fast_front() noexcept;
// What gmp_pool_t_front holds when this thread has no front for the inline
// path: no magazine has an array (kEmptyMagazine: empty and full at once).
// Never written.
extern FastFront g_no_front;
// Out-of-line read of gmp_pool_t_front (never inlined nor analysed), for
// targets without the asm in tls_front().
FastFront* tls_front_slow() noexcept;
void* allocate_slow(std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept;
// allocate_slow for the owner of front f.
// REQUIRES: f is this thread's front and not &g_no_front.
void* allocate_in_front(FastFront* f, std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept;
void deallocate_slow(void* p) noexcept;
// A free by the owner of front f that the inline path did not take: an arena
// object of another tier, a full magazine, a large object, null.
// REQUIRES: f is this thread's front and not &g_no_front.
void deallocate_in_front(FastFront* f, void* p) noexcept;

// The inline paths' exits to the slow path, as cold out-of-line calls: the
// compiler moves the blocks that call them out of the caller's hot code (no
// call setup or alignment padding between a hit path and the code after it).
// One direct call and a tail jump more on a slow path.
[[gnu::cold, gnu::noinline]] inline void* allocate_miss(FastFront* f, std::size_t size, gmp::pool::Tier tier) noexcept {
  if (f != &g_no_front) [[likely]] return allocate_in_front(f, size, 16, tier);
  return allocate_slow(size, 16, tier);
}
[[gnu::cold, gnu::noinline]] inline void deallocate_miss(FastFront* f, void* p) noexcept {
  if (f != &g_no_front) [[likely]] return deallocate_in_front(f, p);
  return deallocate_slow(p);
}

// class_of(size) for 0 <= size <= 1024, indexed by (size + 15) / 16.
consteval std::array<std::uint8_t, kInlineMaxSize / 16 + 1> make_inline_class_table() {
  std::array<std::uint8_t, kInlineMaxSize / 16 + 1> t{};
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::size_t size = i == 0 ? 1 : i * 16;
    int cls = 0;
    if (size <= 128) {
      cls = static_cast<int>((size + 15) / 16) - 1;
    } else {
      int k = 0;
      while ((std::size_t{2} << k) < size) ++k;  // 2^k < size <= 2^(k+1)
      std::size_t base = std::size_t{1} << k, step = base / 4;
      cls = 8 + 4 * (k - 7) + static_cast<int>((size - base + step - 1) / step) - 1;
    }
    t[i] = static_cast<std::uint8_t>(cls);
  }
  return t;
}
inline constexpr std::array<std::uint8_t, kInlineMaxSize / 16 + 1> kInlineClassOf = make_inline_class_table();
// Object size of every class (the same formula as size_class.hpp, checked
// equal there); the inline path needs it only to (un)poison under ASan.
consteval std::array<std::uint32_t, kFrontClasses> make_front_class_sizes() {
  std::array<std::uint32_t, kFrontClasses> t{};
  int i = 0;
  for (std::uint32_t s = 16; s <= 128; s += 16) t[i++] = s;
  for (std::uint32_t base = 128; base < 256 * 1024; base *= 2)
    for (std::uint32_t k = 1; k <= 4; ++k) t[i++] = base + k * (base / 4);
  return t;
}
inline constexpr std::array<std::uint32_t, kFrontClasses> kFrontClassSize = make_front_class_sizes();
static_assert(kInlineClassOf[kInlineMaxSize / 16] == kInlineClasses - 1);
// The same table as byte offsets of the class's FastSlot in a FastFront
// (publish_inline fills g_inline.slot_of from it).
consteval std::array<std::uint16_t, kInlineMaxSize / 16 + 1> make_inline_slot_offsets() {
  std::array<std::uint16_t, kInlineMaxSize / 16 + 1> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = fast_slot_offset(kInlineClassOf[i]);
  return t;
}
inline constexpr std::array<std::uint16_t, kInlineMaxSize / 16 + 1> kInlineSlotOffset = make_inline_slot_offsets();

inline constexpr std::size_t kInlinePageShift = 12;  // arena pages are 4 KiB (checked in pool.cpp)

}  // namespace gmp::detail::mem

// The inline path's thread-local slot (mem/current_p.cpp); C linkage so that
// tls_front()'s asm can name it. Written only by its thread, in
// mem/current_p.cpp; read only through tls_front().
extern "C" {
extern thread_local gmp::detail::mem::FastFront* gmp_pool_t_front;
}

namespace gmp::detail::mem {

// This thread's front for the inline path, read afresh on every call (Note
// [Inline path and migrating goroutines]); never null.
inline FastFront* tls_front() noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  FastFront* f;
  // Initial-exec TLS: the slot's offset from the thread pointer (a link-time
  // constant; the linker relaxes the GOT load to an immediate in an
  // executable), then the load through %fs. Both in one asm, so no address
  // survives a call.
  asm volatile(
      "movq gmp_pool_t_front@gottpoff(%%rip), %0\n\t"
      "movq %%fs:(%0), %0"
      : "=r"(f));
  return f;
#else
  return tls_front_slow();
#endif
}

// Both inline frees' push: p onto this thread's magazine at slot offset off
// (a fast class's, or the miss slot, whose magazine takes no push), else the
// slow path minus finding the cache. A free object is poisoned whole; the
// push is not counted (frees are derived, FastSlot).
[[gnu::always_inline]] inline void push_free(void* p, std::uint32_t off) noexcept {
  FastFront* f = tls_front();
  FastSlot& s = slot_at(f, off);  // f->fast[class], or f->miss
  void** t = s.top.load(std::memory_order_relaxed);
  if (t != s.limit) [[likely]] {
    GMP_POOL_POISON(p, kFrontClassSize[(off - kFastSlotsOffset) / sizeof(FastSlot)]);
    *t = p;
    s.top.store(t + 1, std::memory_order_relaxed);
    return;
  }
  deallocate_miss(f, p);  // txn, stable, large, null or over the cap
}

}  // namespace gmp::detail::mem

namespace gmp::pool {

// Hit path: one TLS read (no call), the slot's offset from a table indexed by
// the size, a pop from the class's magazine and its sampling countdown (no
// lock prefix). Misses, every sample_every-th allocation of a class, sizes the inline
// path does not serve (the miss slot), other tiers, threads without a front:
// the slow path.
inline void* allocate(std::size_t size, Tier tier) noexcept {
  using namespace gmp::detail::mem;
  FastFront* f = tls_front();
  if (tier == Tier::kFast && size <= kInlineMaxSize) {
    std::uint32_t off = g_inline.slot_of[size].load(std::memory_order_relaxed);
    FastSlot& s = slot_at(f, off);  // f->fast[class], or f->miss
    void** t = s.top.load(std::memory_order_relaxed);
    void* p = t[-1];  // null: the sentinel below base (empty), the slow path refills
    if (p != nullptr && !count_down(s.countdown)) [[likely]] {
      s.top.store(t - 1, std::memory_order_relaxed);
      GMP_POOL_UNPOISON(p, kFrontClassSize[(off - kFastSlotsOffset) / sizeof(FastSlot)]);
      return p;
    }
    // A miss, a sample, a size above the inline limit: the slow path, minus finding the cache.
    return allocate_miss(f, size, tier);
  }
  // Another tier.
  if (f != &g_no_front) [[likely]] return allocate_in_front(f, size, 16, tier);
  return allocate_slow(size, 16, tier);
}

inline void* allocate_aligned(std::size_t size, std::size_t align, Tier tier) noexcept {
  if (align <= 16) return allocate(size, tier);
  return gmp::detail::mem::allocate_slow(size, align, tier);
}

// Hit path: a free of a fast-tier object (carved by any cache) while the
// calling P's (or thread's) magazine for its class is under its cap: the
// page's slot offset from the slot map (its class's slot, or the miss slot on
// any page that is not a fast-tier span's: no range check), one TLS read and
// a push. Everything else (other tiers, full magazines, large objects, null):
// deallocate_in_front (one call); no front yet or no slot map: deallocate_slow.
inline void deallocate(void* p) noexcept {
  using namespace gmp::detail::mem;
  const std::uint16_t* map = g_inline.slot_map.load(std::memory_order_acquire);
  if (map != nullptr) [[likely]] {
    // A fast-tier object goes to the freeing cache whoever carved it
    // (docs/POOL.md, "Ownership").
    push_free(p, map[reinterpret_cast<std::uintptr_t>(p) >> kInlinePageShift]);
    return;
  }
  deallocate_slow(p);
}
// The size hint gives the slot: slot_of[size], confirmed by the page's entry
// in the slot map, so a wrong hint costs the unsized free and nothing else.
// The push's addresses then come from the size, not from a load of the
// slot map through p: the next allocation need not wait for them (an
// allocation's `top` load may wait on the address of an earlier free's
// `top` store; without the hint that address comes at the end of a chain of
// loads, top -> t[-1] -> the slot map). docs/POOL.md, "The sized free".
inline void deallocate(void* p, std::size_t size) noexcept {
  using namespace gmp::detail::mem;
  if (size <= kInlineMaxSize) {
    std::uint32_t off = g_inline.slot_of[size].load(std::memory_order_relaxed);
    const std::uint16_t* map = g_inline.slot_map.load(std::memory_order_acquire);
    // off == 0 (a size the inline path does not serve) matches the pages of
    // other tiers and the addresses outside the arena: the miss slot, whose
    // magazine is full, so those go to the slow path below.
    if (map != nullptr && map[reinterpret_cast<std::uintptr_t>(p) >> kInlinePageShift] == off) [[likely]] {
      push_free(p, off);
      return;
    }
  }
  deallocate(p);  // a size above the inline limit, or a hint of another class
}

}  // namespace gmp::pool
