// tests/bench/alloc_peer.cpp — one allocator per process, for side-by-side
// runs by scripts/bench-alloc.sh (tcmalloc replaces malloc process-wide, so
// glibc and tcmalloc cannot share a process). Built once per allocator with
// GMP_PEER_<NAME> defined (tools/gmpbench/CMakeLists.txt):
//   pool      gmp::pool::allocate/deallocate (fast tier; plain threads, so the
//             pool's thread-local caches — gmpbench covers the per-P path)
//   glibc     malloc/free (libc)
//   tcmalloc  malloc/free, linked with libtcmalloc_minimal (gperftools)
//   jemalloc  mallocx/sdallocx (linked; sized free with the true size)
//   mimalloc  mi_malloc/mi_free
// Usage: alloc_peer_<name> WORKLOAD [seconds]; prints "WORKLOAD VALUE UNIT"
// on stdout (ns per op: lower is better; Mops/s: higher is better).
//
// Workloads (sizes 16..256 B; "mixed" is a fixed pseudo-random sequence):
//   pair64, pairmix        alloc+free pair, ns per pair
//   batch64, batchmix      1024 allocations then 1024 frees, ns per object
//   xthread64              producer thread allocates, this thread frees
//                          through an SPSC ring, ns per object
//   larson                 larson-like (Larson & Krishnan's server model, as
//                          mimalloc-bench describes it): 2 threads each own
//                          1000 slots and replace a random one per step with
//                          a random 16..256 B block; every 10000 steps a
//                          thread exits and a new thread inherits its slots,
//                          so blocks are freed by threads that did not
//                          allocate them; Mops/s
//   xmalloc                xmalloc-like (Lever & Boreham's test, from its
//                          published description): 2 threads allocate batches
//                          of 4096 64 B objects and hand each batch through a
//                          mutex/condvar queue (at most 100 batches) to 2
//                          threads that only free; Mfrees/s
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(GMP_PEER_POOL)
#include "gmp/pool.hpp"
static inline void* peer_alloc(std::size_t n) { return gmp::pool::allocate(n, gmp::pool::Tier::kFast); }
static inline void peer_free(void* p, std::size_t n) { gmp::pool::deallocate(p, n); }
#elif defined(GMP_PEER_JEMALLOC)
#include <jemalloc/jemalloc.h>
static inline void* peer_alloc(std::size_t n) { return mallocx(n, 0); }
static inline void peer_free(void* p, std::size_t n) { sdallocx(p, n, 0); }
#elif defined(GMP_PEER_MIMALLOC)
#include <mimalloc.h>
static inline void* peer_alloc(std::size_t n) { return mi_malloc(n); }
static inline void peer_free(void* p, std::size_t) { mi_free(p); }
#else  // glibc, or tcmalloc when linked with it
static inline void* peer_alloc(std::size_t n) { return std::malloc(n); }
static inline void peer_free(void* p, std::size_t) { std::free(p); }
#endif

namespace {

using Clock = std::chrono::steady_clock;

inline std::size_t mixed_size(std::uint32_t i) { return 16 + ((i * 2654435761u) >> 24) % 241; }

// Keeps the optimiser from dropping an allocation.
inline void touch(void* p) {
  static_cast<volatile char*>(p)[0] = 1;
}

template <class Step>
double ns_per_op(double seconds, std::uint64_t ops_per_step, Step step) {
  std::uint64_t steps = 0;
  Clock::time_point t0 = Clock::now(), t = t0;
  Clock::time_point end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  do {
    for (int k = 0; k < 64; ++k) step(steps++);
    t = Clock::now();
  } while (t < end);
  return std::chrono::duration<double, std::nano>(t - t0).count() / static_cast<double>(steps * ops_per_step);
}

double pair(double secs, bool mixed) {
  return ns_per_op(secs, 1, [&](std::uint64_t i) {
    std::size_t n = mixed ? mixed_size(static_cast<std::uint32_t>(i)) : 64;
    void* p = peer_alloc(n);
    touch(p);
    peer_free(p, n);
  });
}

double batch(double secs, bool mixed) {
  std::vector<void*> v(1024);
  return ns_per_op(secs / 64, 1024, [&](std::uint64_t) {
    for (std::uint32_t i = 0; i < 1024; ++i) {
      v[i] = peer_alloc(mixed ? mixed_size(i) : 64);
      touch(v[i]);
    }
    for (std::uint32_t i = 0; i < 1024; ++i) peer_free(v[i], mixed ? mixed_size(i) : 64);
  });
}

double xthread(double secs) {
  constexpr std::uint32_t kRing = 4096;
  std::vector<std::atomic<void*>> ring(kRing);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    for (std::uint32_t head = 0; !stop.load(std::memory_order_relaxed);) {
      std::atomic<void*>& slot = ring[head % kRing];
      if (slot.load(std::memory_order_acquire) != nullptr) continue;
      void* p = peer_alloc(64);
      touch(p);
      slot.store(p, std::memory_order_release);
      ++head;
    }
  });
  std::uint32_t tail = 0;
  double r = ns_per_op(secs, 1, [&](std::uint64_t) {
    std::atomic<void*>& slot = ring[tail++ % kRing];
    void* p;
    while ((p = slot.load(std::memory_order_acquire)) == nullptr) {
    }
    slot.store(nullptr, std::memory_order_release);
    peer_free(p, 64);
  });
  stop.store(true);
  producer.join();
  for (auto& s : ring)
    if (void* p = s.load()) peer_free(p, 64);
  return r;
}

