// orders/proto.hpp — the wire protocol of `gmprun orders --listen` and
// `gmprun orders-client` (docs/ORDERS.md, "Wire protocol").
//
// A stream of frames, each a little-endian u16 length (the bytes after it)
// and a body whose first byte is its type. Every type has one fixed size:
//   1 new order  (client -> server), 40 bytes
//   2 cancel     (client -> server), 32 bytes
//   3 report     (server -> client), 40 bytes: one per order or cancel
// A frame whose length is not its type's size, or whose type is unknown or
// not expected in that direction, is a frame error: the server closes that
// connection and counts the reason. A well-formed frame with bad field values
// (side 7, qty 0, a reserved byte set) is an order rejected as malformed,
// answered with a report; the connection stays.
//
// The decoder never reads past `n` and never allocates; it is fuzzed
// (tests/fuzz/orders_proto_fuzz.cpp). Nothing here depends on the runtime.
#pragma once

#include <cstddef>
#include <cstdint>

#include "orders/order.hpp"

namespace orders::proto {

enum class Type : std::uint8_t { kNewOrder = 1, kCancel = 2, kReport = 3 };

inline constexpr std::size_t kHeader = 2;           // the u16 length
inline constexpr std::size_t kNewOrderBody = 40;
inline constexpr std::size_t kCancelBody = 32;
inline constexpr std::size_t kReportBody = 40;
inline constexpr std::size_t kMaxFrame = kHeader + 40;  // the largest frame

enum class FrameError : std::uint8_t {
  kNone = 0,
  kNeedMore,        // not a whole frame yet (not an error: read more)
  kBadLength,       // length is not the size of the frame's type
  kUnknownType,     // type byte is not 1, 2 or 3
  kUnexpectedType,  // a valid type sent the wrong way (a report to the server)
  kCount
};
const char* frame_error_name(FrameError e) noexcept;

// The server's answer to one order or cancel.
struct Report {
  Status status = Status::kRejected;
  Reject reason = Reject::kNone;
  std::uint32_t filled = 0;   // traded by this message
  std::uint32_t leaves = 0;   // resting (kResting) or removed by a cancel
  std::uint32_t fills = 0;    // number of trades
  std::uint64_t id = 0;       // the order's id (for a cancel: its target)
  std::uint64_t sent_ns = 0;  // echoed from the request (the client's clock)
  std::uint64_t server_ns = 0;  // time from the frame's arrival to this report
};

struct Request {
  Order order;                 // kind kCancel for a cancel frame
  std::uint64_t sent_ns = 0;   // the client's intended send time (its clock)
  // kBadField when a reserved field is not zero (other field checks are
  // validate()'s, risk.hpp); kNone otherwise.
  Reject field_error = Reject::kNone;
};

// Decodes the frame at the start of [p, p + n). On kNone, *consumed is the
// frame's size and *out is filled. On kNeedMore nothing is consumed. Any
// other result: the stream cannot be trusted past this point.
FrameError decode_request(const std::uint8_t* p, std::size_t n, Request* out, std::size_t* consumed) noexcept;
FrameError decode_report(const std::uint8_t* p, std::size_t n, Report* out, std::size_t* consumed) noexcept;

// Each writes one whole frame at `out` (room for kMaxFrame bytes) and
// returns its size. Field values are written as given (the generator uses
// that to send malformed orders on purpose).
std::size_t encode_new_order(std::uint8_t* out, const Order& o, std::uint64_t sent_ns) noexcept;
std::size_t encode_cancel(std::uint8_t* out, const Order& o, std::uint64_t sent_ns) noexcept;
std::size_t encode_report(std::uint8_t* out, const Report& r) noexcept;

}  // namespace orders::proto
