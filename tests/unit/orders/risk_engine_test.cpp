// Validation, the risk limits, and the engine's conservation tally.
#include <gtest/gtest.h>

#include <random>

#include "orders/engine.hpp"
#include "orders/risk.hpp"

namespace orders {
namespace {

constexpr Universe kU{8, 16};

Order limit(std::uint64_t id, std::uint32_t account, Side s, std::int64_t px, std::uint32_t qty, std::uint32_t sym = 2) {
  return Order{id, account, sym, px, qty, s, Kind::kLimit};
}

TEST(Validate, NamesWhatIsMalformed) {
  EXPECT_EQ(validate(limit(1, 0, Side::kBuy, 100, 1), kU), Reject::kNone);
  Order o = limit(1, 0, Side::kBuy, 100, 1);
  o.side = static_cast<Side>(7);
  EXPECT_EQ(validate(o, kU), Reject::kBadSide);
  o = limit(1, 0, Side::kBuy, 100, 0);
  EXPECT_EQ(validate(o, kU), Reject::kBadQty);
  o = limit(1, 0, Side::kBuy, -5, 1);
  EXPECT_EQ(validate(o, kU), Reject::kBadPrice);
  o = Order{1, 0, 2, 100, 1, Side::kBuy, Kind::kMarket};  // market with a price
  EXPECT_EQ(validate(o, kU), Reject::kBadPrice);
  o = limit(1, 0, Side::kBuy, 100, 1, 8);
  EXPECT_EQ(validate(o, kU), Reject::kUnknownSymbol);
  o = limit(1, 16, Side::kBuy, 100, 1);
  EXPECT_EQ(validate(o, kU), Reject::kUnknownAccount);
  o = limit(0, 0, Side::kBuy, 100, 1);
  EXPECT_EQ(validate(o, kU), Reject::kBadField);
  o = limit(1, 0, Side::kBuy, 100, 1);
  o.kind = static_cast<Kind>(9);
  EXPECT_EQ(validate(o, kU), Reject::kBadKind);
  Order c{5, 0, 2, 0, 0, Side::kBuy, Kind::kCancel};
  EXPECT_EQ(validate(c, kU), Reject::kNone);
  c.qty = 3;
  EXPECT_EQ(validate(c, kU), Reject::kBadQty);
  EXPECT_TRUE(reject_is_malformed(Reject::kBadSide));
  EXPECT_FALSE(reject_is_malformed(Reject::kPositionLimit));
}

TEST(Risk, EachLimit) {
  Limits l{1000, 100'000, 150, 500};  // 5 % band
  Risk r(kU, l, 1000);
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 1000, 10)), Reject::kNone);
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 1000, 1001)), Reject::kQtyLimit);
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 1040, 100)), Reject::kNotionalLimit);  // 104 000
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 1051, 1)), Reject::kPriceBand);
  EXPECT_EQ(r.check(limit(1, 0, Side::kSell, 949, 1)), Reject::kPriceBand);
  EXPECT_EQ(r.check(limit(1, 0, Side::kSell, 950, 1)), Reject::kNone);
  // Market orders are valued at the reference price.
  EXPECT_EQ(r.check(Order{1, 0, 2, 0, 101, Side::kBuy, Kind::kMarket}), Reject::kNotionalLimit);
  r.set_reference(2, 500);
  EXPECT_EQ(r.check(Order{1, 0, 2, 0, 101, Side::kBuy, Kind::kMarket}), Reject::kNone);
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 1000, 1)), Reject::kPriceBand);  // the band moved with the tick
  // Positions: buyer up, seller down; the limit applies both ways.
  r.on_fill(2, 0, 1, 100);
  EXPECT_EQ(r.position(0, 2), 100);
  EXPECT_EQ(r.position(1, 2), -100);
  EXPECT_EQ(r.position(0, 3), 0);  // per symbol
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 500, 40)), Reject::kNone);
  EXPECT_EQ(r.check(limit(1, 0, Side::kBuy, 500, 51)), Reject::kPositionLimit);
  EXPECT_EQ(r.check(limit(1, 1, Side::kSell, 500, 51)), Reject::kPositionLimit);
  EXPECT_EQ(r.check(limit(1, 0, Side::kSell, 500, 100)), Reject::kNone);  // reduces
  EXPECT_EQ(r.check(Order{1, 0, 2, 0, 0, Side::kBuy, Kind::kCancel}), Reject::kNone);
}

