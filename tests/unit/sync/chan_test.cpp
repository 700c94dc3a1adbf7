// Chan<T>: Go's channel semantics (buffered, unbuffered, close, drain,
// try_send/try_recv, len/cap, move-only payloads, fatal misuse), on 1, 2, 4 Ps.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmp/gmp.hpp"
#include "procs_fixture.hpp"

namespace {

class ChanP : public gmp_test::ProcsTest {};
INSTANTIATE_TEST_SUITE_P(Procs, ChanP, gmp_test::procs_values(), gmp_test::procs_name);

TEST_P(ChanP, UnbufferedHandsOffInOrder) {
  std::vector<int> got;
  gmp::run(cfg(), [&] {
    gmp::Chan<int> ch;
    EXPECT_EQ(ch.cap(), 0u);
    gmp::go([ch]() mutable {
      for (int i = 0; i < 1000; i++) ch.send(i);
      ch.close();
    });
    while (auto v = ch.recv()) got.push_back(*v);
    EXPECT_FALSE(ch.recv().has_value());  // closed stays closed
    return 0;
  });
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; i++) EXPECT_EQ(got[i], i);
}

TEST_P(ChanP, BufferedLenCapAndDrainAfterClose) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> ch(3);
    EXPECT_EQ(ch.cap(), 3u);
    ch.send(1);
    ch.send(2);
    EXPECT_EQ(ch.len(), 2u);
    EXPECT_TRUE(ch.try_send(3));
    EXPECT_FALSE(ch.try_send(4));  // full: would block
    EXPECT_EQ(ch.len(), 3u);
    ch.close();
    EXPECT_TRUE(ch.closed());
    // Values sent before close are still received, in order.
    EXPECT_EQ(ch.recv(), 1);
    EXPECT_EQ(ch.recv(), 2);
    EXPECT_EQ(ch.recv(), 3);
    EXPECT_EQ(ch.recv(), std::nullopt);
    bool closed = false;
    EXPECT_EQ(ch.try_recv(&closed), std::nullopt);
    EXPECT_TRUE(closed);
    return 0;
  });
}

TEST_P(ChanP, TryRecvOnEmptyOpenChannel) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> ub;
    gmp::Chan<int> b(2);
    bool closed = true;
    EXPECT_EQ(ub.try_recv(&closed), std::nullopt);
    EXPECT_FALSE(closed);
    closed = true;
    EXPECT_EQ(b.try_recv(&closed), std::nullopt);
    EXPECT_FALSE(closed);
    EXPECT_FALSE(ub.try_send(1));  // no receiver waits
    return 0;
  });
}

TEST_P(ChanP, TrySendReachesWaitingReceiver) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> ch;
    gmp::Chan<int> done(1);
    gmp::go([ch, done]() mutable { done.send(*ch.recv()); });
    while (!ch.try_send(42)) gmp::yield();
    EXPECT_EQ(done.recv(), 42);
    return 0;
  });
}

TEST_P(ChanP, CloseWakesEveryWaitingReceiver) {
  constexpr int kN = 50;
  std::atomic<int> empty{0};
  gmp::run(cfg(), [&] {
    gmp::Chan<int> ch;
    gmp::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; i++) {
      gmp::go([&, ch]() mutable {
        if (!ch.recv().has_value()) empty++;
        wg.done();
      });
    }
    // Let them block (not required for correctness: a late receiver also
    // sees the closed channel).
    for (int i = 0; i < 10; i++) gmp::yield();
    ch.close();
    wg.wait();
    return 0;
  });
  EXPECT_EQ(empty.load(), kN);
}

TEST_P(ChanP, MoveOnlyPayloads) {
  gmp::run(cfg(), [] {
    gmp::Chan<std::unique_ptr<std::string>> ch(2);
    gmp::Chan<std::unique_ptr<std::string>> ub;
    ch.send(std::make_unique<std::string>("a"));
    gmp::go([ub]() mutable { ub.send(std::make_unique<std::string>("b")); });
    auto a = ch.recv();
    auto b = ub.recv();
    EXPECT_EQ(**a, "a");
    EXPECT_EQ(**b, "b");
    // Values left in a buffer are destroyed with the channel (ASan checks).
    ch.send(std::make_unique<std::string>("left behind"));
    return 0;
  });
}

TEST_P(ChanP, BlockedSendersOnBufferedChannelKeepFifo) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> ch(2);
    gmp::Chan<int> started(10);
    gmp::go([ch, started]() mutable {
      for (int i = 0; i < 10; i++) ch.send(i);
      started.send(1);
    });
    for (int i = 0; i < 10; i++) EXPECT_EQ(ch.recv(), i);
    EXPECT_EQ(started.recv(), 1);
    return 0;
  });
}

TEST_P(ChanP, PlainThreadAndGoroutine) {
  gmp::Config c = cfg();
  ASSERT_EQ(gmp::start(c).message(), "");
  {
    gmp::Chan<int> ch;
    gmp::Chan<int> back;
    gmp::go([ch, back]() mutable {
      while (auto v = ch.recv()) back.send(*v * 2);
      back.close();
    });
    for (int i = 0; i < 100; i++) {
      ch.send(i);  // a plain thread blocks on a futex, not an M
      EXPECT_EQ(back.recv(), 2 * i);
    }
    ch.close();
    EXPECT_EQ(back.recv(), std::nullopt);
  }
  gmp::stop();
}

TEST(ChanDeath, SendOnClosedChannel) {
  EXPECT_DEATH(
      {
        gmp::Chan<int> ch(1);
        ch.close();
        ch.send(1);
      },
      "runtime: send on closed channel");
}

TEST(ChanDeath, TrySendOnClosedChannel) {
  EXPECT_DEATH(
      {
        gmp::Chan<int> ch(1);
        ch.close();
        ch.try_send(1);
      },
      "runtime: send on closed channel");
}

TEST(ChanDeath, CloseOfClosedChannel) {
  EXPECT_DEATH(
      {
        gmp::Chan<int> ch;
        ch.close();
        ch.close();
      },
      "runtime: close of closed channel");
}

TEST(ChanDeath, BlockedSenderWhenChannelCloses) {
  EXPECT_DEATH(
      {
        gmp::Config c;
        c.procs = 2;
        c.pin = false;
        gmp::run(c, [] {
          gmp::Chan<int> ch;
          gmp::go([ch]() mutable { ch.send(1); });
          for (int i = 0; i < 100; i++) gmp::yield();
          ch.close();
          gmp::sleep_for(std::chrono::milliseconds(100));
          return 0;
        });
      },
      "runtime: send on closed channel");
}

}  // namespace
