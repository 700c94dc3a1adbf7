// orders/engine.cpp — see engine.hpp.
#include "orders/engine.hpp"

namespace orders {

void Tally::add(const Tally& o) noexcept {
  new_orders += o.new_orders;
  cancels += o.cancels;
  accepted += o.accepted;
  accepted_qty += o.accepted_qty;
  rejected += o.rejected;
  cancel_rejects += o.cancel_rejects;
  fills += o.fills;
  fill_qty += o.fill_qty;
  filled += o.filled;
  cancelled += o.cancelled;
  cancelled_qty += o.cancelled_qty;
}

// Counts each trade and moves positions before the caller's sink sees it.
class Engine::Forward final : public FillSink {
 public:
  Forward(Engine& e, FillSink& next) : e_(e), next_(next) {}
  void on_fill(const Fill& f) override {
    e_.t_.fills++;
    e_.t_.fill_qty += f.qty;
    if (f.maker_done) e_.t_.filled++;
    bool taker_buys = f.taker_side == Side::kBuy;
    e_.risk_.on_fill(f.symbol, taker_buys ? f.taker_account : f.maker_account,
                     taker_buys ? f.maker_account : f.taker_account, f.qty);
    next_.on_fill(f);
  }

 private:
  Engine& e_;
  FillSink& next_;
};

Engine::Engine(Risk& risk, std::uint32_t shard, std::uint32_t shards) : risk_(risk) {
  std::uint32_t n = risk.universe().symbols;
  books_.resize(n);
  for (std::uint32_t s = 0; s < n; s++) {
    if (shards == 0 || s % shards == shard) books_[s] = gmp::make_pooled_in<Book>(gmp::pool::Tier::kStable, s);
  }
}

Outcome Engine::apply(const Order& o, FillSink& sink) {
  Book& b = *books_[o.symbol];
  if (o.kind == Kind::kCancel) {
    t_.cancels++;
    Outcome out = b.cancel(o.id, o.account);
    if (out.status == Status::kCancelled) {
      t_.cancelled++;
      t_.cancelled_qty += out.leaves;
    } else {
      t_.cancel_rejects++;
    }
    return out;
  }
  t_.new_orders++;
  Forward fwd(*this, sink);
  Outcome out = b.submit(o, fwd);
  if (out.status == Status::kRejected) {
    t_.rejected++;
    return out;
  }
  t_.accepted++;
  t_.accepted_qty += o.qty;
  if (out.status == Status::kFilled) t_.filled++;
  if (out.status == Status::kCancelled) {
    t_.cancelled++;
    t_.cancelled_qty += out.leaves;
  }
  return out;
}

std::uint64_t Engine::resting_orders() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : books_) {
    if (b) n += b->resting_orders();
  }
  return n;
}

std::uint64_t Engine::resting_qty() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : books_) {
    if (b) n += b->resting_qty();
  }
  return n;
}

std::string Engine::check() const {
  for (const auto& b : books_) {
    if (!b) continue;
    if (std::string err = b->check(); !err.empty()) return err;
  }
  std::uint64_t resting = resting_orders(), rqty = resting_qty();
  if (t_.accepted != t_.filled + t_.cancelled + resting)
    return "orders not conserved: accepted " + std::to_string(t_.accepted) + " != filled " + std::to_string(t_.filled) +
           " + cancelled " + std::to_string(t_.cancelled) + " + resting " + std::to_string(resting);
  if (t_.accepted_qty != 2 * t_.fill_qty + t_.cancelled_qty + rqty)
    return "quantity not conserved: accepted " + std::to_string(t_.accepted_qty) + " != 2 x filled " +
           std::to_string(t_.fill_qty) + " + cancelled " + std::to_string(t_.cancelled_qty) + " + resting " +
           std::to_string(rqty);
  if (t_.new_orders != t_.accepted + t_.rejected)
    return "new orders " + std::to_string(t_.new_orders) + " != accepted " + std::to_string(t_.accepted) +
           " + rejected " + std::to_string(t_.rejected);
  return "";
}

}  // namespace orders
