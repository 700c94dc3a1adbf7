// mem/slot_map.cpp — reserving, opening and closing the slot map (Note [The
// slot map] in slot_map.hpp).
#include "mem/slot_map.hpp"

#include <sys/mman.h>

#include <cstring>

namespace gmp::detail::mem {
namespace {

constexpr std::uintptr_t kMapPage = 4096;

// The map's bytes holding the entries of [base, base + len), and the whole
// map pages around them.
struct MapSpan {
  std::uintptr_t lo, hi;            // entry bytes
  std::uintptr_t page_lo, page_hi;  // rounded out to map pages
};
MapSpan span_of(std::uint16_t* map, std::uintptr_t base, std::size_t len) noexcept {
  auto m = reinterpret_cast<std::uintptr_t>(map);
  MapSpan s{};
  s.lo = m + (base >> kInlinePageShift) * sizeof(std::uint16_t);
  s.hi = m + ((base + len) >> kInlinePageShift) * sizeof(std::uint16_t);
  s.page_lo = s.lo & ~(kMapPage - 1);
  s.page_hi = (s.hi + kMapPage - 1) & ~(kMapPage - 1);
  return s;
}

}  // namespace

std::uint16_t* map_slot_map(PageSource& src, std::string* why) noexcept {
  int err = 0;
  void* p = src.map(nullptr, kSlotMapBytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &err);
  if (p == nullptr) {
    *why = std::string("cannot reserve the slot map (64 GiB of address space, read-only, no memory): ") +
           std::strerror(err) + "; inline frees take the slow path";
    return nullptr;
  }
  return static_cast<std::uint16_t*>(p);
}

int open_slot_range(PageSource& src, std::uint16_t* map, std::uintptr_t base, std::size_t len) noexcept {
  MapSpan s = span_of(map, base, len);
  return src.protect(reinterpret_cast<void*>(s.page_lo), s.page_hi - s.page_lo, PROT_READ | PROT_WRITE);
}

void close_slot_range(PageSource& src, std::uint16_t* map, std::uintptr_t base, std::size_t len) noexcept {
  MapSpan s = span_of(map, base, len);
  // Whole map pages inside the range go back to the kernel (zero again);
  // the partial pages at the ends are zeroed by hand, their other entries
  // belong to addresses outside the range and are zero anyway.
  std::uintptr_t in_lo = (s.lo + kMapPage - 1) & ~(kMapPage - 1);
  std::uintptr_t in_hi = s.hi & ~(kMapPage - 1);
  if (in_lo < in_hi) {
    std::memset(reinterpret_cast<void*>(s.lo), 0, in_lo - s.lo);
    std::memset(reinterpret_cast<void*>(in_hi), 0, s.hi - in_hi);
    src.advise(reinterpret_cast<void*>(in_lo), in_hi - in_lo, MADV_DONTNEED);
  } else {
    std::memset(reinterpret_cast<void*>(s.lo), 0, s.hi - s.lo);
  }
  src.protect(reinterpret_cast<void*>(s.page_lo), s.page_hi - s.page_lo, PROT_READ);
}

}  // namespace gmp::detail::mem
