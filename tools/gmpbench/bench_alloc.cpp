// bench_alloc.cpp — the memory pool side by side with glibc malloc, jemalloc,
// tcmalloc (gperftools, minimal) and mimalloc, in one process.
//
// Peers that replace malloc cannot share a process through their malloc
// symbols, so each is called through its own explicit API: jemalloc
// mallocx/sdallocx (linked), glibc __libc_malloc/__libc_free, tcmalloc
// tc_malloc/tc_free and mimalloc mi_malloc/mi_free (dlopen RTLD_LOCAL, which
// both support). Same sizes for everyone: 16, 64, 256 B and a mixed 16-256 B
// distribution. Patterns: alloc+free pair; a batch of 1024 then free them;
// cross-thread producer/consumer frees through an SPSC ring.
//
// "pool" runs on the benchmark's plain thread (the pool's thread-local
// cache), called through a function pointer like every peer; "pool-inline"
// is the same loop with gmp/pool.hpp's inline path compiled into it, as C++
// code that includes the header gets it (a peer's fast path is in its shared
// library: a call per operation is the least any program pays for it);
// "pool-p" runs the function-pointer loop in a goroutine inside gmp::run
// with one P (the per-P cache, what runtime code gets). "floor" is an
// allocator that does nothing (a static buffer) through the same function
// pointers: what the loop and two indirect calls cost on this machine, the
// least any function-pointer row can show; "floor-inline" the same with
// nothing called (the loop alone, sizes still computed). One process per allocator, with
// larson-like and xmalloc-like workloads: scripts/bench-alloc.sh.
// With the pool in checked mode (GMP_POOL_CHECKED=1, docs/POOL.md) the pool's
// rows are named pool-checked, pool-p-checked and pool-inline-checked, so
// that both modes' rows can sit in one table (scripts/bench-pool-checked.sh).
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <jemalloc/jemalloc.h>

#include <atomic>
#include <thread>
#include <vector>

#include "gmp/pool.hpp"
#include "gmp/runtime.hpp"

