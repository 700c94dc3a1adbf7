// libFuzzer target for the orders wire decoder (orders/proto.hpp): any byte
// stream is decoded frame by frame, as the server's session reader and the
// client's report reader do, and must never read out of bounds, loop, or
// crash. What decodes must re-encode to the same bytes' meaning.
// Built and run for a bounded time by scripts/fuzz-orders.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "orders/proto.hpp"

using namespace orders::proto;

namespace {

void require(bool c) {
  if (!c) std::abort();
}

void requests(const std::uint8_t* data, std::size_t size) {
  std::size_t off = 0;
  while (off < size) {
    Request r;
    std::size_t used = 0;
    FrameError e = decode_request(data + off, size - off, &r, &used);
    if (e != FrameError::kNone) return;  // need more, or the stream is closed
    require(used >= kHeader + 1 && used <= kMaxFrame && used <= size - off);
    // Re-encode and decode again: the same order comes back.
    std::uint8_t again[kMaxFrame];
    std::size_t n = r.order.kind == orders::Kind::kCancel ? encode_cancel(again, r.order, r.sent_ns)
                                                         : encode_new_order(again, r.order, r.sent_ns);
    Request r2;
    std::size_t used2 = 0;
    require(decode_request(again, n, &r2, &used2) == FrameError::kNone && used2 == n);
    require(r2.order.id == r.order.id && r2.order.account == r.order.account && r2.order.symbol == r.order.symbol &&
            r2.sent_ns == r.sent_ns);
    if (r.order.kind != orders::Kind::kCancel) require(r2.order.qty == r.order.qty && r2.order.price == r.order.price);
    off += used;
  }
}

void reports(const std::uint8_t* data, std::size_t size) {
  std::size_t off = 0;
  while (off < size) {
    Report r;
    std::size_t used = 0;
    if (decode_report(data + off, size - off, &r, &used) != FrameError::kNone) return;
    require(used == kHeader + kReportBody && used <= size - off);
    off += used;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exact-size copies so ASan catches any read past the end.
  std::vector<std::uint8_t> buf(data, data + size);
  requests(buf.data(), buf.size());
  reports(buf.data(), buf.size());
  return 0;
}
