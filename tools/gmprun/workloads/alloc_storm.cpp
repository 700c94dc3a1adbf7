// alloc-storm — the memory pool under load: per-P goroutines allocating and
// freeing mixed sizes and lifetimes across every tier, with cross-P frees.
//
// Each goroutine loops until the deadline: short-lived objects (fast tier,
// 16-256 B, freed at once), transaction objects (txn tier, up to 4 KiB, kept
// in a ring and freed when overwritten), a few long-lived ones (stable tier)
// and an occasional large one (jemalloc). A share of objects is posted to a
// shared mailbox and freed by whichever goroutine takes it (another P, most
// of the time). The summary has ops/s, per-tier hit rates, the pool's sampled
// allocation latency, hugepage coverage and RSS, and a steady-state snapshot
// taken at 3/4 of the run (workers still allocating, nothing freed for the
// end yet): the arena's resident bytes (smaps) against the pool's live +
// cached bytes, with what the difference is made of (free buddy pages the
// pool retains, the uncarved rest of spans, pre-faulted chunk tails).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace gmp::tools {
namespace {

struct Mailbox {
  std::mutex mu;
  std::vector<void*> items;  // GMP_GUARDED_BY(mu)
};

std::uint64_t rss_bytes() {
  long pages = 0, rss = 0;
  FILE* f = std::fopen("/proc/self/statm", "re");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  std::fclose(f);
  return static_cast<std::uint64_t>(rss) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

double hit_rate(const gmp::pool::TierStats& t) {
  double all = static_cast<double>(t.total.hits + t.total.misses + t.total.fallbacks);
  return all > 0 ? static_cast<double>(t.total.hits) / all : 0;
}

struct Options {
  std::int64_t duration_ns = 2'000'000'000;
  int gs = 4, ring = 512, cross = 10;
};

void declare(Cli& c, Options& o) {
  c.duration("--duration", o.duration_ns, "how long to run");
  c.integer("--gs", o.gs, 1, 1024, "N", "goroutines per P");
  c.integer("--ring", o.ring, 1, 1 << 20, "N", "txn objects each goroutine keeps alive");
  c.integer("--cross", o.cross, 0, 100, "PCT", "percent of objects freed by another goroutine");
}

std::string help() { return gmp::tools::workload_help<Options>("alloc-storm", declare); }

int run(int argc, char** argv, Summary& out) {
  Options o;
  Cli c("alloc-storm");
  declare(c, o);
  if (std::string err = gmp::tools::parse_workload_options(c, argc, argv); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());  // the errors carry the "alloc-storm: " prefix
    return 2;
  }
  const std::int64_t dur_ns = o.duration_ns;
  const int gs = o.gs, ring = o.ring, cross = o.cross;
  const int n = gmp::procs() * gs;
  Mailbox box;
  std::atomic<std::uint64_t> ops{0};
  const std::int64_t deadline = gmp::detail::nanotime() + dur_ns;
  std::uint64_t rss0 = rss_bytes();
  // Steady state: goroutine 0 takes the snapshot between two of its rounds
  // once 3/4 of the run has passed, while every goroutine still runs (a
  // timer-woken observer can be late under load and see the final frees).
  const std::int64_t snap_at = deadline - dur_ns / 4;
  gmp::pool::Stats mid;
  std::uint64_t mid_rss = 0;
  bool snapped = false;
  std::vector<gmp::JoinHandle<void>> hs;
  for (int g = 0; g < n; ++g) {
    hs.push_back(gmp::spawn([&, g] {
      std::uint64_t x = 0x9E3779B97F4A7C15ull * (g + 1), local = 0;
      auto rnd = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
      };
      std::vector<void*> keep(static_cast<std::size_t>(ring), nullptr);
      std::vector<void*> stable;
      std::vector<void*> post, take;
      while (gmp::detail::nanotime() < deadline) {
        for (int i = 0; i < 256; ++i) {
          std::uint64_t r = rnd();
          // fast: 16-256 B, freed at once (or posted for a cross-P free).
          void* f = gmp::pool::allocate(16 + (r % 241), gmp::pool::Tier::kFast);
          static_cast<char*>(f)[0] = 1;
          if (static_cast<int>((r >> 8) % 100) < cross) post.push_back(f);
          else gmp::pool::deallocate(f);
          // txn: up to 4 KiB, lives for `ring` iterations.
          if ((r >> 16) % 4 == 0) {
            std::size_t slot = (r >> 20) % keep.size();
            gmp::pool::deallocate(keep[slot]);
            keep[slot] = gmp::pool::allocate(32 + ((r >> 24) % 4064), gmp::pool::Tier::kTxn);
          }
          // stable: rare, long-lived (kept until the end).
          if ((r >> 32) % 4096 == 0) stable.push_back(gmp::pool::allocate(64 + ((r >> 40) % 16384), gmp::pool::Tier::kStable));
          // large: rarer still.
          if ((r >> 44) % 16384 == 0) gmp::pool::deallocate(gmp::pool::allocate(300 * 1024));
          local += 2;
        }
        if (!post.empty() || cross > 0) {
          std::lock_guard lk(box.mu);
          box.items.insert(box.items.end(), post.begin(), post.end());
          std::size_t k = box.items.size() > 256 ? 256 : box.items.size();
          take.assign(box.items.end() - static_cast<std::ptrdiff_t>(k), box.items.end());
          box.items.resize(box.items.size() - k);
        }
        post.clear();
        for (void* p : take) gmp::pool::deallocate(p);
        take.clear();
        if (g == 0 && !snapped && gmp::detail::nanotime() >= snap_at) {
          mid = gmp::pool::stats(true);
          mid_rss = rss_bytes();
          snapped = true;
        }
        gmp::yield();
      }
      for (void* p : keep) gmp::pool::deallocate(p);
      for (void* p : stable) gmp::pool::deallocate(p);
      ops.fetch_add(local, std::memory_order_relaxed);
    }));
  }
  for (auto& h : hs) h.join();
  for (void* p : box.items) gmp::pool::deallocate(p);
  gmp::pool::Stats s = gmp::pool::stats(true);
  std::uint64_t rss1 = rss_bytes();
  double secs = static_cast<double>(dur_ns) / 1e9;
  out.set("ops", ops.load());
  out.set("ops_per_s", static_cast<double>(ops.load()) / secs);
  out.set("hit_fast", hit_rate(s.tiers[0]));
  out.set("hit_txn", hit_rate(s.tiers[1]));
  out.set("hit_stable", hit_rate(s.tiers[2]));
  out.set("remote_frees", s.tiers[0].total.remote_frees + s.tiers[1].total.remote_frees);
  out.set("fallbacks", s.tiers[0].total.fallbacks + s.tiers[1].total.fallbacks + s.tiers[2].total.fallbacks);
  out.set("large_allocs", s.large_allocs);
  out.set("samples", s.samples);
  out.set("p50_ns", s.p50_ns);
  out.set("p99_ns", s.p99_ns);
  out.set("p999_ns", s.p999_ns);
  out.set("hugepages", s.hugepage_mode);
  out.set("hugepage_coverage", s.hugepage_coverage);
  out.set("arena_mib", static_cast<double>(s.arena_committed) / 1048576.0);
  std::uint64_t cached = 0, live = 0;
  for (const auto& t : s.tiers) {
    cached += t.total.bytes_cached;
    live += t.total.bytes_in_use;
  }
  out.set("pool_cached_mib", static_cast<double>(cached) / 1048576.0);
  out.set("pool_live_mib", static_cast<double>(live) / 1048576.0);
  out.set("rss_mib", static_cast<double>(rss1) / 1048576.0);
  out.set("rss_start_mib", static_cast<double>(rss0) / 1048576.0);
  // Steady state (3/4 into the run; all zero if goroutine 0 never got there).
  out.set("steady_snapshot", snapped ? 1 : 0);
  std::uint64_t mid_live = 0, mid_cached = 0;
  for (const auto& t : mid.tiers) {
    mid_live += t.total.bytes_in_use;
    mid_cached += t.total.bytes_cached;
  }
  const double mib = 1048576.0;
  out.set("steady_live_mib", static_cast<double>(mid_live) / mib);
  out.set("steady_cached_mib", static_cast<double>(mid_cached) / mib);
  out.set("steady_arena_rss_mib", static_cast<double>(mid.arena_rss) / mib);
  out.set("steady_rss_over_live_cached",
          mid_live + mid_cached > 0 ? static_cast<double>(mid.arena_rss) / static_cast<double>(mid_live + mid_cached) : 0);
  // The rest of the arena's resident bytes: free buddy pages kept (up to
  // arena.retain_bytes of whole units, plus partial units), and span bytes
  // not yet carved into objects.
  out.set("steady_buddy_free_mib", static_cast<double>(mid.buddy_free_bytes) / mib);
  std::uint64_t held = mid_live + mid_cached + mid.buddy_free_bytes;
  out.set("steady_rss_over_held", held > 0 ? static_cast<double>(mid.arena_rss) / static_cast<double>(held) : 0);
  out.set("steady_committed_mib", static_cast<double>(mid.arena_committed - mid.arena_released) / mib);
  out.set("steady_large_mib", static_cast<double>(mid.large_bytes_in_use) / mib);
  out.set("steady_rss_mib", static_cast<double>(mid_rss) / mib);
  return 0;
}

const WorkloadRegistration reg{{"alloc-storm", "memory pool under mixed-size, mixed-lifetime, cross-P load", help, run}};

}  // namespace
}  // namespace gmp::tools
