// orders/order.cpp — names of the enums in order.hpp.
#include "orders/order.hpp"

namespace orders {

const char* reject_name(Reject r) noexcept {
  switch (r) {
    case Reject::kNone: return "none";
    case Reject::kBadSide: return "bad_side";
    case Reject::kBadKind: return "bad_kind";
    case Reject::kBadQty: return "bad_qty";
    case Reject::kBadPrice: return "bad_price";
    case Reject::kBadField: return "bad_field";
    case Reject::kUnknownSymbol: return "unknown_symbol";
    case Reject::kUnknownAccount: return "unknown_account";
    case Reject::kQtyLimit: return "qty_limit";
    case Reject::kNotionalLimit: return "notional_limit";
    case Reject::kPositionLimit: return "position_limit";
    case Reject::kPriceBand: return "price_band";
    case Reject::kUnknownOrder: return "unknown_order";
    case Reject::kDuplicateId: return "duplicate_id";
    case Reject::kCount: break;
  }
  return "invalid";
}

bool reject_is_malformed(Reject r) noexcept {
  switch (r) {
    case Reject::kBadSide:
    case Reject::kBadKind:
    case Reject::kBadQty:
    case Reject::kBadPrice:
    case Reject::kBadField:
    case Reject::kUnknownSymbol:
    case Reject::kUnknownAccount: return true;
    default: return false;
  }
}

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::kResting: return "resting";
    case Status::kFilled: return "filled";
    case Status::kCancelled: return "cancelled";
    case Status::kRejected: return "rejected";
  }
  return "invalid";
}

}  // namespace orders