struct Slot {
  void* p = nullptr;
  std::size_t n = 0;
};

double larson(double secs) {
  constexpr int kThreads = 2, kSlots = 1000, kStepsPerLife = 10000;
  std::vector<std::vector<Slot>> arrays(kThreads, std::vector<Slot>(kSlots));
  for (auto& a : arrays)
    for (std::uint32_t i = 0; i < kSlots; ++i) {
      a[i].n = 16 + (i * 2654435761u >> 24) % 241;
      a[i].p = peer_alloc(a[i].n);
    }
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ops{0};
  auto life = [&](int t, std::uint64_t seed) {
    std::uint64_t x = seed | 1;
    auto& a = arrays[t];
    int s = 0;
    for (; s < kStepsPerLife; ++s) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      Slot& sl = a[x % kSlots];
      peer_free(sl.p, sl.n);
      sl.n = 16 + (x >> 32) % 241;
      sl.p = peer_alloc(sl.n);
      touch(sl.p);
    }
    ops.fetch_add(static_cast<std::uint64_t>(s), std::memory_order_relaxed);
  };
  auto t0 = Clock::now();
  std::vector<std::thread> drivers;
  for (int t = 0; t < kThreads; ++t) {
    drivers.emplace_back([&, t] {
      for (std::uint64_t gen = 1; !stop.load(std::memory_order_relaxed); ++gen) {
        std::thread th(life, t, gen * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(t));  // a new thread inherits the slots
        th.join();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(secs));
  stop.store(true);
  for (auto& d : drivers) d.join();
  double el = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& a : arrays)
    for (Slot& sl : a) peer_free(sl.p, sl.n);
  return static_cast<double>(ops.load()) / el / 1e6;
}

double xmalloc(double secs) {
  constexpr int kBatch = 4096, kMaxQueued = 100, kPairs = 2;
  std::mutex mu;
  std::condition_variable not_empty, not_full;
  std::deque<std::vector<void*>> q;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> freed{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < kPairs; ++i) {
    ts.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::vector<void*> b(kBatch);
        for (void*& p : b) {
          p = peer_alloc(64);
          touch(p);
        }
        std::unique_lock lk(mu);
        not_full.wait(lk, [&] { return q.size() < kMaxQueued || stop.load(); });
        q.push_back(std::move(b));
        not_empty.notify_one();
      }
    });
    ts.emplace_back([&] {
      for (;;) {
        std::vector<void*> b;
        {
          std::unique_lock lk(mu);
          not_empty.wait(lk, [&] { return !q.empty() || stop.load(); });
          if (q.empty()) return;
          b = std::move(q.front());
          q.pop_front();
          not_full.notify_one();
        }
        for (void* p : b) peer_free(p, 64);
        freed.fetch_add(b.size(), std::memory_order_relaxed);
      }
    });
  }
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(secs));
  std::uint64_t n = freed.load();
  double el = std::chrono::duration<double>(Clock::now() - t0).count();
  {
    std::lock_guard lk(mu);
    stop.store(true);
  }
  not_empty.notify_all();
  not_full.notify_all();
  for (auto& t : ts) t.join();
  for (auto& b : q)
    for (void* p : b) peer_free(p, 64);
  return static_cast<double>(n) / el / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s pair64|pairmix|batch64|batchmix|xthread64|larson|xmalloc [seconds]\n", argv[0]);
    return 2;
  }
  std::string w = argv[1];
  double secs = argc > 2 ? std::atof(argv[2]) : 0.5;
  if (!(secs > 0)) {
    std::fprintf(stderr, "%s: seconds must be > 0, got %s\n", argv[0], argv[2]);
    return 2;
  }
#if defined(GMP_PEER_POOL)
  (void)gmp::pool::init();  // a pool that cannot start serves from jemalloc
#endif
  double v;
  const char* unit = "ns/op";
  if (w == "pair64") v = pair(secs, false);
  else if (w == "pairmix") v = pair(secs, true);
  else if (w == "batch64") v = batch(secs, false);
  else if (w == "batchmix") v = batch(secs, true);
  else if (w == "xthread64") v = xthread(secs);
  else if (w == "larson") v = larson(secs), unit = "Mops/s";
  else if (w == "xmalloc") v = xmalloc(secs), unit = "Mfrees/s";
  else {
    std::fprintf(stderr, "%s: unknown workload %s; use pair64, pairmix, batch64, batchmix, xthread64, larson or xmalloc\n", argv[0], w.c_str());
    return 2;
  }
  std::printf("%s %.3f %s\n", w.c_str(), v, unit);
  return 0;
}
