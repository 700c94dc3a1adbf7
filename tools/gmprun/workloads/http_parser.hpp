// workloads/http_parser.hpp — a strict HTTP/1.1 request parser with size
// limits, for the `http` built-in. It never allocates and never reads past
// the buffer it is given; anything it does not understand is an error.
// Empty lines (CRLF) before a request line are skipped, as RFC 9112 2.2
// asks (a client may send one after a POST body); they count towards
// kMaxHeaderBytes and towards *consumed.
#pragma once

#include <cstddef>
#include <string_view>

namespace gmp::tools::http {

inline constexpr std::size_t kMaxHeaderBytes = 8192;  // request line + headers
inline constexpr int kMaxHeaders = 64;
inline constexpr std::size_t kMaxBody = 1 << 20;

enum class ParseStatus {
  kIncomplete,  // need more bytes (and fewer than the limits so far)
  kDone,        // one request parsed; *consumed bytes (head + body) used
  kBad,         // malformed: answer 400 and close
  kTooLarge,    // head over kMaxHeaderBytes or too many headers: 431 and close
  kBodyTooLarge, // Content-Length over kMaxBody: 413 and close
  kUnsupported, // e.g. Transfer-Encoding: 501 and close
};

struct Request {
  std::string_view method;
  std::string_view target;
  int minor = 1;             // HTTP/1.<minor>
  bool keep_alive = true;    // after Connection: and the version default
  std::size_t content_length = 0;
  int headers = 0;
};

ParseStatus parse_request(std::string_view buf, Request* req, std::size_t* consumed) noexcept;

}  // namespace gmp::tools::http
