// The wire protocol: round trips, partial frames, frame errors and
// field errors (docs/ORDERS.md, "Wire protocol").
#include "orders/proto.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace orders::proto {
namespace {

TEST(Proto, NewOrderRoundTripAndLayout) {
  Order o{0x0102030405060708ull, 9, 3, -2, 77, Side::kSell, Kind::kLimit};
  std::uint8_t buf[kMaxFrame];
  ASSERT_EQ(encode_new_order(buf, o, 123456789), 42u);
  EXPECT_EQ(buf[0], 40);  // little-endian length
  EXPECT_EQ(buf[1], 0);
  EXPECT_EQ(buf[2], 1);  // type
  EXPECT_EQ(buf[26], 0x08);  // id's low byte at body offset 24
  Request r;
  std::size_t used = 0;
  ASSERT_EQ(decode_request(buf, 42, &r, &used), FrameError::kNone);
  EXPECT_EQ(used, 42u);
  EXPECT_EQ(r.order.id, o.id);
  EXPECT_EQ(r.order.account, 9u);
  EXPECT_EQ(r.order.symbol, 3u);
  EXPECT_EQ(r.order.price, -2);
  EXPECT_EQ(r.order.qty, 77u);
  EXPECT_EQ(r.order.side, Side::kSell);
  EXPECT_EQ(r.order.kind, Kind::kLimit);
  EXPECT_EQ(r.sent_ns, 123456789u);
  EXPECT_EQ(r.field_error, Reject::kNone);
}

TEST(Proto, CancelAndReportRoundTrip) {
  std::uint8_t buf[kMaxFrame];
  Order c{55, 4, 6, 0, 0, Side::kBuy, Kind::kCancel};
  ASSERT_EQ(encode_cancel(buf, c, 9), 34u);
  Request r;
  std::size_t used = 0;
  ASSERT_EQ(decode_request(buf, 34, &r, &used), FrameError::kNone);
  EXPECT_EQ(r.order.kind, Kind::kCancel);
  EXPECT_EQ(r.order.id, 55u);
  EXPECT_EQ(r.order.symbol, 6u);
  Report rep{Status::kResting, Reject::kNone, 3, 4, 2, 55, 9, 1500};
  ASSERT_EQ(encode_report(buf, rep), 42u);
  Report back;
  ASSERT_EQ(decode_report(buf, 42, &back, &used), FrameError::kNone);
  EXPECT_EQ(back.status, Status::kResting);
  EXPECT_EQ(back.filled, 3u);
  EXPECT_EQ(back.leaves, 4u);
  EXPECT_EQ(back.fills, 2u);
  EXPECT_EQ(back.id, 55u);
  EXPECT_EQ(back.sent_ns, 9u);
  EXPECT_EQ(back.server_ns, 1500u);
}

TEST(Proto, PartialFrameNeedsMoreAtEveryLength) {
  std::uint8_t buf[kMaxFrame];
  std::size_t n = encode_new_order(buf, Order{1, 0, 0, 5, 1, Side::kBuy, Kind::kLimit}, 0);
  for (std::size_t k = 0; k < n; k++) {
    Request r;
    std::size_t used = 99;
    EXPECT_EQ(decode_request(buf, k, &r, &used), FrameError::kNeedMore) << k;
    EXPECT_EQ(used, 99u);
  }
}

TEST(Proto, FrameErrors) {
  std::uint8_t buf[kMaxFrame];
  Request r;
  Report rep;
  std::size_t used = 0;
  encode_new_order(buf, Order{1, 0, 0, 5, 1, Side::kBuy, Kind::kLimit}, 0);
  buf[0] = 39;  // wrong length for a new order
  EXPECT_EQ(decode_request(buf, 42, &r, &used), FrameError::kBadLength);
  buf[0] = 40;
  buf[2] = 9;  // unknown type
  EXPECT_EQ(decode_request(buf, 42, &r, &used), FrameError::kUnknownType);
  encode_report(buf, Report{});
  EXPECT_EQ(decode_request(buf, 42, &r, &used), FrameError::kUnexpectedType);
  encode_cancel(buf, Order{1, 0, 0, 0, 0, Side::kBuy, Kind::kCancel}, 0);
  EXPECT_EQ(decode_report(buf, 34, &rep, &used), FrameError::kUnexpectedType);
  // A huge length is an error at once, not a wait for 65535 bytes.
  std::uint8_t big[3] = {0xff, 0xff, 1};
  EXPECT_EQ(decode_request(big, 3, &r, &used), FrameError::kBadLength);
}

TEST(Proto, FieldErrorsAreForValidationNotFraming) {
  std::uint8_t buf[kMaxFrame];
  Request r;
  std::size_t used = 0;
  encode_new_order(buf, Order{1, 0, 0, 5, 1, Side::kBuy, Kind::kLimit}, 0);
  buf[5] = 1;  // reserved byte (body offset 3)
  ASSERT_EQ(decode_request(buf, 42, &r, &used), FrameError::kNone);
  EXPECT_EQ(r.field_error, Reject::kBadField);
  encode_new_order(buf, Order{1, 0, 0, 5, 1, Side::kBuy, Kind::kLimit}, 0);
  buf[4] = 3;  // kind "cancel" inside a new-order frame
  ASSERT_EQ(decode_request(buf, 42, &r, &used), FrameError::kNone);
  EXPECT_NE(r.order.kind, Kind::kCancel);
  EXPECT_NE(r.order.kind, Kind::kLimit);
}

TEST(Proto, StreamOfFramesDecodesInOrder) {
  std::vector<std::uint8_t> s(3 * kMaxFrame);
  std::size_t n = 0;
  n += encode_new_order(s.data() + n, Order{1, 0, 0, 5, 1, Side::kBuy, Kind::kLimit}, 10);
  n += encode_cancel(s.data() + n, Order{1, 0, 0, 0, 0, Side::kBuy, Kind::kCancel}, 11);
  n += encode_new_order(s.data() + n, Order{2, 0, 0, 0, 3, Side::kSell, Kind::kMarket}, 12);
  std::size_t off = 0;
  std::vector<std::uint64_t> sent;
  while (off < n) {
    Request r;
    std::size_t used = 0;
    ASSERT_EQ(decode_request(s.data() + off, n - off, &r, &used), FrameError::kNone);
    sent.push_back(r.sent_ns);
    off += used;
  }
  EXPECT_EQ(sent, (std::vector<std::uint64_t>{10, 11, 12}));
}

}  // namespace
}  // namespace orders::proto
