// workloads/orders_gen.hpp — the order flow of `gmprun orders` and of
// `gmprun orders-client`: a seeded generator of realistic and deliberately
// bad messages (docs/ORDERS.md, "Order flow").
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "orders_pipeline.hpp"

namespace gmp::tools::orders_wl {

using orders::Kind;
using orders::Side;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed | 1) {}
  std::uint64_t next() noexcept {  // xorshift64*
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  double unit() noexcept { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }

 private:
  std::uint64_t s_;
};

struct GenConfig {
  double mean_gap_ns = 0;
  std::int64_t start = 0, end = 0, give_up = 0, spin_ns = 0;
  double malformed = 0, cancel = 0, market = 0, over_limit = 0;
  std::uint64_t seed = 1;
};

// What the order maker knows of the market: the symbols and accounts, and
// the reference prices (the risk state's, or a fixed base price in the
// client, whose server moves its own with ticks).
struct World {
  orders::Universe u;
  const orders::Risk* risk = nullptr;
  std::int64_t base_price = 10'000;
  std::uint32_t max_qty = orders::Limits{}.max_qty;
  std::int64_t reference(std::uint32_t sym) const { return risk != nullptr ? risk->reference(sym) : base_price; }
};

struct Recent {  // a limit order the generator sent
  std::uint64_t id;
  std::uint32_t account, symbol;
  bool gone;  // a cancel for it was sent
};

// The limit orders a generator keeps alive, oldest first. When kLive of them
// are outstanding, the next message cancels the oldest: each book then holds
// a bounded number of orders (most orders in real markets end cancelled),
// so a run's figures do not depend on how long it ran. Random cancels
// (--cancel) pick among the newest 256.
struct Flow {
  static constexpr std::uint64_t kLive = 2048;
  std::array<Recent, kLive> live{};
  std::uint64_t head = 0, count = 0;  // the oldest is live[head % kLive]

  void push(const Recent& r) { live[(head + count++) % kLive] = r; }
  bool full() const { return count == kLive; }
  // The oldest not yet cancelled, removed; nullptr when none is left.
  const Recent* pop_oldest() {
    while (count > 0) {
      const Recent* r = &live[head++ % kLive];
      count--;
      if (!r->gone) return r;
    }
    return nullptr;
  }
  Recent* pick_recent(Rng& rng) {
    if (count == 0) return nullptr;
    std::uint64_t k = rng.below(std::min<std::uint64_t>(count, 256));
    return &live[(head + count - 1 - k) % kLive];
  }
};

// One message: a cancel of the oldest live order (when kLive are), of a
// recent one, a market or a limit order
// priced around the reference, sometimes over a risk limit or with a
// corrupted field, as the percentages in g say. Writes m.order, m.is_cancel
// and the encoded frame (its sent_ns is 0: the caller stamps it).
inline void make_order(Rng& rng, const GenConfig& g, const World& w, const std::vector<std::uint32_t>& syms,
                       std::uint64_t id, Flow& flow, Msg& m) {
  const orders::Universe& u = w.u;
  std::uint32_t sym = syms[rng.below(syms.size())];
  auto acct = static_cast<std::uint32_t>(rng.below(u.accounts));
  double r = rng.unit();
  const Recent* target = nullptr;
  if (flow.full()) {
    target = flow.pop_oldest();
  } else if (r <= g.cancel) {
    if (Recent* c = flow.pick_recent(rng); c != nullptr) {
      c->gone = true;
      target = c;
    }
  }
  if (target != nullptr) {
    const Recent& c = *target;
    m.order = Order{c.id, c.account, c.symbol, 0, 0, Side::kBuy, Kind::kCancel};
    m.is_cancel = true;
    m.frame_len = static_cast<std::uint8_t>(orders::proto::encode_cancel(m.frame, m.order, 0));
  } else {
    Order o;
    o.id = id;
    o.account = acct;
    o.symbol = sym;
    o.side = rng.below(2) == 0 ? Side::kBuy : Side::kSell;
    o.kind = r <= g.cancel + g.market ? Kind::kMarket : Kind::kLimit;
    o.qty = static_cast<std::uint32_t>(1 + rng.below(100));
    std::int64_t ref = w.reference(sym);
    if (o.kind == Kind::kLimit) {
      // Around the reference: mostly resting near the top, some crossing.
      auto off = static_cast<std::int64_t>(rng.below(10)) - 2;
      o.price = o.side == Side::kBuy ? ref - off : ref + off;
      flow.push(Recent{o.id, o.account, o.symbol, false});
    }
    if (rng.unit() <= g.over_limit) {  // breaks a risk limit on purpose
      if (o.kind == Kind::kLimit && rng.below(2) == 0) {
        o.price = o.side == Side::kBuy ? ref + ref / 5 : ref - ref / 5;  // outside the band
      } else {
        o.qty = w.max_qty + 1;
      }
    }
    m.order = o;
    m.frame_len = static_cast<std::uint8_t>(orders::proto::encode_new_order(m.frame, o, 0));
  }
  if (rng.unit() <= g.malformed) {
    std::uint8_t* b = m.frame + orders::proto::kHeader;  // corrupt a field, never the framing
    switch (rng.below(4)) {
      case 0: b[3] = 1; break;                                                      // reserved byte
      case 1: b[8] = b[9] = b[10] = b[11] = 0xff; break;                            // symbol
      case 2: if (!m.is_cancel) { b[1] = 9; } else { b[1] = 1; } break;             // side / reserved
      default: if (!m.is_cancel) { b[12] = b[13] = b[14] = b[15] = 0; } else { b[12] = 1; } break;  // qty
    }
  }
}

}  // namespace gmp::tools::orders_wl
