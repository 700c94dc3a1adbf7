// orders/risk.cpp — see risk.hpp.
#include "orders/risk.hpp"

#include <new>

#include "gmp/pool.hpp"

namespace orders {

namespace {
template <class T>
T* alloc_array(std::size_t n) {
  void* p = gmp::pool::allocate(n * sizeof(T), gmp::pool::Tier::kStable);
  if (p == nullptr) throw std::bad_alloc();
  T* a = static_cast<T*>(p);
  for (std::size_t i = 0; i < n; i++) ::new (&a[i]) T();
  return a;
}
}  // namespace

Reject validate(const Order& o, const Universe& u) noexcept {
  if (o.kind != Kind::kLimit && o.kind != Kind::kMarket && o.kind != Kind::kCancel) return Reject::kBadKind;
  if (o.id == 0) return Reject::kBadField;
  if (o.symbol >= u.symbols) return Reject::kUnknownSymbol;
  if (o.account >= u.accounts) return Reject::kUnknownAccount;
  if (o.kind == Kind::kCancel) {
    if (o.qty != 0) return Reject::kBadQty;
    if (o.price != 0) return Reject::kBadPrice;
    return Reject::kNone;
  }
  if (o.side != Side::kBuy && o.side != Side::kSell) return Reject::kBadSide;
  if (o.qty == 0) return Reject::kBadQty;
  if (o.kind == Kind::kLimit ? o.price <= 0 : o.price != 0) return Reject::kBadPrice;
  return Reject::kNone;
}

Risk::Risk(Universe u, Limits l, std::int64_t initial_reference) : u_(u), l_(l) {
  reference_ = alloc_array<std::atomic<std::int64_t>>(u.symbols);
  positions_ = alloc_array<std::atomic<std::int64_t>>(static_cast<std::size_t>(u.accounts) * u.symbols);
  for (std::uint32_t s = 0; s < u.symbols; s++) reference_[s].store(initial_reference, std::memory_order_relaxed);
}

Risk::~Risk() {
  gmp::pool::deallocate(reference_, u_.symbols * sizeof(std::atomic<std::int64_t>));
  gmp::pool::deallocate(positions_, static_cast<std::size_t>(u_.accounts) * u_.symbols * sizeof(std::atomic<std::int64_t>));
}

Reject Risk::check(const Order& o) const noexcept {
  if (o.kind == Kind::kCancel) return Reject::kNone;
  if (o.qty > l_.max_qty) return Reject::kQtyLimit;
  std::int64_t ref = reference(o.symbol);
  std::int64_t px = o.kind == Kind::kMarket ? ref : o.price;
  // qty <= 2^32 and px < 2^63 / 2^32 for any sane tick price: compute in
  // 128 bits so that no price can overflow the comparison.
  __int128 notional = static_cast<__int128>(o.qty) * px;
  if (notional > l_.max_notional) return Reject::kNotionalLimit;
  std::int64_t signed_qty = o.side == Side::kBuy ? static_cast<std::int64_t>(o.qty) : -static_cast<std::int64_t>(o.qty);
  std::int64_t after = position(o.account, o.symbol) + signed_qty;
  if (after > l_.max_position || after < -l_.max_position) return Reject::kPositionLimit;
  if (o.kind == Kind::kLimit) {
    __int128 diff = static_cast<__int128>(o.price) - ref;
    if (diff < 0) diff = -diff;
    if (diff * 10'000 > static_cast<__int128>(l_.band_bps) * ref) return Reject::kPriceBand;
  }
  return Reject::kNone;
}

void Risk::set_reference(std::uint32_t symbol, std::int64_t price) noexcept {
  if (symbol < u_.symbols && price > 0) reference_[symbol].store(price, std::memory_order_relaxed);
}

std::int64_t Risk::reference(std::uint32_t symbol) const noexcept {
  return reference_[symbol].load(std::memory_order_relaxed);
}

void Risk::on_fill(std::uint32_t symbol, std::uint32_t buyer, std::uint32_t seller, std::uint32_t qty) noexcept {
  pos(buyer, symbol).fetch_add(qty, std::memory_order_relaxed);
  pos(seller, symbol).fetch_sub(qty, std::memory_order_relaxed);
}

std::int64_t Risk::position(std::uint32_t account, std::uint32_t symbol) const noexcept {
  return pos(account, symbol).load(std::memory_order_relaxed);
}

}  // namespace orders
