// Tests of the P's local run queue (sched/run_queue.hpp): FIFO order,
// capacity, runnext, steal-half, and a concurrent owner-vs-thieves stress with
// exact accounting (every G taken exactly once).
#include "sched/run_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace gmp::detail {
namespace {

std::vector<G> make_gs(size_t n) {
  std::vector<G> gs(n);
  for (size_t i = 0; i < n; i++) gs[i].id = i + 1;
  return gs;
}

TEST(RunQueue, PopsInPushOrder) {
  auto gs = make_gs(10);
  RunQueue q;
  for (auto& g : gs) ASSERT_TRUE(q.push(&g));
  EXPECT_EQ(q.size(), 10u);
  for (auto& g : gs) EXPECT_EQ(q.pop(), &g);
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
}

TEST(RunQueue, RefusesPushWhenFull) {
  auto gs = make_gs(kRunQueueSize + 1);
  RunQueue q;
  for (uint32_t i = 0; i < kRunQueueSize; i++) ASSERT_TRUE(q.push(&gs[i]));
  EXPECT_FALSE(q.push(&gs[kRunQueueSize]));
  EXPECT_EQ(q.size(), kRunQueueSize);
}

TEST(RunQueue, TakeHalfOnlyWhenFull) {
  auto gs = make_gs(kRunQueueSize);
  RunQueue q;
  G* out[kRunQueueSize];
  for (uint32_t i = 0; i < 10; i++) q.push(&gs[i]);
  EXPECT_EQ(q.take_half(out), 0u);  // not full: nothing taken
  for (uint32_t i = 10; i < kRunQueueSize; i++) q.push(&gs[i]);
  ASSERT_EQ(q.take_half(out), kRunQueueSize / 2);
  EXPECT_EQ(out[0], &gs[0]);  // the oldest half
  EXPECT_EQ(q.size(), kRunQueueSize / 2);
  EXPECT_EQ(q.pop(), &gs[kRunQueueSize / 2]);
}

TEST(RunQueue, GrabTakesHalfRoundedUp) {
  auto gs = make_gs(7);
  RunQueue victim, thief;
  for (auto& g : gs) victim.push(&g);
  EXPECT_EQ(victim.grab_into(thief), 4u);
  EXPECT_EQ(victim.size(), 3u);
  EXPECT_EQ(thief.size(), 4u);
  EXPECT_EQ(thief.pop(), &gs[0]);
  EXPECT_EQ(victim.pop(), &gs[4]);
}

TEST(RunQueue, GrabFromEmptyTakesNothing) {
  RunQueue victim, thief;
  EXPECT_EQ(victim.grab_into(thief), 0u);
  auto gs = make_gs(1);
  victim.push(&gs[0]);
  EXPECT_EQ(victim.grab_into(thief), 1u);
  EXPECT_EQ(thief.pop(), &gs[0]);
}

TEST(RunQueue, InboxReturnsPushOrder) {
  auto gs = make_gs(5);
  Inbox in;
  EXPECT_TRUE(in.empty());
  for (auto& g : gs) in.push(&g);
  G* list = in.take_all();
  for (auto& g : gs) {
    ASSERT_EQ(list, &g);
    list = list->sched_link;
  }
  EXPECT_EQ(list, nullptr);
  EXPECT_TRUE(in.empty());
}

// One owner pushes N Gs (popping some itself) while thieves grab halves and
// single Gs; every G must be taken exactly once.
TEST(RunQueueStress, OwnerAndThievesTakeEachGExactlyOnce) {
  constexpr size_t kN = 200000;
  constexpr int kThieves = 3;
  auto gs = make_gs(kN);
  std::vector<std::atomic<int>> taken(kN);
  RunQueue q;
  std::atomic<bool> done{false};
  auto take = [&](G* g) { taken[g->id - 1].fetch_add(1, std::memory_order_relaxed); };

  std::vector<std::thread> thieves;
  for (int t = 0; t < kThieves; t++) {
    thieves.emplace_back([&, t] {
      RunQueue mine;
      while (!done.load(std::memory_order_acquire) || q.size() > 0) {
        if (t % 2 == 0) {
          if (q.grab_into(mine) > 0) {
            while (G* g = mine.pop()) take(g);
          }
        } else if (G* g = q.steal_one()) {
          take(g);
        }
      }
    });
  }
  size_t i = 0;
  while (i < kN) {
    if (q.push(&gs[i])) {
      i++;
    } else if (G* g = q.pop()) {
      take(g);
    }
    if (i % 3 == 0) {
      if (G* g = q.pop()) take(g);
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& th : thieves) th.join();
  while (G* g = q.pop()) take(g);
  size_t twice = 0, never = 0;
  for (size_t k = 0; k < kN; k++) {
    int n = taken[k].load();
    if (n == 0) never++;
    if (n > 1) twice++;
  }
  EXPECT_EQ(never, 0u);
  EXPECT_EQ(twice, 0u);
}

// runnext: the owner swaps, a thief CASes it away; one of them gets it.
TEST(RunQueueStress, RunnextIsTakenOnce) {
  constexpr int kRounds = 100000;
  auto gs = make_gs(1);
  RunQueue q;
  std::atomic<int> owner_got{0}, thief_got{0};
  std::atomic<int> round{0};
  std::thread thief([&] {
    while (round.load(std::memory_order_acquire) < kRounds) {
      G* g = q.runnext.load(std::memory_order_acquire);
      if (g != nullptr && q.runnext.compare_exchange_strong(g, nullptr)) thief_got++;
    }
  });
  for (int r = 0; r < kRounds; r++) {
    q.runnext.store(&gs[0], std::memory_order_release);
    while (q.runnext.load(std::memory_order_acquire) != nullptr) {
      if (q.runnext.exchange(nullptr) != nullptr) owner_got++;
    }
    round.store(r + 1, std::memory_order_release);
  }
  thief.join();
  EXPECT_EQ(owner_got.load() + thief_got.load(), kRounds);
}

}  // namespace
}  // namespace gmp::detail
