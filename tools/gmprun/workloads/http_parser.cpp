// workloads/http_parser.cpp — see http_parser.hpp. Grammar (RFC 9112):
//   request-line = method SP request-target SP HTTP-version CRLF
//   field-line   = field-name ":" OWS field-value OWS CRLF
// Bare LF, obs-fold, whitespace before ':', control bytes in values, a
// missing Host on HTTP/1.1, duplicate or invalid Content-Length: 400.
#include "http_parser.hpp"

#include <cstring>

namespace gmp::tools::http {

namespace {

bool is_tchar(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); i++) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

bool contains_token(std::string_view v, std::string_view tok) noexcept {
  std::size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    std::size_t j = i;
    while (j < v.size() && v[j] != ',') j++;
    std::size_t k = j;
    while (k > i && (v[k - 1] == ' ' || v[k - 1] == '\t')) k--;
    if (iequals(v.substr(i, k - i), tok)) return true;
    i = j;
  }
  return false;
}

}  // namespace

ParseStatus parse_request(std::string_view buf, Request* req, std::size_t* consumed) noexcept {
  *req = Request{};
  // Leading empty lines are ignored (RFC 9112 2.2), within the head limit.
  std::size_t skip = 0;
  while (skip + 1 < buf.size() && buf[skip] == '\r' && buf[skip + 1] == '\n') skip += 2;
  if (skip >= kMaxHeaderBytes) return ParseStatus::kTooLarge;
  const std::size_t whole = buf.size();
  buf = buf.substr(skip);
  // Find the end of the head within the limit.
  std::size_t limit = buf.size() < kMaxHeaderBytes - skip ? buf.size() : kMaxHeaderBytes - skip;
  std::size_t end = std::string_view(buf.data(), limit).find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // A bare LF anywhere is malformed: reject early instead of waiting.
    for (std::size_t i = 0; i < limit; i++) {
      if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) return ParseStatus::kBad;
    }
    return whole >= kMaxHeaderBytes ? ParseStatus::kTooLarge : ParseStatus::kIncomplete;
  }
  std::string_view head = buf.substr(0, end + 2);  // keeps the last field's CRLF
  std::size_t p = 0;
  // Method.
  while (p < head.size() && is_tchar(static_cast<unsigned char>(head[p]))) p++;
  if (p == 0 || p >= head.size() || head[p] != ' ') return ParseStatus::kBad;
  req->method = head.substr(0, p);
  std::size_t t0 = ++p;
  // Target: visible ASCII, no spaces.
  while (p < head.size() && static_cast<unsigned char>(head[p]) > 0x20 && head[p] != 0x7f) p++;
  if (p == t0 || p >= head.size() || head[p] != ' ') return ParseStatus::kBad;
  req->target = head.substr(t0, p - t0);
  if (req->target[0] != '/' && !(req->target == "*" && req->method == "OPTIONS")) return ParseStatus::kBad;
  p++;
  if (head.substr(p, 7) != "HTTP/1." || p + 10 > head.size()) return ParseStatus::kBad;
  char minor = head[p + 7];
  if ((minor != '0' && minor != '1') || head[p + 8] != '\r' || head[p + 9] != '\n') return ParseStatus::kBad;
  req->minor = minor - '0';
  req->keep_alive = req->minor == 1;
  p += 10;
  bool have_host = false, have_cl = false;
  while (p < head.size()) {
    std::size_t eol = head.find("\r\n", p);
    if (eol == std::string_view::npos) return ParseStatus::kBad;
    std::string_view line = head.substr(p, eol - p);
    p = eol + 2;
    if (++req->headers > kMaxHeaders) return ParseStatus::kTooLarge;
    std::size_t c = 0;
    while (c < line.size() && is_tchar(static_cast<unsigned char>(line[c]))) c++;
    if (c == 0 || c >= line.size() || line[c] != ':') return ParseStatus::kBad;  // also obs-fold, "name :"
    std::string_view name = line.substr(0, c);
    std::size_t v0 = c + 1, v1 = line.size();
    while (v0 < v1 && (line[v0] == ' ' || line[v0] == '\t')) v0++;
    while (v1 > v0 && (line[v1 - 1] == ' ' || line[v1 - 1] == '\t')) v1--;
    std::string_view value = line.substr(v0, v1 - v0);
    for (char ch : value) {
      auto u = static_cast<unsigned char>(ch);
      if ((u < 0x20 && u != '\t') || u == 0x7f) return ParseStatus::kBad;
    }
    if (iequals(name, "host")) {
      if (have_host) return ParseStatus::kBad;
      have_host = true;
    } else if (iequals(name, "content-length")) {
      if (have_cl || value.empty()) return ParseStatus::kBad;
      for (char ch : value) {
        if (ch < '0' || ch > '9') return ParseStatus::kBad;
      }
      // Digits only: more than 9 of them is over kMaxBody (and would
      // overflow the sum below with enough of them).
      if (value.size() > 9) return ParseStatus::kBodyTooLarge;
      std::size_t n = 0;
      for (char ch : value) n = n * 10 + static_cast<std::size_t>(ch - '0');
      if (n > kMaxBody) return ParseStatus::kBodyTooLarge;
      have_cl = true;
      req->content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      return ParseStatus::kUnsupported;
    } else if (iequals(name, "connection")) {
      if (contains_token(value, "close")) req->keep_alive = false;
      else if (contains_token(value, "keep-alive")) req->keep_alive = true;
    }
  }
  if (req->minor == 1 && !have_host) return ParseStatus::kBad;
  std::size_t total = end + 4 + req->content_length;
  if (buf.size() < total) return ParseStatus::kIncomplete;
  *consumed = skip + total;
  return ParseStatus::kDone;
}

}  // namespace gmp::tools::http
