// sched/runq.cpp — local and global run queues and work stealing
// (Go's runqput/runqget/globrunqget/stealWork).
#include <mutex>

#include "base/clock.hpp"
#include "sched/sched.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

// Note [One P]
// With a single P (sched.nprocs == 1, which changes only while the world is
// stopped) the owner is the only one to touch its runnext slot: there are no
// thieves, sysmon's move_queue leaves a lone P's queue alone (there is no
// other P to run it), and wakep() can find no idle P while the caller holds
// the only one. runq_put/runq_get then use plain loads and stores instead of
// the two locked exchanges per hand-off (about a fifth of a 1-P channel
// ping-pong round trip).

namespace {

// The ring is full: move half of it plus gp to the global queue in one batch
// (Go's runqputslow). Returns false if a thief raced us (ring not full any
// more): the caller retries the fast push.
[[gnu::noinline, gnu::cold]] bool runq_put_slow(P* pp, G* gp) noexcept {
  G* batch[kRunQueueSize / 2 + 1];
  std::uint32_t n = pp->runq.take_half(batch);
  if (n == 0) return false;
  batch[n++] = gp;
  for (std::uint32_t i = 0; i + 1 < n; i++) batch[i]->sched_link = batch[i + 1];
  batch[n - 1]->sched_link = nullptr;
  LockGuard lk(sched.lock);
  globrunq_put_batch_locked(batch[0], batch[n - 1], n);
  return true;
}

}  // namespace

// The one-P runnext cases (Note [One P]) are inline in sched.hpp's runq_put
// and runq_get, which call these for everything else.
bool runq_put_any(P* pp, G* gp, bool next) noexcept {
  if (next) {
    // Keep the locked exchange even when runnext is empty: it is also the
    // full fence between publishing gp and wakep()'s reads of npidle and
    // nmspinning (Note [Delicate dance] in find.cpp). A plain store there can
    // be reordered after those reads on x86, losing the wake-up (seen as
    // multi-second stalls).
    G* old = pp->runq.runnext.exchange(gp, std::memory_order_acq_rel);
    if (old == nullptr) return false;
    gp = old;  // kick the old occupant to the tail
  }
  while (!pp->runq.push(gp)) {
    if (runq_put_slow(pp, gp)) break;
  }
  return true;
}

G* runq_get_any(P* pp, bool* inherit) noexcept {
  if (sched.nprocs.load(std::memory_order_relaxed) != 1 && pp->runq.runnext.load(std::memory_order_relaxed) != nullptr) {
    // Thieves may CAS runnext to null concurrently; exchange settles it.
    if (G* gp = pp->runq.runnext.exchange(nullptr, std::memory_order_acq_rel)) {
      *inherit = true;
      return gp;
    }
  }
  *inherit = false;
  if (G* gp = pp->runq.pop()) return gp;
  if (!pp->inbox.empty()) {
    G* list = pp->inbox.take_all();
    G* first = list;
    list = list->sched_link;
    first->sched_link = nullptr;
    while (list != nullptr) {
      G* next = list->sched_link;
      list->sched_link = nullptr;
      runq_put(pp, list, false);
      list = next;
    }
    return first;
  }
  return nullptr;
}

void globrunq_put_locked(G* gp) noexcept GMP_REQUIRES(sched.lock) {
  gp->sched_link = nullptr;
  globrunq_put_batch_locked(gp, gp, 1);
}

void globrunq_put_batch_locked(G* head, G* tail, std::uint32_t n) noexcept GMP_REQUIRES(sched.lock) {
  tail->sched_link = nullptr;
  if (sched.gq_tail != nullptr) {
    sched.gq_tail->sched_link = head;
  } else {
    sched.gq_head = head;
  }
  sched.gq_tail = tail;
  sched.gq_size.store(sched.gq_size.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

G* globrunq_get_locked(P* pp, std::uint32_t max) noexcept GMP_REQUIRES(sched.lock) {
  std::uint32_t size = sched.gq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  // Take a fair share (Go's globrunqget): size/nprocs + 1, at most half a ring.
  std::uint32_t n = size / static_cast<std::uint32_t>(sched.nprocs) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > kRunQueueSize / 2) n = kRunQueueSize / 2;
  sched.gq_size.store(size - n, std::memory_order_relaxed);
  G* gp = sched.gq_head;
  sched.gq_head = gp->sched_link;
  for (std::uint32_t i = 1; i < n; i++) {
    G* x = sched.gq_head;
    sched.gq_head = x->sched_link;
    x->sched_link = nullptr;
    runq_put(pp, x, false);
  }
  if (sched.gq_head == nullptr) sched.gq_tail = nullptr;
  gp->sched_link = nullptr;
  return gp;
}

G* globrunq_get(P* pp, std::uint32_t max) noexcept {
  LockGuard lk(sched.lock);
  return globrunq_get_locked(pp, max);
}

namespace {

// Steals half of victim's ring into pp's (or, on the last pass, its runnext
// after a short back-off: the victim is probably about to run it itself, and
// a channel hand-off takes well under 3 µs).
G* runq_steal(P* pp, P* victim, bool steal_runnext) noexcept {
  std::uint32_t n = victim->runq.grab_into(pp->runq);
  if (n == 0) {
    if (!steal_runnext) return nullptr;
    G* next = victim->runq.runnext.load(std::memory_order_acquire);
    if (next == nullptr) return nullptr;
    if (victim->status.load(std::memory_order_relaxed) == PStatus::kRunning) {
      std::int64_t until = nanotime() + 3000;
      while (nanotime() < until) cpu_relax();
    }
    if (!victim->runq.runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) return nullptr;
    n = 1;
    pp->n_steals.fetch_add(1, std::memory_order_relaxed);
    pp->n_stolen.fetch_add(1, std::memory_order_relaxed);
    GMP_PROBE_P_STEAL(pp->id, victim->id, n);
    return next;
  }
  pp->n_steals.fetch_add(1, std::memory_order_relaxed);
  pp->n_stolen.fetch_add(n, std::memory_order_relaxed);
  GMP_PROBE_P_STEAL(pp->id, victim->id, n);
  return pp->runq.pop();
}

}  // namespace

G* steal_work(M* mp, P* pp, bool* inherit) noexcept {
  *inherit = false;
  const std::uint32_t n = static_cast<std::uint32_t>(sched.nprocs);
  if (n < 2) return nullptr;
  constexpr int kStealTries = 4;
  for (int i = 0; i < kStealTries; i++) {
    bool last = i == kStealTries - 1;
    std::uint32_t start = static_cast<std::uint32_t>(mp->next_rand() % n);
    for (std::uint32_t k = 0; k < n; k++) {
      P* victim = sched.allp[(start + k) % n];
      if (victim == pp) continue;
      if (last) steal_poll_sources(pp, victim);
      if (G* gp = runq_steal(pp, victim, last)) return gp;
    }
    // Timers stolen on the last pass may have readied Gs here.
    if (last) {
      if (G* gp = runq_get(pp, inherit)) return gp;
    }
  }
  return nullptr;
}

bool any_work() noexcept {
  if (sched.gq_size.load(std::memory_order_seq_cst) > 0) return true;
  for (int i = 0; i < sched.nprocs; i++) {
    P* p2 = sched.allp[i];
    if (!p2->runq.empty() || !p2->inbox.empty()) return true;
  }
  return false;
}

}  // namespace gmp::detail
