// Channel stress: many goroutines over shared channels (unbuffered and
// buffered, plain send/recv and select), on 1, 2 and 4 Ps, with exact
// message accounting: every value sent is received exactly once, so a lost
// wake-up shows up as a hang (caught by the ctest timeout) or a wrong sum.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "gmp/gmp.hpp"

namespace {

struct Param {
  int procs;
  std::size_t cap;
};

class ChanStress : public testing::TestWithParam<Param> {};

INSTANTIATE_TEST_SUITE_P(Cfg, ChanStress,
                         testing::Values(Param{1, 0}, Param{2, 0}, Param{4, 0}, Param{1, 16}, Param{2, 16},
                                         Param{4, 16}),
                         [](const testing::TestParamInfo<Param>& i) {
                           return std::to_string(i.param.procs) + "P_cap" + std::to_string(i.param.cap);
                         });

TEST_P(ChanStress, ExactAccountingManyProducersConsumers) {
  constexpr int kProducers = 16, kConsumers = 16, kPerProducer = 4000;
  std::vector<std::atomic<int>> seen(kProducers * kPerProducer);
  std::atomic<long> sum{0};
  gmp::Config cfg;
  cfg.procs = GetParam().procs;
  cfg.pin = false;
  gmp::run(cfg, [&] {
    gmp::Chan<int> a(GetParam().cap), b(GetParam().cap);
    gmp::WaitGroup prod, cons;
    prod.add(kProducers);
    cons.add(kConsumers);
    for (int p = 0; p < kProducers; p++) {
      gmp::go([&, p] {
        for (int i = 0; i < kPerProducer; i++) {
          int v = p * kPerProducer + i;
          if (p % 2 == 0) {
            (i % 2 ? a : b).send(v);
          } else {
            gmp::select(gmp::on_send(a, v, [] {}), gmp::on_send(b, v, [] {}));
          }
        }
        prod.done();
      });
    }
    for (int c = 0; c < kConsumers; c++) {
      gmp::go([&, c] {
        bool a_open = true, b_open = true;
        while (a_open || b_open) {
          std::optional<int> v;
          if (c % 2 == 0 && a_open && b_open) {
            gmp::select(gmp::on_recv(a, [&](std::optional<int> x) { v = x; if (!x) a_open = false; }),
                        gmp::on_recv(b, [&](std::optional<int> x) { v = x; if (!x) b_open = false; }));
          } else if (a_open) {
            v = a.recv();
            if (!v) a_open = false;
          } else {
            v = b.recv();
            if (!v) b_open = false;
          }
          if (v) {
            seen[*v].fetch_add(1, std::memory_order_relaxed);
            sum.fetch_add(*v, std::memory_order_relaxed);
          }
        }
        cons.done();
      });
    }
    prod.wait();
    a.close();
    b.close();
    cons.wait();
    return 0;
  });
  long n = static_cast<long>(kProducers) * kPerProducer;
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
  int bad = 0;
  for (auto& s : seen) bad += s.load() != 1;
  EXPECT_EQ(bad, 0);
}

TEST_P(ChanStress, PingPongRingNoLostWakeups) {
  // A ring of goroutines passing one token around, many laps.
  constexpr int kRing = 64, kLaps = 300;
  gmp::Config cfg;
  cfg.procs = GetParam().procs;
  cfg.pin = false;
  int laps_done = gmp::run(cfg, [&] {
    std::vector<gmp::Chan<int>> ch;
    for (int i = 0; i < kRing; i++) ch.emplace_back(GetParam().cap);
    // Each goroutine holds its own channel handles (they outlive main's
    // vector) and the WaitGroup tells main when the ring has drained.
    gmp::WaitGroup wg;
    wg.add(kRing - 1);
    for (int i = 1; i < kRing; i++) {
      gmp::go([&wg, in = ch[i], out = ch[(i + 1) % kRing], last = i + 1 == kRing] {
        while (auto v = in.recv()) out.send(*v);
        if (!last) out.close();
        wg.done();
      });
    }
    int laps = 0;
    ch[1].send(0);
    for (; laps < kLaps; laps++) {
      int v = *ch[0].recv();
      if (laps + 1 < kLaps) ch[1].send(v + 1);
    }
    ch[1].close();
    wg.wait();
    return laps;
  });
  EXPECT_EQ(laps_done, kLaps);
}

}  // namespace
