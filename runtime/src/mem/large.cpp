// mem/large.cpp — objects above the class limit, and fallbacks: jemalloc.
//
// jemalloc is linked at build time (Debian's libjemalloc cannot be dlopen'd:
// "cannot allocate memory in static TLS block") and called through mallocx /
// sdallocx-style entry points, never malloc, so the accounting below is ours.
// Sizes are jemalloc's usable sizes (sallocx), so in-use bytes are exact.
#include <jemalloc/jemalloc.h>

#include "base/check.hpp"
#include "mem/pool_state.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {

void* large_alloc(Cache* c, std::size_t size, std::size_t align) noexcept {
  int flags = align > 16 ? MALLOCX_ALIGN(align) : 0;
  void* p = mallocx(size == 0 ? 1 : size, flags);
  if (p == nullptr) return nullptr;
  c->large.allocs.add();
  c->large.alloc_bytes.add(sallocx(p, 0));
  return p;
}

void large_free(Cache* c, void* p) noexcept {
  std::size_t bytes = sallocx(p, 0);
  c->large.frees.add();
  c->large.free_bytes.add(bytes);
  sdallocx(p, bytes, 0);
}

void* fallback_alloc(Cache* c, TierId tier, int cls, int reason) noexcept {
  int t = static_cast<int>(tier);
  c->ctr[t][cls].fallbacks.add();
  GMP_PROBE_POOL_FALLBACK(t, cls, reason);
  return large_alloc(c, kClassSize[cls], 16);
}

}  // namespace gmp::detail::mem
