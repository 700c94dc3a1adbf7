// mem/checked.cpp — the pool's checked mode (Note [Checked mode],
// checked.hpp): live bits over the arena, the set of live large objects, the
// poison fill and its verification.
#include "mem/checked.hpp"

#include <jemalloc/jemalloc.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/check.hpp"
#include "mem/pool_state.hpp"

namespace gmp::detail::mem {
namespace {

// Live bits: bit i of the map is the 16-byte granule at base + 16 i.
// g_bits is written under cfg_mu (attach/detach, with no pool object live)
// and read by the hooks, which run only while the pool is ready.
std::atomic<std::uint64_t>* g_bits = nullptr;
std::uintptr_t g_base = 0;
std::size_t g_bits_len = 0;  // bytes mapped

// The live large objects (jemalloc): open addressing, linear probing, with
// tombstones; its array comes from jemalloc directly (never the pool).
// GMP_GUARDED_BY(g_large_mu).
class PtrSet {
 public:
  bool insert(void* p) noexcept {
    if ((n_ + dead_ + 1) * 4 > cap_ * 3 && !grow()) return false;
    std::size_t i = slot(p), tomb = kNone;
    for (;; i = (i + 1) & (cap_ - 1)) {
      if (v_[i] == p) return true;
      if (v_[i] == kTomb && tomb == kNone) tomb = i;
      if (v_[i] == nullptr) break;
    }
    if (tomb != kNone) {
      i = tomb;
      --dead_;
    }
    v_[i] = p;
    ++n_;
    return true;
  }
  bool erase(void* p) noexcept {
    if (cap_ == 0) return false;
    for (std::size_t i = slot(p);; i = (i + 1) & (cap_ - 1)) {
      if (v_[i] == nullptr) return false;
      if (v_[i] == p) {
        v_[i] = kTomb;
        --n_;
        ++dead_;
        return true;
      }
    }
  }
  void clear() noexcept {
    if (v_ != nullptr) dallocx(v_, 0);
    v_ = nullptr;
    cap_ = n_ = dead_ = 0;
  }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  static inline void* const kTomb = reinterpret_cast<void*>(std::uintptr_t{1});
  std::size_t slot(void* p) const noexcept {
    return ((reinterpret_cast<std::uintptr_t>(p) >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (cap_ - 1);
  }
  bool grow() noexcept {
    std::size_t cap = cap_ == 0 ? 1024 : (n_ * 4 > cap_ ? cap_ * 2 : cap_);  // mostly tombstones: same size
    auto* v = static_cast<void**>(mallocx(cap * sizeof(void*), MALLOCX_ZERO));
    if (v == nullptr) return false;
    void** old = v_;
    std::size_t old_cap = cap_;
    v_ = v;
    cap_ = cap;
    n_ = dead_ = 0;
    for (std::size_t i = 0; i < old_cap; ++i)
      if (old[i] != nullptr && old[i] != kTomb) insert(old[i]);
    if (old != nullptr) dallocx(old, 0);
    return true;
  }
  void** v_ = nullptr;
  std::size_t cap_ = 0, n_ = 0, dead_ = 0;
};
std::mutex g_large_mu;
PtrSet g_large;

const char* tier_name(std::uint32_t tier) noexcept {
  switch (tier) {
    case 0: return "fast";
    case 1: return "txn";
    default: return "stable";
  }
}

// Where p lies in the arena, as its page's info tells it.
struct Where {
  std::uint32_t tier = 0;
  std::size_t size = 0;         // object size (block bytes for a stable block)
  std::uintptr_t start = 0;     // the object p points into
  bool block = false;           // a stable-tier buddy block
};
Where locate(PoolState& s, void* p) noexcept {
  std::size_t page = s.arena.page_index(p);
  std::uint32_t info = s.arena.meta(page).info;
  Where w;
  w.tier = info_tier(info);
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  if (info_cls(info) == kInfoBlock) {
    w.block = true;
    w.size = kPageSize << info_order(info);
    w.start = reinterpret_cast<std::uintptr_t>(s.arena.page_addr(page));
    return w;
  }
  int cls = static_cast<int>(info_cls(info));
  if (cls >= kNumClasses) cls = kNumClasses - 1;
  w.size = kClassSize[cls];
  // Spans are buddy blocks: aligned to their size from the arena's base.
  std::size_t span_pages = span_bytes(cls) / kPageSize;
  std::uintptr_t span = reinterpret_cast<std::uintptr_t>(s.arena.page_addr(page / span_pages * span_pages));
  w.start = span + (addr - span) / w.size * w.size;
  return w;
}

bool test_and_set(std::uintptr_t addr, bool set) noexcept {
  std::size_t i = (addr - g_base) / kLiveGranule;
  std::uint64_t bit = std::uint64_t{1} << (i % 64);
  std::atomic<std::uint64_t>& w = g_bits[i / 64];
  std::uint64_t old = set ? w.fetch_or(bit, std::memory_order_relaxed) : w.fetch_and(~bit, std::memory_order_relaxed);
  return (old & bit) != 0;
}

// The object's link words: what the free lists write into a free object
// (object_link.hpp): a TxnNode on the txn tier, one pointer elsewhere.
std::size_t link_bytes(std::uint32_t tier, std::size_t size) noexcept {
  std::size_t n = tier == 1 ? 24 : sizeof(void*);
  return n < size ? n : size;
}

[[noreturn]] void report_bad_free(PoolState& s, void* p) noexcept {
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  Where w = locate(s, p);
  if (w.start != addr || addr % kLiveGranule != 0) {
    fatal("runtime: pool: invalid free of %p: not the start of an object (%zu bytes into the %zu-byte %s-tier object at "
          "%p); free the pointer the pool returned",
          p, static_cast<std::size_t>(addr - w.start), w.size, tier_name(w.tier), reinterpret_cast<void*>(w.start));
  }
  fatal("runtime: pool: double free of %p: the %zu-byte %s-tier object there is already free (or was never "
        "allocated)",
        p, w.size, tier_name(w.tier));
}

}  // namespace

int checked_from_env() noexcept {
  const char* v = std::getenv("GMP_POOL_CHECKED");
  if (v == nullptr || *v == '\0') return -1;
  if (!std::strcmp(v, "1") || !std::strcmp(v, "on") || !std::strcmp(v, "true")) return 1;
  if (!std::strcmp(v, "0") || !std::strcmp(v, "off") || !std::strcmp(v, "false")) return 0;
  errorf("gmp pool: GMP_POOL_CHECKED=%s: not a switch; use 1 or 0 (on/off); ignored", v);
  return -1;
}

std::string checked_attach(std::uintptr_t base, std::size_t reserved) {
  std::size_t len = (reserved / kLiveGranule / 8 + 4095) & ~std::size_t{4095};
  int err = 0;
  void* m = system_page_source().map(nullptr, len, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &err);
  if (m == nullptr) {
    return std::string("cannot map the checked mode's live bits (") + std::to_string(len >> 20) +
           " MiB of address space): " + std::strerror(err);
  }
  g_bits = static_cast<std::atomic<std::uint64_t>*>(m);
  g_bits_len = len;
  g_base = base;
  return "";
}

void checked_detach() noexcept {
  if (g_bits != nullptr) system_page_source().unmap(g_bits, g_bits_len);
  g_bits = nullptr;
  g_bits_len = 0;
  std::lock_guard g(g_large_mu);
  g_large.clear();
}

void checked_on_alloc(void* p) noexcept {
  if (p == nullptr) return;
  PoolState& s = state();
  if (!s.arena.initialized() || !s.arena.contains(p)) {
    std::lock_guard g(g_large_mu);
    // A full set (jemalloc out of memory) only loses the check of this one.
    (void)g_large.insert(p);
    return;
  }
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  Where w = locate(s, p);
  GMP_CHECK(w.start == addr && !test_and_set(addr, true),
            "runtime: pool: handed out %p twice (the pool's own lists are corrupt)", p);
  auto* b = static_cast<unsigned char*>(p);
  if (!w.block) {
    // A word at a time (sizes and link_bytes are multiples of 8); the byte
    // only once a word differs.
    constexpr std::uint64_t kWord = 0x0101010101010101ull * kFreeJunk;
    for (std::size_t i = link_bytes(w.tier, w.size); i < w.size; i += 8) {
      std::uint64_t v;
      std::memcpy(&v, b + i, 8);
      if (v == kWord) [[likely]] continue;
      while (b[i] == kFreeJunk) ++i;
      fatal("runtime: pool: use after free: the %zu-byte %s-tier object at %p was written after its free (byte %zu "
            "is 0x%02x, not the free pattern 0x%02x)",
            w.size, tier_name(w.tier), p, i, b[i], kFreeJunk);
    }
  }
  std::memset(p, kAllocJunk, w.size);
}

void checked_on_free(void* p) noexcept {
  PoolState& s = state();
  if (!s.arena.initialized() || !s.arena.contains(p)) {
    std::lock_guard g(g_large_mu);
    if (!g_large.erase(p)) {
      fatal("runtime: pool: invalid free of %p: not a pointer the pool returned (outside its arena and not a live "
            "large object: a foreign pointer, or a large object freed twice)",
            p);
    }
    return;
  }
  auto addr = reinterpret_cast<std::uintptr_t>(p);
  if (addr % kLiveGranule != 0 || !test_and_set(addr, false)) report_bad_free(s, p);
  Where w = locate(s, p);
  std::memset(p, kFreeJunk, w.size);
}

void checked_fill_span(void* p, std::size_t n) noexcept { std::memset(p, kFreeJunk, n); }

}  // namespace gmp::detail::mem