struct Count final : FillSink {
  std::uint64_t n = 0;
  void on_fill(const Fill&) override { n++; }
};

TEST(Engine, OwnsItsShardOfSymbols) {
  Risk r(kU, Limits{}, 1000);
  Engine e0(r, 0, 2), e1(r, 1, 2);
  EXPECT_TRUE(e0.owns(2));
  EXPECT_FALSE(e0.owns(3));
  EXPECT_TRUE(e1.owns(3));
  EXPECT_FALSE(e1.owns(8));
}

TEST(Engine, FillsMovePositionsAndTallyConserves) {
  Risk r(kU, Limits{}, 1000);
  Engine e(r, 0, 1);
  Count sink;
  e.apply(limit(1, 3, Side::kSell, 1000, 10), sink);
  e.apply(limit(2, 4, Side::kBuy, 1000, 4), sink);
  EXPECT_EQ(r.position(4, 2), 4);
  EXPECT_EQ(r.position(3, 2), -4);
  e.apply(Order{1, 3, 2, 0, 0, Side::kBuy, Kind::kCancel}, sink);
  e.apply(Order{1, 3, 2, 0, 0, Side::kBuy, Kind::kCancel}, sink);  // unknown now
  const Tally& t = e.tally();
  EXPECT_EQ(t.accepted, 2u);
  EXPECT_EQ(t.filled, 1u);
  EXPECT_EQ(t.cancelled, 1u);
  EXPECT_EQ(t.cancelled_qty, 6u);
  EXPECT_EQ(t.cancel_rejects, 1u);
  EXPECT_EQ(t.fills, 1u);
  EXPECT_EQ(e.check(), "");
}

TEST(Engine, RandomFlowConservesAcrossSymbols) {
  Risk r(kU, Limits{}, 1000);
  Engine e(r, 0, 1);
  Count sink;
  std::mt19937_64 rng(7);
  for (std::uint64_t id = 1; id <= 30000; id++) {
    auto sym = static_cast<std::uint32_t>(rng() % kU.symbols);
    auto acct = static_cast<std::uint32_t>(rng() % kU.accounts);
    int what = static_cast<int>(rng() % 10);
    if (what == 0) {
      e.apply(Order{id > 50 ? id - 1 - rng() % 50 : 1, acct, sym, 0, 0, Side::kBuy, Kind::kCancel}, sink);
      continue;
    }
    Side s = rng() % 2 ? Side::kBuy : Side::kSell;
    auto qty = static_cast<std::uint32_t>(1 + rng() % 30);
    if (what == 1) {
      e.apply(Order{id, acct, sym, 0, qty, s, Kind::kMarket}, sink);
    } else {
      e.apply(limit(id, acct, s, 990 + static_cast<std::int64_t>(rng() % 20), qty, sym), sink);
    }
  }
  EXPECT_GT(sink.n, 1000u);
  EXPECT_GT(e.tally().cancelled, 10u);
  EXPECT_EQ(e.check(), "");
  // Positions net to zero over all accounts, per symbol.
  for (std::uint32_t s = 0; s < kU.symbols; s++) {
    std::int64_t net = 0;
    for (std::uint32_t a = 0; a < kU.accounts; a++) net += r.position(a, s);
    EXPECT_EQ(net, 0) << "symbol " << s;
  }
}

}  // namespace

struct EngineTestPeer {
  static Tally& tally(Engine& e) { return e.t_; }
};

namespace {

TEST(Engine, CheckCatchesALostOrderOrUnits) {
  Risk r(kU, Limits{}, 1000);
  Engine e(r, 0, 1);
  Count sink;
  e.apply(limit(1, 3, Side::kSell, 1000, 10), sink);
  e.apply(limit(2, 4, Side::kBuy, 1000, 4), sink);
  ASSERT_EQ(e.check(), "");
  EngineTestPeer::tally(e).filled++;  // one order counted twice
  EXPECT_NE(e.check().find("orders not conserved"), std::string::npos) << e.check();
  EngineTestPeer::tally(e).filled--;
  EngineTestPeer::tally(e).fill_qty++;  // a unit traded out of nowhere
  EXPECT_NE(e.check().find("quantity not conserved"), std::string::npos) << e.check();
}

}  // namespace
}  // namespace orders
