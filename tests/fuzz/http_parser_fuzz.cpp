// libFuzzer target: the http built-in's request parser
// (tools/gmprun/workloads/http_parser.cpp). Checks beyond "no crash, no
// out-of-bounds read" (ASan, UBSan): a parsed request consumes no more than
// the input, its views lie inside it, and parsing is a pure function of the
// bytes (the same input parsed again gives the same answer).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../../tools/gmprun/workloads/http_parser.hpp"

namespace http = gmp::tools::http;

namespace {
bool inside(std::string_view v, const std::string& buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string buf(reinterpret_cast<const char*>(data), size);  // exactly sized: ASan sees any overread
  http::Request req;
  std::size_t used = 0;
  http::ParseStatus st = http::parse_request(buf, &req, &used);
  if (st == http::ParseStatus::kDone) {
    if (used == 0 || used > buf.size()) std::abort();
    if (!inside(req.method, buf) || !inside(req.target, buf)) std::abort();
    if (req.content_length > http::kMaxBody) std::abort();
  }
  http::Request again;
  std::size_t used2 = 0;
  if (http::parse_request(buf, &again, &used2) != st || (st == http::ParseStatus::kDone && used2 != used)) std::abort();
  return 0;
}
