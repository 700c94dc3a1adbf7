// stw/uses.cpp — what the runtime stops the world for, besides set_procs
// (procresize.cpp): sweeping every P's pool cache, applying a pool config to
// a running runtime, and dumping every goroutine.
//
// Each runs its work between stop_the_world and start_the_world, so it may
// touch state that is otherwise "owner P only" (per-P pool caches, G
// descriptors): no owner runs.
#include <unistd.h>

#include <cstdio>

#include "base/clock.hpp"
#include "gmp/pool.hpp"
#include "mem/pool_state.hpp"
#include "sched/dump.hpp"
#include "sched/sched.hpp"
#include "stw/reasons.hpp"
#include "stw/stw.hpp"

namespace gmp::stw {

namespace {

std::uint64_t txn_cached() {
  pool::Stats s = pool::stats(false);
  return s.tiers[static_cast<int>(pool::Tier::kTxn)].total.bytes_cached;
}

}  // namespace

namespace {

// One P's sweep, by its owner or for an idle P (Note [Safe-point functions]
// in sched/safepoint.cpp): the same work the stopped world used to do.
void sweep_one_p(detail::P* pp) {
  using namespace detail;
  if (mem::state().phase.load(std::memory_order_acquire) != 1) return;
  mem::Cache* c = &mem::state().pcache[pp->id];
  mem::txn_sweep(c, nanotime());
  for (int cls = 0; cls < mem::kNumClasses; ++cls) mem::flush_remote(c, cls);
}

// How long the caller waits for Ps still running a goroutine.
constexpr std::int64_t kSweepWaitNs = 50'000'000;

}  // namespace

SweepResult sweep_pools() noexcept {
  using namespace detail;
  SweepResult r;
  if (mem::state().phase.load(std::memory_order_acquire) != 1) return r;
  r.txn_cached_before = txn_cached();
  const std::int64_t t0 = nanotime();
  r.lagging_ps = on_each_p(sweep_one_p, kSweepWaitNs);
  r.took_ns = nanotime() - t0;
  r.txn_cached_after = txn_cached();
  return r;
}

Status reload_config(const std::string& path) {
  // Parse and validate first, with the world running: a file that is
  // invalid costs no pause. The growth rule needs the live state: it is
  // checked by load_config while stopped, and a refusal keeps the old config.
  if (Status st = pool::check_config(path); !st.ok()) return st;
  // Every P must stop (Note [Bounded stops] in stop.cpp).
  if (Status why = try_stop_the_world(Reason::kConfigReload, kStopBound); !why.ok()) {
    start_the_world();
    return why;
  }
  Status st = pool::load_config(path);
  start_the_world();
  return st;
}

int dump_goroutines(int fd) noexcept {
  using namespace detail;
  // Proceeds without a goroutine that does not stop (Note [Bounded stops]).
  const Status why = try_stop_the_world(Reason::kGoroutineDump, kStopBound);
  char head[640];
  int n = std::snprintf(head, sizeof head, "goroutine dump (stop-the-world generation %llu)\n",
                        static_cast<unsigned long long>(generation()));
  if (!why.ok()) {
    n += std::snprintf(head + n, sizeof head - n, "runtime: %s; dumping without it\n", why.message().c_str());
    if (n > static_cast<int>(sizeof head) - 1) n = sizeof head - 1;
  }
  ssize_t w = ::write(fd, head, static_cast<std::size_t>(n));
  (void)w;
  dump_sched(fd);
  int count = detail::dump_goroutines(fd, false);
  start_the_world();
  return count;
}

}  // namespace gmp::stw
