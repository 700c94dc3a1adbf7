// orders/order.hpp — the vocabulary of the order-matching domain: an order
// message as the pipeline carries it, what became of it, and why it was
// rejected. Used by the book, the risk check, the engine, the wire protocol,
// the `orders` workload and its client (docs/ORDERS.md).
//
// Prices are integers in ticks; quantities are whole units. Nothing here
// depends on the runtime.
#pragma once

#include <cstdint>

namespace orders {

enum class Side : std::uint8_t { kBuy = 1, kSell = 2 };
// kLimit rests what it cannot fill; kMarket fills what it can at any price
// and cancels the rest (immediate-or-cancel); kCancel removes a resting order.
enum class Kind : std::uint8_t { kLimit = 1, kMarket = 2, kCancel = 3 };

// One inbound message. For kCancel, `id` is the order to cancel and side,
// price and qty are unused (0).
struct Order {
  std::uint64_t id = 0;
  std::uint32_t account = 0;
  std::uint32_t symbol = 0;
  std::int64_t price = 0;  // ticks; 0 for market orders
  std::uint32_t qty = 0;
  Side side = Side::kBuy;
  Kind kind = Kind::kLimit;
};

// What one message ended as when the engine was done with it.
//   kResting    a limit order (perhaps partly filled) now rests in the book;
//   kFilled     the order's whole quantity traded;
//   kCancelled  a cancel removed its target (the report is the cancel's), or
//               a market order's unfilled rest was dropped;
//   kRejected   nothing happened; `reason` says why.
enum class Status : std::uint8_t { kResting = 1, kFilled = 2, kCancelled = 3, kRejected = 4 };

// Why a message was rejected. Values are part of the wire protocol
// (docs/ORDERS.md): append, never renumber. kCount must stay last.
enum class Reject : std::uint8_t {
  kNone = 0,
  kBadSide = 1,        // side not buy (1) or sell (2)
  kBadKind = 2,        // kind not limit (1), market (2) or cancel (3)
  kBadQty = 3,         // qty 0 on a new order, or nonzero on a cancel
  kBadPrice = 4,       // limit price <= 0, market price != 0
  kBadField = 5,       // a reserved field not zero
  kUnknownSymbol = 6,  // symbol outside the configured set
  kUnknownAccount = 7, // account outside the configured set
  kQtyLimit = 8,       // qty above the account's per-order limit
  kNotionalLimit = 9,  // qty x price (reference price for market) above the limit
  kPositionLimit = 10, // the fill would take the net position past the limit
  kPriceBand = 11,     // limit price too far from the reference price
  kUnknownOrder = 12,  // cancel of an order not resting (unknown, filled or cancelled)
  kDuplicateId = 13,   // a new order whose id is already resting
  kCount
};

// Short snake_case names for the summary (rejects_<name>=N) and the docs.
const char* reject_name(Reject r) noexcept;
// True for reasons found by validation of the message itself (malformed);
// false for business rejects (risk limits, unknown order).
bool reject_is_malformed(Reject r) noexcept;

const char* status_name(Status s) noexcept;

// A trade between the incoming order (taker) and a resting one (maker),
// at the maker's price.
struct Fill {
  std::uint64_t taker_id = 0;
  std::uint64_t maker_id = 0;
  std::uint32_t taker_account = 0;
  std::uint32_t maker_account = 0;
  std::uint32_t symbol = 0;
  std::uint32_t qty = 0;
  std::int64_t price = 0;
  Side taker_side = Side::kBuy;
  bool maker_done = false;  // the maker has nothing left (it left the book)
};

// The engine's answer for one message.
struct Outcome {
  Status status = Status::kRejected;
  Reject reason = Reject::kNone;
  std::uint32_t filled = 0;  // quantity traded by this message (as taker)
  std::uint32_t leaves = 0;  // resting quantity (kResting), or what a cancel removed
};

}  // namespace orders
