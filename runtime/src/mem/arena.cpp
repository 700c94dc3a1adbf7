// mem/arena.cpp — reservation, chunk commit per hugepage mode, 2 MiB release.
#include "mem/arena.hpp"

#include <errno.h>
#include <sys/mman.h>

#include <cstring>

#include "base/check.hpp"
#include "mem/object_link.hpp"
#include "mem/slot_map.hpp"

namespace gmp::detail::mem {

const char* huge_mode_name(HugeMode m) noexcept {
  switch (m) {
    case HugeMode::kAuto: return "auto";
    case HugeMode::kHugetlb: return "hugetlb";
    case HugeMode::kThp: return "thp";
    case HugeMode::kOff: return "off";
  }
  return "?";
}

bool parse_huge_mode(const char* s, HugeMode* out) noexcept {
  static constexpr HugeMode kAll[] = {HugeMode::kAuto, HugeMode::kHugetlb, HugeMode::kThp, HugeMode::kOff};
  for (HugeMode m : kAll) {
    if (std::strcmp(s, huge_mode_name(m)) == 0) {
      *out = m;
      return true;
    }
  }
  return false;
}

std::string Arena::init(const ArenaOptions& opt, PageSource* src) {
  GMP_CHECK(base_ == 0, "runtime: pool arena initialised twice");
  if (opt.chunk_bytes == 0 || opt.chunk_bytes % kHugePageSize != 0)
    return "arena.chunk_bytes must be a positive multiple of 2 MiB";
  if (opt.max_bytes < opt.chunk_bytes || opt.max_bytes % kHugePageSize != 0)
    return "arena.max_bytes must be a multiple of 2 MiB and >= arena.chunk_bytes";
  src_ = src;
  want_ = opt.mode;
  if (want_ == HugeMode::kThp && !src_->thp_available())
    return "hugepages = \"thp\" but transparent hugepages are disabled (/sys/kernel/mm/transparent_hugepage/enabled is [never]); use \"auto\" or \"off\"";
  int err = 0;
  std::size_t len = opt.max_bytes + kHugePageSize;
  void* raw = src_->map(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &err);
  if (raw == nullptr) return std::string("cannot reserve arena address space: ") + std::strerror(err);
  map_lo_ = reinterpret_cast<std::uintptr_t>(raw);
  map_len_ = len;
  base_ = (map_lo_ + kHugePageSize - 1) & ~(kHugePageSize - 1);
  reserved_ = opt.max_bytes;
  meta_len_ = (opt.max_bytes / kPageSize) * sizeof(PageMeta);
  void* m = src_->map(nullptr, meta_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &err);
  if (m == nullptr) {
    destroy();
    return std::string("cannot map the arena page map: ") + std::strerror(err);
  }
  meta_ = static_cast<PageMeta*>(m);
  chunk_bytes_.store(opt.chunk_bytes);
  next_mode_ = want_ == HugeMode::kAuto ? HugeMode::kHugetlb : want_;
  // Commit the first chunk now: a forced mode that cannot be had must fail
  // here, at start, not on some later allocation.
  HugeMode used = HugeMode::kOff;
  int rc = commit(base_, opt.chunk_bytes, &used);
  if (rc != 0) {
    std::string why = std::string("cannot commit the first arena chunk in mode \"") + huge_mode_name(want_) +
                      "\": " + std::strerror(-rc);
    if (want_ == HugeMode::kHugetlb)
      why += " (MAP_HUGETLB needs reserved pages: echo N > /proc/sys/vm/nr_hugepages; or use \"auto\")";
    destroy();
    return why;
  }
  mode_ = used;
  frontier_ = opt.chunk_bytes;
  committed_.store(opt.chunk_bytes, std::memory_order_relaxed);
  return "";
}

int Arena::attach_slot_map(std::uint16_t* map) noexcept {
  GMP_CHECK(base_ != 0 && slot_map_ == nullptr, "runtime: pool slot map attached twice or before init");
  int rc = open_slot_range(system_page_source(), map, base_, reserved_);
  if (rc == 0) slot_map_ = map;
  return rc;
}

void Arena::destroy() noexcept {
  if (slot_map_ != nullptr) close_slot_range(system_page_source(), slot_map_, base_, reserved_);
  slot_map_ = nullptr;
  if (meta_ != nullptr) src_->unmap(meta_, meta_len_);
  // ASan keeps a range's poison after munmap: whoever maps these addresses
  // next (jemalloc, a later arena) must not inherit the pool's free objects'
  // poison (objects live only below the committed frontier).
  if (base_ != 0) GMP_MEM_UNPOISON(reinterpret_cast<void*>(base_), frontier_);
  if (map_lo_ != 0) src_->unmap(reinterpret_cast<void*>(map_lo_), map_len_);
  meta_ = nullptr;
  map_lo_ = base_ = 0;
  reserved_ = frontier_ = 0;
  committed_.store(0);
  released_.store(0);
  release_calls_.store(0);
  grow_refusals_.store(0);
  grow_errno_.store(0);
}

int Arena::prefault(std::uintptr_t addr, std::size_t len) noexcept {
  void* p = reinterpret_cast<void*>(addr);
  if (src_->advise(p, len, kMadvPopulateWrite) == 0) return 0;
  // Kernels before 5.14: touch one byte per 4 KiB page (each touch in a
  // MADV_HUGEPAGE range faults the whole 2 MiB page when one is available).
  for (std::size_t off = 0; off < len; off += kPageSize) static_cast<volatile char*>(p)[off] = 0;
  return 0;
}

// Tries next_mode_, falling to the next mode in auto. *used says what worked.
int Arena::commit(std::uintptr_t addr, std::size_t len, HugeMode* used) noexcept {
  void* p = reinterpret_cast<void*>(addr);
  int err = 0;
  for (;;) {
    HugeMode m = next_mode_;
    int rc = 0;
    if (m == HugeMode::kHugetlb) {
      // Never MAP_FIXED | MAP_HUGETLB over the reservation: when the hugetlb
      // reservation fails (no reserved pages) the kernel has already
      // unmapped the range, and until we re-reserve it any thread's mmap
      // (jemalloc's, an M's stack) can land in the hole and then be zeroed
      // by our re-reservation — seen as a jemalloc crash under load. Map the
      // hugetlb pages elsewhere, then move them over the reservation with
      // one mremap, which replaces it atomically.
      void* q = src_->map(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, &err);
      if (q == nullptr) {
        rc = -err;
      } else {
        rc = src_->move(q, len, p);
        if (rc != 0) src_->unmap(q, len);
      }
    } else {
      rc = src_->protect(p, len, PROT_READ | PROT_WRITE);
      // A refused commit (ENOMEM: the kernel's commit charge, a cgroup's
      // limit) is about memory, not hugepages: auto keeps its mode, and the
      // next grow asks again in it (Note [A refused chunk]).
      if (rc != 0) return rc;
      if (m == HugeMode::kThp) {
        rc = src_->advise(p, len, MADV_HUGEPAGE);
        if (rc == 0) rc = prefault(addr, len);
        if (rc != 0) src_->protect(p, len, PROT_NONE);
      } else {
        src_->advise(p, len, MADV_NOHUGEPAGE);  // "off" means off even with THP=always
      }
    }
    if (rc == 0) {
      *used = m;
      return 0;
    }
    if (want_ != HugeMode::kAuto) return rc;
    if (m == HugeMode::kHugetlb) next_mode_ = src_->thp_available() ? HugeMode::kThp : HugeMode::kOff;
    else if (m == HugeMode::kThp) next_mode_ = HugeMode::kOff;
    else return rc;
  }
}

// Note [A refused chunk]
// The kernel can refuse a chunk mid-run: ENOMEM from the mprotect that
// commits small pages or THP (vm.overcommit_memory=2 past CommitLimit, a
// cgroup at its limit, too many mappings), or from MAP_HUGETLB once the
// reserved pages are gone. grow returns -1 as at max_bytes; the caller's
// refill finds no span and the allocation is served by jemalloc, counted as
// a fallback (kFallbackExhausted). Nothing already handed out changes. The
// first refusal is said in one line, each is counted (grow_refusals, with
// the last errno), and the next refill that needs a span asks again (one
// mprotect under the buddy lock), so the arena grows again as soon as the
// kernel grants memory. In auto mode a refused hugetlb chunk moves to THP
// for good (the reserved pages are gone); a refused small-page commit
// changes no mode.
std::int64_t Arena::grow(std::size_t* npages) noexcept {
  std::size_t len = chunk_bytes_.load(std::memory_order_relaxed);
  if (frontier_ + len > reserved_) len = reserved_ - frontier_;
  if (len < kHugePageSize) return -1;
  HugeMode used = HugeMode::kOff;
  if (int rc = commit(base_ + frontier_, len, &used); rc != 0) {
    grow_errno_.store(-rc, std::memory_order_relaxed);
    if (grow_refusals_.fetch_add(1, std::memory_order_relaxed) == 0)
      errorf(
          "gmp pool: the kernel refused to commit arena chunk %zu (%zu MiB at +%zu MiB, mode %s): %s; "
          "allocations that need a new span go to jemalloc, counted as fallbacks, and the arena asks again "
          "on the next refill",
          frontier_ / len, len >> 20, frontier_ >> 20, huge_mode_name(next_mode_), std::strerror(-rc));
    return -1;
  }
  std::int64_t first = static_cast<std::int64_t>(frontier_ / kPageSize);
  frontier_ += len;
  committed_.fetch_add(len, std::memory_order_relaxed);
  *npages = len / kPageSize;
  return first;
}

void Arena::release_unit(std::size_t first_page) noexcept {
  GMP_CHECK(first_page % (kHugePageSize / kPageSize) == 0, "runtime: pool release of a partial 2 MiB unit");
  int rc = src_->advise(page_addr(first_page), kHugePageSize, MADV_DONTNEED);
  GMP_CHECK(rc == 0, "runtime: pool MADV_DONTNEED failed: %d", rc);
  released_.fetch_add(kHugePageSize, std::memory_order_relaxed);
  release_calls_.fetch_add(1, std::memory_order_relaxed);
}

void Arena::reuse_unit(std::size_t first_page) noexcept {
  // hugetlb and off fault on demand; THP is pre-faulted again so that the
  // hugepage comes back whole and no allocation path takes the fault.
  if (mode_ == HugeMode::kThp || next_mode_ == HugeMode::kThp) prefault(reinterpret_cast<std::uintptr_t>(page_addr(first_page)), kHugePageSize);
  released_.fetch_sub(kHugePageSize, std::memory_order_relaxed);
}

SmapsTotals Arena::smaps() const noexcept {
  SmapsTotals t;
  if (base_ != 0) src_->smaps(base_, base_ + reserved_, &t);
  return t;
}

}  // namespace gmp::detail::mem
