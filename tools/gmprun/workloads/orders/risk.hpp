// orders/risk.hpp — validation and pre-trade risk checks.
//
// validate() looks at one message alone (fields in range, reserved fields
// zero, known symbol and account): its rejects are "malformed". Risk::check()
// applies the account's limits against the state the checker knows:
//   - qty per order <= max_qty;
//   - notional = qty x price (the reference price for a market order)
//     <= max_notional;
//   - |net position + signed qty| <= max_position, per account and symbol;
//   - a limit price within band_bps of the symbol's reference price.
// Reference prices move with market-data ticks (set_reference); positions
// move with fills (on_fill), which the matching stage reports.
//
// Threads: one Risk is shared by the risk stage(s) (check, set_reference)
// and the matching stage(s) (on_fill) running on other Ps; reference
// prices and positions are relaxed atomics (a check may see a position a
// few fills old, as a real pre-trade check does). The tables are allocated
// once, from the pool's stable tier.
#pragma once

#include <atomic>
#include <cstdint>

#include "orders/order.hpp"

namespace orders {

struct Limits {
  std::uint32_t max_qty = 10'000;
  std::int64_t max_notional = 50'000'000;  // ticks x units
  std::int64_t max_position = 1'000'000;   // units, either direction
  std::uint32_t band_bps = 1'000;          // 10 %
};

struct Universe {
  std::uint32_t symbols = 64;    // valid symbols: 0 .. symbols-1
  std::uint32_t accounts = 1024; // valid accounts: 0 .. accounts-1
};

// kNone, or the malformed-message reason (docs/ORDERS.md).
Reject validate(const Order& o, const Universe& u) noexcept;

class Risk {
 public:
  Risk(Universe u, Limits l, std::int64_t initial_reference);
  ~Risk();
  Risk(const Risk&) = delete;
  Risk& operator=(const Risk&) = delete;

  // kNone, or the limit the order breaks. Cancels always pass.
  // REQUIRES: validate(o) == kNone.
  Reject check(const Order& o) const noexcept;

  void set_reference(std::uint32_t symbol, std::int64_t price) noexcept;
  std::int64_t reference(std::uint32_t symbol) const noexcept;
  // A trade of `qty` on `symbol`: buyer's position up, seller's down.
  void on_fill(std::uint32_t symbol, std::uint32_t buyer, std::uint32_t seller, std::uint32_t qty) noexcept;
  std::int64_t position(std::uint32_t account, std::uint32_t symbol) const noexcept;

  const Universe& universe() const noexcept { return u_; }
  const Limits& limits() const noexcept { return l_; }

 private:
  std::atomic<std::int64_t>& pos(std::uint32_t account, std::uint32_t symbol) const noexcept {
    return positions_[static_cast<std::size_t>(account) * u_.symbols + symbol];
  }
  Universe u_;
  Limits l_;
  std::atomic<std::int64_t>* reference_;  // [symbols]
  std::atomic<std::int64_t>* positions_;  // [accounts x symbols]
};

}  // namespace orders
