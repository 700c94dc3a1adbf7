// orders/engine.hpp — the matching engine of one shard: the books of the
// symbols it owns, fills reported to the risk state, and the tally that
// makes conservation checkable.
//
// Conservation (check()): every new order the engine accepted ends as
// exactly one of filled, cancelled (by a cancel, or a market order's
// unfilled rest) or resting, so
//   accepted == filled + cancelled + resting              (orders)
//   accepted_qty == 2 x fill_qty + cancelled_qty + resting_qty   (units)
// (each fill takes its qty from a taker and a maker, both accepted here).
// The terms are counted in different places (taker outcome, maker leaving
// the book, cancel, the books themselves), so a lost or doubled order
// breaks the equality.
//
// An Engine is used by one goroutine at a time (its shard's matching stage).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gmp/pool.hpp"
#include "orders/book.hpp"
#include "orders/risk.hpp"

namespace orders {

struct Tally {
  std::uint64_t new_orders = 0;     // limit and market orders that reached the engine
  std::uint64_t cancels = 0;        // cancel messages that reached the engine
  std::uint64_t accepted = 0;       // new orders not rejected by the book
  std::uint64_t accepted_qty = 0;
  std::uint64_t rejected = 0;       // new orders rejected here (duplicate id)
  std::uint64_t cancel_rejects = 0; // cancels of unknown orders
  std::uint64_t fills = 0;
  std::uint64_t fill_qty = 0;
  std::uint64_t filled = 0;         // orders whose whole qty traded (as taker or maker)
  std::uint64_t cancelled = 0;      // orders that left with qty unfilled
  std::uint64_t cancelled_qty = 0;
  void add(const Tally& o) noexcept;
};

class Engine {
 public:
  // Owns the books of symbols s with s % shards == shard.
  Engine(Risk& risk, std::uint32_t shard, std::uint32_t shards);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies one message that passed validate() and the risk check.
  // Trades go to `sink` (after the risk state has seen them).
  // REQUIRES: owns(o.symbol).
  Outcome apply(const Order& o, FillSink& sink);

  bool owns(std::uint32_t symbol) const noexcept {
    return symbol < books_.size() && books_[symbol] != nullptr;
  }
  const Book* book(std::uint32_t symbol) const noexcept { return owns(symbol) ? books_[symbol].get() : nullptr; }
  const Tally& tally() const noexcept { return t_; }
  std::uint64_t resting_orders() const noexcept;
  std::uint64_t resting_qty() const noexcept;
  // "" when every book is consistent and the conservation equalities hold,
  // else the first problem found.
  std::string check() const;

 private:
  friend struct EngineTestPeer;  // tests/unit/orders: breaks the tally on purpose
  class Forward;
  Risk& risk_;
  std::vector<gmp::pooled_ptr<Book>> books_;  // by symbol; null where not owned
  Tally t_;
};

}  // namespace orders
