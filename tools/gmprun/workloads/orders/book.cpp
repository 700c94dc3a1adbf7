// orders/book.cpp — see book.hpp.
#include "orders/book.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace orders {

namespace {
constexpr std::size_t kInitialSlots = 64;  // power of two; grows at half full
inline std::size_t hash_id(std::uint64_t id) noexcept {
  return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ull) >> 20);
}
}  // namespace

Book::Book(std::uint32_t symbol) : symbol_(symbol) {
  bids_.reserve(64);
  asks_.reserve(64);
  slots_ = static_cast<Slot*>(gmp::pool::allocate(kInitialSlots * sizeof(Slot), gmp::pool::Tier::kStable));
  if (slots_ == nullptr) throw std::bad_alloc();
  std::memset(slots_, 0, kInitialSlots * sizeof(Slot));
  mask_ = kInitialSlots - 1;
}

Book::~Book() {
  for (Levels* side : {&bids_, &asks_}) {
    for (Level& l : *side) {
      for (Resting* r = l.head; r != nullptr;) {
        Resting* next = r->next;
        gmp::pool::deallocate(r, sizeof(Resting));
        r = next;
      }
    }
  }
  gmp::pool::deallocate(slots_, (mask_ + 1) * sizeof(Slot));
}

std::uint64_t Book::resting_qty() const noexcept {
  std::uint64_t q = 0;
  for (const Level& l : bids_) q += l.qty;
  for (const Level& l : asks_) q += l.qty;
  return q;
}

Book::Level* Book::find_level(Levels& side, bool ascending, std::int64_t price) noexcept {
  // New prices cluster at the top of the book (the back): scan from there.
  for (std::size_t i = side.size(); i-- > 0;) {
    Level& l = side[i];
    if (l.price == price) return &l;
    if (ascending ? l.price < price : l.price > price) return nullptr;  // passed it
  }
  return nullptr;
}

Book::Level& Book::level_for_insert(Levels& side, bool ascending, std::int64_t price) {
  std::size_t i = side.size();
  while (i > 0) {
    Level& l = side[i - 1];
    if (l.price == price) return l;
    if (ascending ? l.price < price : l.price > price) break;
    i--;
  }
  auto it = side.insert(side.begin() + static_cast<std::ptrdiff_t>(i), Level{price, 0, 0, nullptr, nullptr});
  return *it;
}

void Book::unlink(Levels& side, bool ascending, Resting* r) noexcept {
  Level* l = find_level(side, ascending, r->price);
  // The order is in the index, so its level exists (check() verifies it).
  if (r->prev != nullptr) r->prev->next = r->next; else l->head = r->next;
  if (r->next != nullptr) r->next->prev = r->prev; else l->tail = r->prev;
  l->qty -= r->qty;
  l->count--;
  if (l->count == 0) side.erase(side.begin() + (l - side.data()));
}

Outcome Book::submit(const Order& o, FillSink& sink) {
  Outcome out;
  if (index_find(o.id) != nullptr) {
    out.reason = Reject::kDuplicateId;
    return out;
  }
  const bool buy = o.side == Side::kBuy;
  const bool market = o.kind == Kind::kMarket;
  Levels& opposite = buy ? asks_ : bids_;
  std::uint32_t leaves = o.qty;
  Fill f;
  f.taker_id = o.id;
  f.taker_account = o.account;
  f.symbol = symbol_;
  f.taker_side = o.side;
  while (leaves > 0 && !opposite.empty()) {
    Level& l = opposite.back();
    if (!market && (buy ? l.price > o.price : l.price < o.price)) break;
    while (leaves > 0 && l.head != nullptr) {
      Resting* m = l.head;
      std::uint32_t q = std::min(leaves, m->qty);
      m->qty -= q;
      l.qty -= q;
      leaves -= q;
      f.maker_id = m->id;
      f.maker_account = m->account;
      f.qty = q;
      f.price = l.price;
      f.maker_done = m->qty == 0;
      if (f.maker_done) {
        l.head = m->next;
        if (l.head != nullptr) l.head->prev = nullptr; else l.tail = nullptr;
        l.count--;
        index_erase(m->id);
        gmp::pool::deallocate(m, sizeof(Resting));
      }
      sink.on_fill(f);
    }
    if (l.head == nullptr) opposite.pop_back();
  }
  out.filled = o.qty - leaves;
  if (leaves == 0) {
    out.status = Status::kFilled;
    return out;
  }
  if (market) {
    out.status = Status::kCancelled;
    out.leaves = leaves;  // dropped, not resting
    return out;
  }
  void* mem = gmp::pool::allocate(sizeof(Resting), gmp::pool::Tier::kTxn);
  if (mem == nullptr) throw std::bad_alloc();
  auto* r = ::new (mem) Resting{o.id, o.price, o.account, leaves, nullptr, nullptr, o.side};
  Level& l = level_for_insert(buy ? bids_ : asks_, buy, o.price);
  r->prev = l.tail;
  if (l.tail != nullptr) l.tail->next = r; else l.head = r;
  l.tail = r;
  l.qty += leaves;
  l.count++;
  index_insert(o.id, r);
  out.status = Status::kResting;
  out.leaves = leaves;
  return out;
}

