// The order book: price-time priority, partial fills, market orders,
// cancels of resting and unknown orders, and the invariants check() guards.
#include "orders/book.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

namespace orders {
namespace {

struct Recorder final : FillSink {
  std::vector<Fill> fills;
  void on_fill(const Fill& f) override { fills.push_back(f); }
};

Order limit(std::uint64_t id, Side s, std::int64_t px, std::uint32_t qty, std::uint32_t account = 1) {
  return Order{id, account, 7, px, qty, s, Kind::kLimit};
}
Order market(std::uint64_t id, Side s, std::uint32_t qty, std::uint32_t account = 1) {
  return Order{id, account, 7, 0, qty, s, Kind::kMarket};
}

TEST(Book, RestsWhatDoesNotCross) {
  Book b(7);
  Recorder r;
  EXPECT_EQ(b.submit(limit(1, Side::kBuy, 100, 10), r).status, Status::kResting);
  EXPECT_EQ(b.submit(limit(2, Side::kSell, 101, 5), r).status, Status::kResting);
  EXPECT_TRUE(r.fills.empty());
  EXPECT_EQ(b.best_bid(), 100);
  EXPECT_EQ(b.best_ask(), 101);
  EXPECT_EQ(b.resting_orders(), 2u);
  EXPECT_EQ(b.resting_qty(), 15u);
  EXPECT_EQ(b.check(), "");
}

TEST(Book, TimePriorityWithinALevelAndPriceAcrossLevels) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kSell, 102, 5), r);
  b.submit(limit(2, Side::kSell, 101, 5), r);  // better price, later
  b.submit(limit(3, Side::kSell, 101, 5), r);  // same price, later still
  EXPECT_EQ(b.queue_at(Side::kSell, 101), (std::vector<std::uint64_t>{2, 3}));
  Outcome o = b.submit(limit(4, Side::kBuy, 102, 12), r);
  EXPECT_EQ(o.status, Status::kFilled);
  EXPECT_EQ(o.filled, 12u);
  ASSERT_EQ(r.fills.size(), 3u);
  EXPECT_EQ(r.fills[0].maker_id, 2u);  // best price first, then oldest
  EXPECT_EQ(r.fills[1].maker_id, 3u);
  EXPECT_EQ(r.fills[2].maker_id, 1u);
  EXPECT_EQ(r.fills[0].price, 101);  // at the maker's price
  EXPECT_EQ(r.fills[2].price, 102);
  EXPECT_EQ(r.fills[2].qty, 2u);
  EXPECT_TRUE(r.fills[0].maker_done);
  EXPECT_FALSE(r.fills[2].maker_done);
  EXPECT_EQ(b.qty_at(Side::kSell, 102), 3u);
  EXPECT_EQ(b.levels(Side::kSell), 1u);
  EXPECT_EQ(b.check(), "");
}

TEST(Book, PartialFillRestsTheRemainder) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kBuy, 100, 4), r);
  Outcome o = b.submit(limit(2, Side::kSell, 99, 10), r);
  EXPECT_EQ(o.status, Status::kResting);
  EXPECT_EQ(o.filled, 4u);
  EXPECT_EQ(o.leaves, 6u);
  EXPECT_EQ(b.best_bid(), 0);
  EXPECT_EQ(b.best_ask(), 99);  // rests at its own limit
  EXPECT_EQ(b.qty_at(Side::kSell, 99), 6u);
  EXPECT_EQ(b.check(), "");
}

TEST(Book, LimitDoesNotTradeThroughItsPrice) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kSell, 105, 4), r);
  Outcome o = b.submit(limit(2, Side::kBuy, 104, 4), r);
  EXPECT_EQ(o.status, Status::kResting);
  EXPECT_TRUE(r.fills.empty());
  EXPECT_EQ(b.check(), "");
}

TEST(Book, MarketOrderTakesAnyPriceAndCancelsTheRest) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kBuy, 100, 3), r);
  b.submit(limit(2, Side::kBuy, 90, 3), r);
  Outcome o = b.submit(market(3, Side::kSell, 10), r);
  EXPECT_EQ(o.status, Status::kCancelled);
  EXPECT_EQ(o.filled, 6u);
  EXPECT_EQ(o.leaves, 4u);
  EXPECT_EQ(b.resting_orders(), 0u);
  Outcome empty = b.submit(market(4, Side::kBuy, 1), r);
  EXPECT_EQ(empty.status, Status::kCancelled);
  EXPECT_EQ(empty.filled, 0u);
  EXPECT_EQ(b.check(), "");
}

