// orders/proto.cpp — see proto.hpp. Fields are read and written byte by byte
// (little-endian whatever the host), never through casts of the buffer.
#include "orders/proto.hpp"

namespace orders::proto {

namespace {

template <class T>
T get(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); i++) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return static_cast<T>(v);
}
template <class T>
void put(std::uint8_t* p, T value) noexcept {
  auto v = static_cast<std::uint64_t>(value);
  for (std::size_t i = 0; i < sizeof(T); i++) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::size_t body_size(std::uint8_t type) noexcept {
  switch (static_cast<Type>(type)) {
    case Type::kNewOrder: return kNewOrderBody;
    case Type::kCancel: return kCancelBody;
    case Type::kReport: return kReportBody;
  }
  return 0;
}

// Length and type of the frame at p: kNone with *len = body size, or the error.
FrameError frame(const std::uint8_t* p, std::size_t n, std::size_t* len) noexcept {
  if (n < kHeader + 1) return FrameError::kNeedMore;
  std::size_t l = get<std::uint16_t>(p);
  std::uint8_t type = p[kHeader];
  std::size_t want = body_size(type);
  if (want == 0) return FrameError::kUnknownType;
  if (l != want) return FrameError::kBadLength;
  if (n < kHeader + l) return FrameError::kNeedMore;
  *len = l;
  return FrameError::kNone;
}

}  // namespace

const char* frame_error_name(FrameError e) noexcept {
  switch (e) {
    case FrameError::kNone: return "none";
    case FrameError::kNeedMore: return "need_more";
    case FrameError::kBadLength: return "bad_length";
    case FrameError::kUnknownType: return "unknown_type";
    case FrameError::kUnexpectedType: return "unexpected_type";
    case FrameError::kCount: break;
  }
  return "invalid";
}

FrameError decode_request(const std::uint8_t* p, std::size_t n, Request* out, std::size_t* consumed) noexcept {
  std::size_t len = 0;
  if (FrameError e = frame(p, n, &len); e != FrameError::kNone) return e;
  const std::uint8_t* b = p + kHeader;
  Request r;
  if (b[0] == static_cast<std::uint8_t>(Type::kNewOrder)) {
    r.order.side = static_cast<Side>(b[1]);
    // A new-order frame carries limit (1) or market (2); anything else,
    // 3 (cancel) included, is a bad kind for validate() to reject.
    r.order.kind = (b[2] == 1 || b[2] == 2) ? static_cast<Kind>(b[2]) : static_cast<Kind>(0);
    if (b[3] != 0) r.field_error = Reject::kBadField;
    r.order.account = get<std::uint32_t>(b + 4);
    r.order.symbol = get<std::uint32_t>(b + 8);
    r.order.qty = get<std::uint32_t>(b + 12);
    r.order.price = get<std::int64_t>(b + 16);
    r.order.id = get<std::uint64_t>(b + 24);
    r.sent_ns = get<std::uint64_t>(b + 32);
  } else if (b[0] == static_cast<std::uint8_t>(Type::kCancel)) {
    r.order.kind = Kind::kCancel;
    r.order.side = Side::kBuy;
    if (b[1] != 0 || b[2] != 0 || b[3] != 0 || get<std::uint32_t>(b + 12) != 0) r.field_error = Reject::kBadField;
    r.order.account = get<std::uint32_t>(b + 4);
    r.order.symbol = get<std::uint32_t>(b + 8);
    r.order.id = get<std::uint64_t>(b + 16);
    r.sent_ns = get<std::uint64_t>(b + 24);
  } else {
    return FrameError::kUnexpectedType;
  }
  *out = r;
  *consumed = kHeader + len;
  return FrameError::kNone;
}

FrameError decode_report(const std::uint8_t* p, std::size_t n, Report* out, std::size_t* consumed) noexcept {
  std::size_t len = 0;
  if (FrameError e = frame(p, n, &len); e != FrameError::kNone) return e;
  const std::uint8_t* b = p + kHeader;
  if (b[0] != static_cast<std::uint8_t>(Type::kReport)) return FrameError::kUnexpectedType;
  Report r;
  r.status = static_cast<Status>(b[1]);
  r.reason = static_cast<Reject>(b[2]);
  r.filled = get<std::uint32_t>(b + 4);
  r.leaves = get<std::uint32_t>(b + 8);
  r.fills = get<std::uint32_t>(b + 12);
  r.id = get<std::uint64_t>(b + 16);
  r.sent_ns = get<std::uint64_t>(b + 24);
  r.server_ns = get<std::uint64_t>(b + 32);
  *out = r;
  *consumed = kHeader + len;
  return FrameError::kNone;
}

std::size_t encode_new_order(std::uint8_t* out, const Order& o, std::uint64_t sent_ns) noexcept {
  put<std::uint16_t>(out, kNewOrderBody);
  std::uint8_t* b = out + kHeader;
  b[0] = static_cast<std::uint8_t>(Type::kNewOrder);
  b[1] = static_cast<std::uint8_t>(o.side);
  b[2] = static_cast<std::uint8_t>(o.kind);
  b[3] = 0;
  put<std::uint32_t>(b + 4, o.account);
  put<std::uint32_t>(b + 8, o.symbol);
  put<std::uint32_t>(b + 12, o.qty);
  put<std::int64_t>(b + 16, o.price);
  put<std::uint64_t>(b + 24, o.id);
  put<std::uint64_t>(b + 32, sent_ns);
  return kHeader + kNewOrderBody;
}

std::size_t encode_cancel(std::uint8_t* out, const Order& o, std::uint64_t sent_ns) noexcept {
  put<std::uint16_t>(out, kCancelBody);
  std::uint8_t* b = out + kHeader;
  b[0] = static_cast<std::uint8_t>(Type::kCancel);
  b[1] = b[2] = b[3] = 0;
  put<std::uint32_t>(b + 4, o.account);
  put<std::uint32_t>(b + 8, o.symbol);
  put<std::uint32_t>(b + 12, 0);
  put<std::uint64_t>(b + 16, o.id);
  put<std::uint64_t>(b + 24, sent_ns);
  return kHeader + kCancelBody;
}

std::size_t encode_report(std::uint8_t* out, const Report& r) noexcept {
  put<std::uint16_t>(out, kReportBody);
  std::uint8_t* b = out + kHeader;
  b[0] = static_cast<std::uint8_t>(Type::kReport);
  b[1] = static_cast<std::uint8_t>(r.status);
  b[2] = static_cast<std::uint8_t>(r.reason);
  b[3] = 0;
  put<std::uint32_t>(b + 4, r.filled);
  put<std::uint32_t>(b + 8, r.leaves);
  put<std::uint32_t>(b + 12, r.fills);
  put<std::uint64_t>(b + 16, r.id);
  put<std::uint64_t>(b + 24, r.sent_ns);
  put<std::uint64_t>(b + 32, r.server_ns);
  return kHeader + kReportBody;
}

}  // namespace orders::proto