namespace {

struct Api {
  const char* name;
  void* (*alloc)(std::size_t);
  void (*free)(void*, std::size_t);
};

// Every wrapper starts a cache line: where the linker happens to place one
// moved a row by 10-15 % (the pool's wrappers after an unrelated change),
// and all rows should pay the same for their calls.
[[gnu::aligned(64)]] void* pool_alloc(std::size_t n) { return gmp::pool::allocate(n, gmp::pool::Tier::kFast); }
[[gnu::aligned(64)]] void pool_free(void* p, std::size_t n) { gmp::pool::deallocate(p, n); }
alignas(64) char g_floor_obj[256];
[[gnu::aligned(64)]] void* floor_alloc(std::size_t) { return g_floor_obj; }
[[gnu::aligned(64)]] void floor_free(void* p, std::size_t) { benchmark::DoNotOptimize(p); }

// The loops below take either an Api (calls through its pointers) or
// PoolInline (the header's inline path in the loop).
struct PoolInline {
  static void* alloc(std::size_t n) { return gmp::pool::allocate(n, gmp::pool::Tier::kFast); }
  static void free(void* p, std::size_t n) { gmp::pool::deallocate(p, n); }
};
// The inline floor: what the loop itself costs with nothing called and
// nothing allocated (the static buffer, the size passed through an empty asm
// so that each size is still computed) — the least any inline allocator can
// show in a row. Its writes all hit one line, so it understates the loops'
// memory cost for the rows whose objects outgrow L1.
struct FloorInline {
  static void* alloc(std::size_t n) {
    asm volatile("" : : "r"(n));
    return g_floor_obj;
  }
  static void free(void* p, std::size_t n) { asm volatile("" : : "r"(p), "r"(n)); }
};
[[gnu::aligned(64)]] void* je_alloc(std::size_t n) { return mallocx(n, 0); }
[[gnu::aligned(64)]] void je_free(void* p, std::size_t n) { sdallocx(p, n, 0); }

using MallocFn = void* (*)(std::size_t);
using FreeFn = void (*)(void*);
MallocFn g_glibc_malloc, g_tc_malloc, g_mi_malloc;
FreeFn g_glibc_free, g_tc_free, g_mi_free;
[[gnu::aligned(64)]] void* glibc_alloc(std::size_t n) { return g_glibc_malloc(n); }
[[gnu::aligned(64)]] void glibc_free(void* p, std::size_t) { g_glibc_free(p); }
[[gnu::aligned(64)]] void* tc_alloc(std::size_t n) { return g_tc_malloc(n); }
[[gnu::aligned(64)]] void tc_free(void* p, std::size_t) { g_tc_free(p); }
[[gnu::aligned(64)]] void* mi_alloc(std::size_t n) { return g_mi_malloc(n); }
[[gnu::aligned(64)]] void mi_free(void* p, std::size_t) { g_mi_free(p); }

template <class F>
F sym(void* h, const char* name) {
  return h ? reinterpret_cast<F>(dlsym(h, name)) : nullptr;
}

std::vector<Api> apis() {
  static std::vector<Api> v = [] {
    std::vector<Api> out{{"pool", pool_alloc, pool_free}, {"jemalloc", je_alloc, je_free}};
    g_glibc_malloc = reinterpret_cast<MallocFn>(dlsym(RTLD_DEFAULT, "__libc_malloc"));
    g_glibc_free = reinterpret_cast<FreeFn>(dlsym(RTLD_DEFAULT, "__libc_free"));
    if (g_glibc_malloc && g_glibc_free) out.push_back({"glibc", glibc_alloc, glibc_free});
    void* tc = dlopen("libtcmalloc_minimal.so.4", RTLD_NOW | RTLD_LOCAL);
    g_tc_malloc = sym<MallocFn>(tc, "tc_malloc");
    g_tc_free = sym<FreeFn>(tc, "tc_free");
    if (g_tc_malloc && g_tc_free) out.push_back({"tcmalloc", tc_alloc, tc_free});
    void* mi = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    g_mi_malloc = sym<MallocFn>(mi, "mi_malloc");
    g_mi_free = sym<FreeFn>(mi, "mi_free");
    if (g_mi_malloc && g_mi_free) out.push_back({"mimalloc", mi_alloc, mi_free});
    return out;
  }();
  return v;
}

// Sizes: 16, 64, 256, or 0 = mixed 16..256 (a fixed pseudo-random sequence).
std::size_t size_at(int mode, std::uint32_t i) {
  if (mode != 0) return static_cast<std::size_t>(mode);
  std::uint32_t x = i * 2654435761u;
  return 16 + (x >> 24) % 241;
}

template <class A>
void BM_AllocPair(benchmark::State& st, A api, int mode) {
  std::uint32_t i = 0;
  for (auto _ : st) {
    std::size_t n = size_at(mode, i++);
    void* p = api.alloc(n);
    benchmark::DoNotOptimize(p);
    static_cast<char*>(p)[0] = 1;
    api.free(p, n);
  }
  st.SetItemsProcessed(st.iterations());
}

template <class A>
void BM_AllocBatch1024(benchmark::State& st, A api, int mode) {
  std::vector<void*> ptrs(1024);
  for (auto _ : st) {
    for (std::uint32_t i = 0; i < 1024; ++i) {
      ptrs[i] = api.alloc(size_at(mode, i));
      static_cast<char*>(ptrs[i])[0] = 1;
    }
    for (std::uint32_t i = 0; i < 1024; ++i) api.free(ptrs[i], size_at(mode, i));
  }
  st.SetItemsProcessed(st.iterations() * 1024);
}

// One producer thread allocates, this thread frees (objects cross threads).
template <class A>
void BM_CrossThreadFree(benchmark::State& st, A api, int mode) {
  constexpr std::uint32_t kRing = 4096;
  std::vector<std::atomic<void*>> ring(kRing);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    std::uint32_t head = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      std::atomic<void*>& slot = ring[head % kRing];
      if (slot.load(std::memory_order_acquire) != nullptr) continue;
      void* p = api.alloc(size_at(mode, head));
      static_cast<char*>(p)[0] = 1;
      slot.store(p, std::memory_order_release);
      ++head;
    }
  });
  std::uint32_t tail = 0;
  for (auto _ : st) {
    std::atomic<void*>& slot = ring[tail % kRing];
    void* p;
    while ((p = slot.load(std::memory_order_acquire)) == nullptr) {
    }
    slot.store(nullptr, std::memory_order_release);
    api.free(p, size_at(mode, tail));
    ++tail;
  }
  stop.store(true);
  producer.join();
  // REQUIRES: mode != 0 (a fixed size), so this is the size every object
  // was allocated with: jemalloc's sdallocx needs the true size.
  for (auto& s : ring)
    if (void* p = s.load()) api.free(p, static_cast<std::size_t>(mode));
  st.SetItemsProcessed(st.iterations());
}