TEST(Book, CancelRemovesARestingOrderOnly) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kBuy, 100, 3, 5), r);
  b.submit(limit(2, Side::kBuy, 100, 4, 5), r);
  b.submit(limit(3, Side::kBuy, 100, 5, 5), r);
  EXPECT_EQ(b.cancel(2, 6).reason, Reject::kUnknownOrder);  // not this account's order
  Outcome c = b.cancel(2, 5);
  EXPECT_EQ(c.status, Status::kCancelled);
  EXPECT_EQ(c.leaves, 4u);
  EXPECT_EQ(b.queue_at(Side::kBuy, 100), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(b.qty_at(Side::kBuy, 100), 8u);
  EXPECT_EQ(b.cancel(2, 5).reason, Reject::kUnknownOrder);   // already gone
  EXPECT_EQ(b.cancel(99, 5).reason, Reject::kUnknownOrder);  // never there
  b.cancel(1, 5);
  b.cancel(3, 5);
  EXPECT_EQ(b.levels(Side::kBuy), 0u);  // an emptied level goes
  EXPECT_EQ(b.check(), "");
}

TEST(Book, FilledOrderCannotBeCancelled) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kSell, 100, 2), r);
  b.submit(limit(2, Side::kBuy, 100, 2), r);
  EXPECT_EQ(b.cancel(1, 1).reason, Reject::kUnknownOrder);
}

TEST(Book, DuplicateRestingIdIsRejected) {
  Book b(7);
  Recorder r;
  b.submit(limit(1, Side::kBuy, 100, 2), r);
  EXPECT_EQ(b.submit(limit(1, Side::kBuy, 99, 2), r).reason, Reject::kDuplicateId);
  EXPECT_EQ(b.resting_orders(), 1u);
}

// Many random orders and cancels: the invariants hold after every step, and
// quantity is conserved (what went in = 2 x traded + cancelled + resting).
TEST(Book, RandomFlowKeepsInvariantsAndConservesQuantity) {
  Book b(7);
  Recorder r;
  std::mt19937_64 rng(42);
  std::uint64_t in = 0, cancelled = 0;
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = 1; id <= 20000; id++) {
    int what = static_cast<int>(rng() % 10);
    if (what < 2 && !ids.empty()) {
      std::uint64_t victim = ids[rng() % ids.size()];
      Outcome c = b.cancel(victim, 1);
      if (c.status == Status::kCancelled) cancelled += c.leaves;
      continue;
    }
    Side s = rng() % 2 ? Side::kBuy : Side::kSell;
    auto qty = static_cast<std::uint32_t>(1 + rng() % 50);
    Outcome o = what == 2 ? b.submit(market(id, s, qty), r)
                          : b.submit(limit(id, s, 1000 + static_cast<std::int64_t>(rng() % 40) - 20, qty), r);
    in += qty;
    if (o.status == Status::kCancelled) cancelled += o.leaves;
    if (o.status == Status::kResting) ids.push_back(id);
    if (id % 97 == 0) {
      ASSERT_EQ(b.check(), "") << "after order " << id;
    }
  }
  std::uint64_t traded = 0;
  for (const Fill& f : r.fills) traded += f.qty;
  EXPECT_EQ(in, 2 * traded + cancelled + b.resting_qty());
  EXPECT_GT(r.fills.size(), 1000u);
  EXPECT_GT(b.resting_orders(), 1000u);  // the index grew past its first size
  EXPECT_EQ(b.check(), "");
}

}  // namespace

// Breaks one invariant at a time, so that check() is seen to catch each.
struct BookTestPeer {
  static void set_level_qty(Book& b, std::uint64_t qty) { b.bids_.back().qty = qty; }
  static void swap_levels(Book& b) { std::swap(b.bids_[0], b.bids_[1]); }
  static void cross(Book& b) { b.asks_.back().price = b.bids_.back().price; b.asks_.back().head->price = b.asks_.back().price; }
  static void drop_from_index(Book& b, std::uint64_t id) { b.index_erase(id); }
  static void zero_order(Book& b) { b.bids_.back().head->qty = 0; }
};

namespace {

TEST(Book, CheckCatchesEachBrokenInvariant) {
  auto fresh = [] {
    auto b = std::make_unique<Book>(7);
    Recorder r;
    b->submit(limit(1, Side::kBuy, 100, 5), r);
    b->submit(limit(2, Side::kBuy, 99, 5), r);
    b->submit(limit(3, Side::kSell, 101, 5), r);
    return b;
  };
  auto b = fresh();
  ASSERT_EQ(b->check(), "");
  BookTestPeer::set_level_qty(*b, 6);
  EXPECT_NE(b->check().find("says qty 6"), std::string::npos) << b->check();
  b = fresh();
  BookTestPeer::swap_levels(*b);
  EXPECT_NE(b->check().find("out of order"), std::string::npos) << b->check();
  b = fresh();
  BookTestPeer::cross(*b);
  EXPECT_NE(b->check().find("crossed"), std::string::npos) << b->check();
  b = fresh();
  BookTestPeer::drop_from_index(*b, 2);
  EXPECT_NE(b->check().find("not in the id index"), std::string::npos) << b->check();
  b = fresh();
  BookTestPeer::zero_order(*b);
  EXPECT_NE(b->check().find("qty 0"), std::string::npos) << b->check();
}

}  // namespace
}  // namespace orders
