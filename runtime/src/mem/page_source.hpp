// mem/page_source.hpp — the pool's seam to the kernel's page calls.
//
// Every mmap/mprotect/madvise the arena makes goes through a PageSource so
// that tests can fake a kernel without hugetlb pages, without THP, or one
// that records every release (tcmalloc's "OS calls behind a seam"). Methods
// return 0 or -errno (the kernel boundary convention: -errno, never errno).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gmp::detail::mem {

struct SmapsTotals {
  std::uint64_t rss = 0;   // Rss + *_Hugetlb of the mappings counted
  std::uint64_t huge = 0;  // AnonHugePages + *_Hugetlb
};

class PageSource {
 public:
  virtual ~PageSource() = default;
  // mmap(2). On failure returns nullptr and sets *err to errno.
  virtual void* map(void* addr, std::size_t len, int prot, int flags, int* err) noexcept = 0;
  virtual int unmap(void* addr, std::size_t len) noexcept = 0;
  // mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to): moves a mapping
  // over whatever lies at `to`, in one step under the kernel's mmap lock.
  virtual int move(void* old_addr, std::size_t len, void* to) noexcept = 0;
  virtual int protect(void* addr, std::size_t len, int prot) noexcept = 0;
  virtual int advise(void* addr, std::size_t len, int advice) noexcept = 0;
  // True if the kernel's THP setting is not "never".
  virtual bool thp_available() noexcept = 0;
  // Sums /proc/self/smaps over the mappings that lie inside [begin, end).
  virtual int smaps(std::uintptr_t begin, std::uintptr_t end, SmapsTotals* out) noexcept = 0;
};

// The real kernel.
PageSource& system_page_source() noexcept;

// madvise values newer than glibc 2.36's headers.
inline constexpr int kMadvPopulateWrite = 23;

}  // namespace gmp::detail::mem
