// mem/page_source.cpp — the real kernel behind PageSource.
#include "mem/page_source.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gmp::detail::mem {
namespace {

class SystemPageSource final : public PageSource {
 public:
  void* map(void* addr, std::size_t len, int prot, int flags, int* err) noexcept override {
    void* p = ::mmap(addr, len, prot, flags, -1, 0);
    if (p == MAP_FAILED) {
      *err = errno;
      return nullptr;
    }
    return p;
  }
  int unmap(void* addr, std::size_t len) noexcept override {
    return ::munmap(addr, len) == 0 ? 0 : -errno;
  }
  int move(void* old_addr, std::size_t len, void* to) noexcept override {
    void* p = ::mremap(old_addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    return p == MAP_FAILED ? -errno : 0;
  }
  int protect(void* addr, std::size_t len, int prot) noexcept override {
    return ::mprotect(addr, len, prot) == 0 ? 0 : -errno;
  }
  int advise(void* addr, std::size_t len, int advice) noexcept override {
    return ::madvise(addr, len, advice) == 0 ? 0 : -errno;
  }
  bool thp_available() noexcept override {
    char buf[128] = {};
    int fd = ::open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return false;
    return std::strstr(buf, "[never]") == nullptr;
  }
  int smaps(std::uintptr_t begin, std::uintptr_t end, SmapsTotals* out) noexcept override {
    *out = {};
    // stdio here is fine: this is a stats path, never a hot one.
    FILE* f = std::fopen("/proc/self/smaps", "re");
    if (f == nullptr) return -errno;
    char line[512];
    bool inside = false;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      unsigned long lo = 0, hi = 0;
      char dash = 0;
      if (std::sscanf(line, "%lx%c%lx ", &lo, &dash, &hi) == 3 && dash == '-' &&
          std::strchr(line, ':') != nullptr && std::strchr(line, ':') > std::strchr(line, ' ')) {
        inside = lo >= begin && hi <= end;
        continue;
      }
      if (!inside) continue;
      unsigned long kb = 0;
      if (std::sscanf(line, "Rss: %lu kB", &kb) == 1) out->rss += kb * 1024;
      else if (std::sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) out->huge += kb * 1024;
      else if (std::sscanf(line, "Private_Hugetlb: %lu kB", &kb) == 1 ||
               std::sscanf(line, "Shared_Hugetlb: %lu kB", &kb) == 1) {
        out->rss += kb * 1024;
        out->huge += kb * 1024;
      }
    }
    std::fclose(f);
    return 0;
  }
};

}  // namespace

PageSource& system_page_source() noexcept {
  static SystemPageSource src;
  return src;
}

}  // namespace gmp::detail::mem
