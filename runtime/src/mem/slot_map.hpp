// mem/slot_map.hpp — the inline free's map from any address to a fast slot.
//
// Note [The slot map]
// The inline free (gmp/detail/pool_inline.hpp) finds the FastSlot of a pointer as
// map[p >> 12]: one u16 for every 4 KiB page of the user address space
// (x86-64: 2^47 bytes, so 2^35 entries, 64 GiB of address space), holding the
// byte offset of the page's class slot in a FastFront (fast_slot_offset) on a
// page of a fast-tier span and 0 (the miss slot) everywhere else. The map is
// reserved read-only and MAP_NORESERVE: every page of it reads as zero until
// written and costs neither memory nor commit charge (a read-only private
// mapping is not accounted even under vm.overcommit_memory=2); reading an
// untouched page maps the kernel's shared zero page. Only the part covering
// the arena is made writable (2 bytes per arena page: 4 MiB for the default
// 8 GiB arena, touched page by page as spans are carved).
//
// So the free needs no range check: a pointer outside the arena — a large
// object from jemalloc, null — reads 0, finds the miss slot (no room to
// push) and goes to the slow path. Before, the free loaded the arena's base
// and size and compared (three loads and four instructions more per free;
// batches of 1024 11-14 % slower: docs/notes/benchmarks-history.md).
//
// REQUIRES of every pointer the inline free is given: below 2^47, which
// holds for every pointer the pool hands out (its arena, jemalloc) unless
// something mapped memory above 2^47 on a 5-level-paging kernel by asking for
// it with a hint: Linux places no mapping there otherwise.
//
// If the map cannot be reserved (RLIMIT_AS, say), g_inline.slot_map stays
// null and every inline free takes the slow path: slower, nothing else
// changes (gmp::pool::Stats::slot_map_error says why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gmp/pool.hpp"
#include "mem/page_source.hpp"

namespace gmp::detail::mem {

// One entry per page below 2^kInlineAddressBits (gmp/detail/pool_inline.hpp: x86-64 user
// space without a high hint).
inline constexpr std::size_t kSlotMapBytes =
    (std::size_t{1} << (kInlineAddressBits - kInlinePageShift)) * sizeof(std::uint16_t);

// Maps a new, all-zero, read-only slot map through src. Returns it, or null
// with one line in *why.
std::uint16_t* map_slot_map(PageSource& src, std::string* why) noexcept;

// Makes the entries of the pages of [base, base + len) writable. Returns 0 or
// -errno. REQUIRES: base and len are 4 KiB aligned; map came from map_slot_map.
int open_slot_range(PageSource& src, std::uint16_t* map, std::uintptr_t base, std::size_t len) noexcept;
// Zeroes those entries and makes them read-only again (pages of the map the
// range shares with its neighbours keep their other entries).
// REQUIRES: the range was opened; no object in it is live.
void close_slot_range(PageSource& src, std::uint16_t* map, std::uintptr_t base, std::size_t len) noexcept;

}  // namespace gmp::detail::mem