Outcome Book::cancel(std::uint64_t id, std::uint32_t account) {
  Outcome out;
  Resting* r = index_find(id);
  if (r == nullptr || r->account != account) {
    out.reason = Reject::kUnknownOrder;
    return out;
  }
  const bool buy = r->side == Side::kBuy;
  unlink(buy ? bids_ : asks_, buy, r);
  index_erase(id);
  out.status = Status::kCancelled;
  out.leaves = r->qty;
  gmp::pool::deallocate(r, sizeof(Resting));
  return out;
}

std::uint64_t Book::qty_at(Side s, std::int64_t price) const noexcept {
  const Levels& side = s == Side::kBuy ? bids_ : asks_;
  for (const Level& l : side) {
    if (l.price == price) return l.qty;
  }
  return 0;
}

std::vector<std::uint64_t> Book::queue_at(Side s, std::int64_t price) const {
  std::vector<std::uint64_t> ids;
  const Levels& side = s == Side::kBuy ? bids_ : asks_;
  for (const Level& l : side) {
    if (l.price != price) continue;
    for (const Resting* r = l.head; r != nullptr; r = r->next) ids.push_back(r->id);
  }
  return ids;
}

std::string Book::check() const {
  std::string where = "symbol " + std::to_string(symbol_) + ": ";
  std::size_t seen = 0;
  for (int s = 0; s < 2; s++) {
    const bool buy = s == 0;
    const Levels& side = buy ? bids_ : asks_;
    const char* name = buy ? "bid" : "ask";
    for (std::size_t i = 0; i < side.size(); i++) {
      const Level& l = side[i];
      if (i > 0 && (buy ? side[i - 1].price >= l.price : side[i - 1].price <= l.price))
        return where + name + " levels out of order at price " + std::to_string(l.price);
      if (l.count == 0 || l.head == nullptr) return where + "empty " + name + " level at " + std::to_string(l.price);
      std::uint64_t qty = 0;
      std::uint32_t n = 0;
      const Resting* prev = nullptr;
      for (const Resting* r = l.head; r != nullptr; r = r->next) {
        if (r->prev != prev) return where + "broken links in the queue at " + std::to_string(l.price);
        if (r->qty == 0) return where + "order " + std::to_string(r->id) + " rests with qty 0";
        if (r->price != l.price || r->side != (buy ? Side::kBuy : Side::kSell))
          return where + "order " + std::to_string(r->id) + " is on the wrong level or side";
        if (index_find(r->id) != r) return where + "order " + std::to_string(r->id) + " is not in the id index";
        qty += r->qty;
        n++;
        prev = r;
      }
      if (l.tail != prev) return where + "level tail is not its last order at " + std::to_string(l.price);
      if (qty != l.qty || n != l.count)
        return where + name + " level " + std::to_string(l.price) + " says qty " + std::to_string(l.qty) + " in " +
               std::to_string(l.count) + " orders, holds " + std::to_string(qty) + " in " + std::to_string(n);
      seen += n;
    }
  }
  if (seen != index_size_)
    return where + "index holds " + std::to_string(index_size_) + " ids, the levels " + std::to_string(seen);
  if (!bids_.empty() && !asks_.empty() && best_bid() >= best_ask())
    return where + "crossed book: best bid " + std::to_string(best_bid()) + " >= best ask " + std::to_string(best_ask());
  return "";
}

// ---- id index ----------------------------------------------------------------

Book::Resting* Book::index_find(std::uint64_t id) const noexcept {
  if (id == 0) return nullptr;
  for (std::size_t i = hash_id(id) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].key == id) return slots_[i].val;
    if (slots_[i].key == 0) return nullptr;
  }
}

void Book::index_insert(std::uint64_t id, Resting* r) {
  if ((index_size_ + 1) * 2 > mask_ + 1) index_grow();
  std::size_t i = hash_id(id) & mask_;
  while (slots_[i].key != 0) i = (i + 1) & mask_;
  slots_[i] = Slot{id, r};
  index_size_++;
}

void Book::index_erase(std::uint64_t id) noexcept {
  std::size_t i = hash_id(id) & mask_;
  while (slots_[i].key != id) {
    if (slots_[i].key == 0) return;
    i = (i + 1) & mask_;
  }
  // Backward shift: move later members of the probe run into the hole when
  // their home slot is not between the hole and their position.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
    std::size_t home = hash_id(slots_[j].key) & mask_;
    bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{0, nullptr};
  index_size_--;
}

void Book::index_grow() {
  std::size_t old_n = mask_ + 1, n = old_n * 2;
  auto* fresh = static_cast<Slot*>(gmp::pool::allocate(n * sizeof(Slot), gmp::pool::Tier::kStable));
  if (fresh == nullptr) throw std::bad_alloc();
  std::memset(fresh, 0, n * sizeof(Slot));
  Slot* old = slots_;
  slots_ = fresh;
  mask_ = n - 1;
  for (std::size_t i = 0; i < old_n; i++) {
    if (old[i].key == 0) continue;
    std::size_t j = hash_id(old[i].key) & mask_;
    while (slots_[j].key != 0) j = (j + 1) & mask_;
    slots_[j] = old[i];
  }
  gmp::pool::deallocate(old, old_n * sizeof(Slot));
}

}  // namespace orders
