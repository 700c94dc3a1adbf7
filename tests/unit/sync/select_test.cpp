// select: ready cases, default, timeout, close, fairness (statistical),
// withdrawal of the losing cases, on 1, 2, 4 Ps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>

#include "gmp/gmp.hpp"
#include "procs_fixture.hpp"

namespace {

using namespace std::chrono_literals;

class SelectP : public gmp_test::ProcsTest {};
INSTANTIATE_TEST_SUITE_P(Procs, SelectP, gmp_test::procs_values(), gmp_test::procs_name);

TEST_P(SelectP, DefaultWhenNothingReady) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a, b(1);
    bool def = false;
    int r = gmp::select(gmp::on_recv(a, [](std::optional<int>) { ADD_FAILURE(); }),
                        gmp::on_recv(b, [](std::optional<int>) { ADD_FAILURE(); }),
                        gmp::on_default([&] { def = true; }));
    EXPECT_EQ(r, 2);
    EXPECT_TRUE(def);
    // A send case on an unbuffered channel with no receiver is not ready either.
    r = gmp::select(gmp::on_send(a, 1, [] { ADD_FAILURE(); }), gmp::on_default([] {}));
    EXPECT_EQ(r, 1);
    return 0;
  });
}

TEST_P(SelectP, ReadyRecvAndSendCases) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a(1), b(1);
    a.send(5);
    int got = 0;
    int r = gmp::select(gmp::on_recv(a, [&](std::optional<int> v) { got = *v; }), gmp::on_default([] {}));
    EXPECT_EQ(r, 0);
    EXPECT_EQ(got, 5);
    r = gmp::select(gmp::on_send(b, 9, [] {}), gmp::on_default([] {}));
    EXPECT_EQ(r, 0);
    EXPECT_EQ(b.recv(), 9);
    return 0;
  });
}

TEST_P(SelectP, ClosedChannelIsReadyWithEmptyValue) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a;
    a.close();
    bool empty = false;
    int r = gmp::select(gmp::on_recv(a, [&](std::optional<int> v) { empty = !v; }), gmp::on_default([] {}));
    EXPECT_EQ(r, 0);
    EXPECT_TRUE(empty);
    return 0;
  });
}

TEST_P(SelectP, BlocksUntilOneCaseFiresAndWithdrawsTheOthers) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a, b, c;
    for (int round = 0; round < 200; round++) {
      gmp::go([b, round]() mutable { b.send(round); });
      int got = -1;
      int r = gmp::select(gmp::on_recv(a, [](std::optional<int>) { ADD_FAILURE(); }),
                          gmp::on_recv(b, [&](std::optional<int> v) { got = *v; }),
                          gmp::on_send(c, 1, [] { ADD_FAILURE(); }));
      EXPECT_EQ(r, 1);
      EXPECT_EQ(got, round);
    }
    // Withdrawn: no stale select waiter on a or c takes these.
    EXPECT_FALSE(a.try_send(1));
    EXPECT_EQ(c.try_recv(), std::nullopt);
    return 0;
  });
}

TEST_P(SelectP, BlockedSendCaseDeliversToReceiver) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> out, never;
    gmp::Chan<int> got(1);
    gmp::go([out, got]() mutable { got.send(*out.recv()); });
    int r = gmp::select(gmp::on_recv(never, [](std::optional<int>) {}), gmp::on_send(out, 77, [] {}));
    EXPECT_EQ(r, 1);
    EXPECT_EQ(got.recv(), 77);
    return 0;
  });
}

TEST_P(SelectP, TimeoutFiresNotEarly) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a;
    auto t0 = std::chrono::steady_clock::now();
    bool timed_out = false;
    int r = gmp::select(gmp::on_recv(a, [](std::optional<int>) {}), gmp::on_timeout(5ms, [&] { timed_out = true; }));
    auto dt = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r, 1);
    EXPECT_TRUE(timed_out);
    EXPECT_GE(dt, 5ms);
    EXPECT_LT(dt, 2s);  // generous: loaded CI
    return 0;
  });
}

TEST_P(SelectP, ChannelBeatsTimeoutAndTimerIsCancelled) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a;
    for (int i = 0; i < 100; i++) {
      gmp::go([a, i]() mutable { a.send(i); });
      int r = gmp::select(gmp::on_recv(a, [](std::optional<int>) {}), gmp::on_timeout(10s, [] {}));
      EXPECT_EQ(r, 0);
    }
    return 0;
  });
}

TEST_P(SelectP, CloseWakesBlockedSelect) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a, b;
    gmp::go([b]() mutable {
      for (int i = 0; i < 20; i++) gmp::yield();
      b.close();
    });
    bool empty = false;
    int r = gmp::select(gmp::on_recv(a, [](std::optional<int>) {}),
                        gmp::on_recv(b, [&](std::optional<int> v) { empty = !v; }));
    EXPECT_EQ(r, 1);
    EXPECT_TRUE(empty);
    return 0;
  });
}

// Four always-ready cases: each must be chosen ~1/4 of the time. With
// 40000 trials the count per case is Binomial(40000, 1/4): sd ~87; accept
// +-6 sd (false failure probability ~1e-8).
TEST_P(SelectP, FairAmongReadyCases) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> c[4] = {gmp::Chan<int>(1), gmp::Chan<int>(1), gmp::Chan<int>(1), gmp::Chan<int>(1)};
    for (auto& ch : c) ch.close();  // closed: always ready
    constexpr int kTrials = 40000;
    int hits[4] = {};
    auto noop = [](std::optional<int>) {};
    for (int t = 0; t < kTrials; t++) {
      int r = gmp::select(gmp::on_recv(c[0], noop), gmp::on_recv(c[1], noop), gmp::on_recv(c[2], noop),
                          gmp::on_recv(c[3], noop));
      hits[r]++;
    }
    double sd = std::sqrt(kTrials * 0.25 * 0.75);
    for (int i = 0; i < 4; i++) EXPECT_NEAR(hits[i], kTrials / 4, 6 * sd) << "case " << i;
    return 0;
  });
}

TEST_P(SelectP, TwoSelectsMeetOnOneChannel) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> a, b;
    gmp::Chan<int> done(1);
    constexpr int kN = 2000;
    gmp::go([a, b, done]() mutable {
      int n = 0;
      while (n < kN) gmp::select(gmp::on_send(a, n, [&] { n++; }), gmp::on_send(b, n, [&] { n++; }));
      done.send(n);
    });
    long sum = 0;
    for (int i = 0; i < kN; i++) {
      gmp::select(gmp::on_recv(a, [&](std::optional<int> v) { sum += *v; }),
                  gmp::on_recv(b, [&](std::optional<int> v) { sum += *v; }));
    }
    EXPECT_EQ(done.recv(), kN);
    EXPECT_EQ(sum, static_cast<long>(kN) * (kN - 1) / 2);
    return 0;
  });
}

TEST_P(SelectP, OnlyTimeoutCase) {
  gmp::run(cfg(), [] {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(gmp::select(gmp::on_timeout(2ms, [] {})), 0);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 2ms);
    return 0;
  });
}

TEST(SelectDeath, SendCaseOnClosedChannel) {
  EXPECT_DEATH(
      {
        gmp::Chan<int> a(1);
        a.close();
        gmp::select(gmp::on_send(a, 1, [] {}), gmp::on_default([] {}));
      },
      "runtime: send on closed channel");
}

}  // namespace
