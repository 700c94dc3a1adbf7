// orders/book.hpp — a limit order book for one symbol, price-time priority.
//
// Model: two sides of price levels; each level is a FIFO of resting orders
// at that price (time priority). An incoming buy trades with the lowest ask
// while that ask is at or below its limit (any ask for a market order), the
// oldest order of the level first, at the resting order's price; a sell
// mirrors it. What a limit order cannot fill rests at the back of its
// level's queue; what a market order cannot fill is cancelled.
//
// Invariants (check() verifies every one of them):
//   - levels are sorted (bids ascending, asks descending: the best level is
//     at the back of its vector, where the matching loop takes it) and no
//     two levels share a price;
//   - no level is empty; a level's qty and count are the sums of its orders;
//   - every resting order has qty > 0, is on its price's level, on its side,
//     and is in the id index; the index holds nothing else;
//   - the book is not crossed: best bid < best ask.
//
// Memory: resting orders come from the pool's txn tier (they live
// milliseconds to seconds), the level vectors and the id index from the
// stable tier (they live as long as the book).
//
// A Book is used by one goroutine (or thread) at a time; it has no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gmp/pool.hpp"
#include "orders/order.hpp"

namespace orders {

// Receives every trade the book makes, in the order they happen.
class FillSink {
 public:
  virtual void on_fill(const Fill& f) = 0;

 protected:
  ~FillSink() = default;
};

class Book {
 public:
  explicit Book(std::uint32_t symbol);
  ~Book();
  Book(const Book&) = delete;
  Book& operator=(const Book&) = delete;

  // Matches a limit or market order, reporting trades to `sink`, and rests
  // the unfilled part of a limit order. Rejects (kUnknownOrder is not used
  // here) only an id already resting (kDuplicateId).
  // REQUIRES: o.kind is kLimit or kMarket, o.qty > 0, o.symbol == symbol().
  Outcome submit(const Order& o, FillSink& sink);
  // Removes the resting order `id` if it belongs to `account`
  // (kCancelled, leaves = its remaining qty), else kRejected/kUnknownOrder.
  Outcome cancel(std::uint64_t id, std::uint32_t account);

  std::uint32_t symbol() const noexcept { return symbol_; }
  // 0 when that side is empty.
  std::int64_t best_bid() const noexcept { return bids_.empty() ? 0 : bids_.back().price; }
  std::int64_t best_ask() const noexcept { return asks_.empty() ? 0 : asks_.back().price; }
  std::size_t resting_orders() const noexcept { return index_size_; }
  std::uint64_t resting_qty() const noexcept;
  std::size_t levels(Side s) const noexcept { return s == Side::kBuy ? bids_.size() : asks_.size(); }
  // Quantity resting at a price on one side (0 if no such level).
  std::uint64_t qty_at(Side s, std::int64_t price) const noexcept;
  // The resting order ids at one price, in time priority (for tests).
  std::vector<std::uint64_t> queue_at(Side s, std::int64_t price) const;

  // "" if every invariant above holds, else the first broken one.
  std::string check() const;

 private:
  friend struct BookTestPeer;  // tests/unit/orders: breaks invariants on purpose

  struct Resting {
    std::uint64_t id;
    std::int64_t price;
    std::uint32_t account;
    std::uint32_t qty;
    Resting* prev;
    Resting* next;
    Side side;
  };
  struct Level {
    std::int64_t price;
    std::uint64_t qty;
    std::uint32_t count;
    Resting* head;
    Resting* tail;
  };
  using Levels = std::vector<Level, gmp::pool::Allocator<Level, gmp::pool::Tier::kStable>>;
  struct Slot {
    std::uint64_t key;  // 0: empty (order ids are never 0)
    Resting* val;
  };

  // The level for `price` on a side, or null.
  Level* find_level(Levels& side, bool ascending, std::int64_t price) noexcept;
  Level& level_for_insert(Levels& side, bool ascending, std::int64_t price);
  void unlink(Levels& side, bool ascending, Resting* r) noexcept;

  // The id index: open addressing, linear probing, backward-shift deletion.
  Resting* index_find(std::uint64_t id) const noexcept;
  void index_insert(std::uint64_t id, Resting* r);
  void index_erase(std::uint64_t id) noexcept;
  void index_grow();

  std::uint32_t symbol_;
  Levels bids_;  // ascending: best (highest) at back
  Levels asks_;  // descending: best (lowest) at back
  Slot* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t index_size_ = 0;
};

}  // namespace orders