// The same loops on a runtime thread: a goroutine on the only P.
template <void (*Loop)(benchmark::State&, Api, int)>
void BM_OnP(benchmark::State& st, Api api, int mode) {
  gmp::Config cfg;
  cfg.procs = 1;
  int rc = gmp::run(cfg, [&] {
    Loop(st, api, mode);
    return 0;
  });
  if (rc != 0) st.SkipWithError("gmp::run failed");
}

int register_all() {
  (void)gmp::pool::init();  // a pool that cannot start serves from jemalloc: the rows say so
  const std::string checked = gmp::pool::stats(false).checked ? "-checked" : "";
  for (const Api& a : apis()) {
    const std::string name = a.name + (a.alloc == pool_alloc ? checked : "");
    for (int mode : {16, 64, 256, 0}) {
      std::string sz = mode ? std::to_string(mode) : std::string("mixed");
      benchmark::RegisterBenchmark(("alloc/pair/" + sz + "/" + name).c_str(), BM_AllocPair<Api>, a, mode);
      benchmark::RegisterBenchmark(("alloc/batch1024/" + sz + "/" + name).c_str(), BM_AllocBatch1024<Api>, a, mode);
    }
    benchmark::RegisterBenchmark(("alloc/xthread/64/" + name).c_str(), BM_CrossThreadFree<Api>, a, 64)->UseRealTime();
  }
  const Api& pool = apis().front();
  const Api floor{"floor", floor_alloc, floor_free};
  for (int mode : {16, 64, 256, 0}) {
    std::string sz = mode ? std::to_string(mode) : std::string("mixed");
    benchmark::RegisterBenchmark(("alloc/pair/" + sz + "/pool-p" + checked).c_str(), BM_OnP<BM_AllocPair<Api>>, pool, mode);
    benchmark::RegisterBenchmark(("alloc/batch1024/" + sz + "/pool-p" + checked).c_str(), BM_OnP<BM_AllocBatch1024<Api>>,
                                 pool, mode);
    benchmark::RegisterBenchmark(("alloc/pair/" + sz + "/pool-inline" + checked).c_str(), BM_AllocPair<PoolInline>,
                                 PoolInline{}, mode);
    benchmark::RegisterBenchmark(("alloc/batch1024/" + sz + "/pool-inline" + checked).c_str(),
                                 BM_AllocBatch1024<PoolInline>, PoolInline{}, mode);
    benchmark::RegisterBenchmark(("alloc/pair/" + sz + "/floor").c_str(), BM_AllocPair<Api>, floor, mode);
    benchmark::RegisterBenchmark(("alloc/batch1024/" + sz + "/floor").c_str(), BM_AllocBatch1024<Api>, floor, mode);
    benchmark::RegisterBenchmark(("alloc/pair/" + sz + "/floor-inline").c_str(), BM_AllocPair<FloorInline>, FloorInline{}, mode);
    benchmark::RegisterBenchmark(("alloc/batch1024/" + sz + "/floor-inline").c_str(), BM_AllocBatch1024<FloorInline>,
                                 FloorInline{}, mode);
  }
  benchmark::RegisterBenchmark(("alloc/xthread/64/pool-inline" + checked).c_str(), BM_CrossThreadFree<PoolInline>,
                               PoolInline{}, 64)
      ->UseRealTime();
  return 0;
}
const int registered = register_all();

}  // namespace
