// sched/dump.cpp — see dump.hpp.
#include "sched/dump.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "sched/allgs.hpp"
#include "sched/sched.hpp"
#include "sched/traceback.hpp"

namespace gmp::detail {

const char* gstatus_name(GStatus s) noexcept {
  switch (s) {
    case GStatus::kIdle: return "idle";
    case GStatus::kRunnable: return "runnable";
    case GStatus::kRunning: return "running";
    case GStatus::kWaiting: return "waiting";
    case GStatus::kDead: return "dead";
  }
  return "?";
}

const char* pstatus_name(PStatus s) noexcept {
  switch (s) {
    case PStatus::kIdle: return "idle";
    case PStatus::kRunning: return "running";
    case PStatus::kSyscall: return "syscall";
    case PStatus::kStopped: return "stopped";
  }
  return "?";
}

void dump_sched(int fd) noexcept {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "SCHED: procs=%d idleprocs=%d threads=%d spinningthreads=%d runqueue=%u\n",
                        sched.nprocs.load(std::memory_order_relaxed), sched.npidle.load(std::memory_order_relaxed),
                        sched.mcount.load(std::memory_order_relaxed),
                        sched.nmspinning.load(std::memory_order_relaxed),
                        sched.gq_size.load(std::memory_order_relaxed));
  ssize_t r = ::write(fd, buf, static_cast<std::size_t>(n));
  for (int i = 0; i < sched.nprocs; i++) {
    P* pp = sched.allp[i];
    M* mp = pp->m.load(std::memory_order_relaxed);
    G* gp = pp->curg.load(std::memory_order_acquire);
    n = std::snprintf(buf, sizeof buf, "P %d: status=%s m=%d curg=%llu runq=%u inbox=%s schedtick=%u switches=%llu\n",
                      pp->id, pstatus_name(pp->status.load(std::memory_order_relaxed)), mp != nullptr ? mp->id : -1,
                      gp != nullptr ? static_cast<unsigned long long>(gp->id) : 0ULL, pp->runq.size(),
                      pp->inbox.empty() ? "empty" : "non-empty", pp->schedtick.load(std::memory_order_relaxed),
                      static_cast<unsigned long long>(pp->n_switches.load(std::memory_order_relaxed)));
    r = ::write(fd, buf, static_cast<std::size_t>(n));
  }
  r = ::write(fd, "\n", 1);
  (void)r;
}

int dump_goroutines(int fd, bool /*all*/, const G* skip) noexcept {
  // State timestamps come from sysmon's coarse clock (≤ 10 ms behind): so
  // does "now", so that a G that just changed state shows 0 ms, not less.
  const std::int64_t now = sched.coarse_now_ns.load(std::memory_order_relaxed);
  int count = 0;
  Traceback tb;  // Note [Walking a goroutine's stack] in traceback.cpp
  auto write_g = [&](G* gp) {
    GStatus st = gp->status.load(std::memory_order_relaxed);
    if (st == GStatus::kIdle || st == GStatus::kDead || gp->is_g0 || gp == skip) return;
    char buf[1024];
    int n = 0;
    WaitReason wr = gp->wait_reason.load(std::memory_order_relaxed);
    std::int64_t since = gp->state_since_ns.load(std::memory_order_relaxed);
    long long ms = (since > 0 && now > since) ? (now - since) / 1'000'000 : 0;
    n += std::snprintf(buf + n, sizeof buf - n, "goroutine %llu [%s", static_cast<unsigned long long>(gp->id),
                       gstatus_name(st));
    if (st == GStatus::kWaiting) n += std::snprintf(buf + n, sizeof buf - n, ": %s", wait_reason_name(wr));
    n += std::snprintf(buf + n, sizeof buf - n, ", %lld ms", ms);
    M* mp = gp->m.load(std::memory_order_relaxed);
    P* lp = gp->last_p.load(std::memory_order_relaxed);
    if (st == GStatus::kRunning && mp != nullptr) {
      n += std::snprintf(buf + n, sizeof buf - n, ", M %d", mp->id);
    }
    if (lp != nullptr) n += std::snprintf(buf + n, sizeof buf - n, ", P %d", lp->id);
    n += std::snprintf(buf + n, sizeof buf - n, "]:\n");
    Dl_info info;
    char where[384];
    if (gp->creator_pc != nullptr && tb.ok() && tb.symbolize(gp->creator_pc, where, sizeof where)) {
      n += std::snprintf(buf + n, sizeof buf - n, "created by %s (goroutine %llu)\n", where,
                         static_cast<unsigned long long>(gp->parent_id));
    } else if (gp->creator_pc != nullptr && dladdr(gp->creator_pc, &info) != 0 && info.dli_sname != nullptr) {
      n += std::snprintf(buf + n, sizeof buf - n, "created by %s+0x%lx (goroutine %llu)\n", info.dli_sname,
                         static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(gp->creator_pc) -
                                                    reinterpret_cast<std::uintptr_t>(info.dli_saddr)),
                         static_cast<unsigned long long>(gp->parent_id));
    } else {
      n += std::snprintf(buf + n, sizeof buf - n, "created by %p (goroutine %llu)\n", gp->creator_pc,
                         static_cast<unsigned long long>(gp->parent_id));
    }
    if (n > static_cast<int>(sizeof buf) - 2) n = sizeof buf - 2;
    ssize_t r = ::write(fd, buf, n);
    // Where it waits: its saved context (a running G's stack changes under
    // us, and one that never ran has none).
    UnwindStart start;
    auto say = [fd](const char* m) {
      ssize_t w = ::write(fd, m, std::strlen(m));
      (void)w;
    };
    if (st == GStatus::kRunning) {
      say("\t(running: its stack is not read while it runs)\n");
    } else if (!gp->started) {
      say("\t(not started yet)\n");
    } else if (!tb.ok() || !unwind_start_parked(gp, &start) || tb.write(fd, start) <= 0) {
      say("\t(stack not available)\n");
    }
    r = ::write(fd, "\n", 1);
    (void)r;
    count++;
  };
  if (!allgs.try_for_each(write_g)) return -1;
  return count;
}

}  // namespace gmp::detail
