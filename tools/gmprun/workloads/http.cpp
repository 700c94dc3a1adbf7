// workloads/http.cpp — HTTP/1.1 server after TechEmpower's plaintext and json
// tests: keep-alive, pipelining (every complete request in a read is
// answered in one write), GET / or /plaintext -> "Hello, World!",
// GET /json -> {"message":"Hello, World!"}, else 404; HEAD gets the same
// headers without the body (RFC 9110 9.3.2). A malformed request gets 400,
// an oversized head 431, a Content-Length over 1 MiB 413, Transfer-Encoding
// 501; then the connection closes. Parsing: http_parser.hpp.
//
// Limits, so that slow or idle clients cannot hold the server: a request's
// head must arrive within --header-timeout of its first byte, a keep-alive
// connection may sit idle between requests for --idle-timeout, and at most
// --max-connections are served at once (tcp_server.hpp). A connection past
// a deadline is closed and counted in `timeouts`.
#include <ctime>
#include <string>

#include "http_serve.hpp"
#include "http_parser.hpp"
#include "tcp_server.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;
namespace tcp = gmp::tools::tcp;
namespace http = gmp::tools::http;
using http::Limits;

struct Options {
  tcp::Options server{8080};
  Limits lim;
};

void declare(Cli& c, Options& o) {
  tcp::declare(c, o.server);
  c.duration("--header-timeout", o.lim.header_ns,
             "close a connection whose request head is not complete this long after its first byte");
  c.duration("--idle-timeout", o.lim.idle_ns, "close a keep-alive connection idle this long between requests");
}

std::string help() { return gmp::tools::workload_help<Options>("http", declare); }

// "Date: ..." refreshed at most once a second (per thread: no lock).
const std::string& date_header() {
  thread_local std::time_t last = 0;
  thread_local std::string hdr;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    last = now;
    char buf[64];
    std::tm tm;
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    hdr = buf;
  }
  return hdr;
}

// head_only: a HEAD response, same headers (Content-Length included), no body.
void respond(std::string& out, int code, const char* reason, std::string_view type, std::string_view body,
             bool keep_alive, bool head_only = false) {
  out += "HTTP/1.1 ";
  out += std::to_string(code);
  out += ' ';
  out += reason;
  out += "\r\nServer: gmprun\r\n";
  out += date_header();
  out += "Content-Type: ";
  out += type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  if (!head_only) out += body;
}

}  // namespace

void gmp::tools::http::serve(gmp::net::Stream& s, tcp::Counters& n, const Limits& lim) {
  std::string in;
  std::string out;
  in.reserve(16384);
  out.reserve(16384);
  char buf[16384];
  // The head deadline runs from the first byte of a request, so a client
  // sending a byte at a time cannot extend it (slowloris).
  bool in_request = false;
  for (;;) {
    if (in.empty()) {
      in_request = false;
      s.set_read_deadline(gmp::io::after(std::chrono::nanoseconds(lim.idle_ns)));
    } else if (!in_request) {
      in_request = true;
      s.set_read_deadline(gmp::io::after(std::chrono::nanoseconds(lim.header_ns)));
    }
    auto r = s.read(buf, sizeof buf);
    if (!r) {
      if (r.err() == ETIMEDOUT) n.timeouts++;
      else if (r.err() != ECONNRESET) n.errors++;
      return;
    }
    if (r.value() == 0) return;
    n.bytes_in += r.value();
    in.append(buf, r.value());
    std::size_t off = 0;
    bool close_after = false;
    for (;;) {
      http::Request req;
      std::size_t used = 0;
      auto st = http::parse_request(std::string_view(in).substr(off), &req, &used);
      if (st == http::ParseStatus::kIncomplete) break;
      if (st != http::ParseStatus::kDone) {
        n.errors++;
        if (st == http::ParseStatus::kTooLarge) {
          respond(out, 431, "Request Header Fields Too Large", "text/plain", "request too large\n", false);
        } else if (st == http::ParseStatus::kBodyTooLarge) {
          respond(out, 413, "Content Too Large", "text/plain", "content too large\n", false);
        } else if (st == http::ParseStatus::kUnsupported) {
          respond(out, 501, "Not Implemented", "text/plain", "not implemented\n", false);
        } else {
          respond(out, 400, "Bad Request", "text/plain", "bad request\n", false);
        }
        close_after = true;
        break;
      }
      off += used;
      in_request = false;  // the next request's head gets its own deadline
      n.requests++;
      bool ka = req.keep_alive;
      bool head = req.method == "HEAD";
      std::string_view path = req.target.substr(0, req.target.find('?'));
      if (req.method != "GET" && req.method != "HEAD") {
        respond(out, 405, "Method Not Allowed", "text/plain", "method not allowed\n", ka);
      } else if (path == "/" || path == "/plaintext") {
        respond(out, 200, "OK", "text/plain", "Hello, World!", ka, head);
      } else if (path == "/json") {
        // Serialised per request, as TechEmpower's json test asks.
        std::string body = "{\"message\":\"";
        body += "Hello, World!";
        body += "\"}";
        respond(out, 200, "OK", "application/json", body, ka, head);
      } else {
        respond(out, 404, "Not Found", "text/plain", "not found\n", ka, head);
      }
      if (!ka) {
        close_after = true;
        break;
      }
    }
    in.erase(0, off);
    if (off > 0 && !in.empty()) {
      // A pipelined request already started: its head deadline runs now.
      in_request = true;
      s.set_read_deadline(gmp::io::after(std::chrono::nanoseconds(lim.header_ns)));
    }
    if (!out.empty()) {
      if (!s.write(out.data(), out.size())) {
        n.errors++;
        return;
      }
      n.bytes_out += out.size();
      out.clear();
    }
    if (close_after) {
      (void)s.shutdown(SHUT_WR);
      return;
    }
  }
}

namespace {

int http_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  Cli c("http");
  declare(c, o);
  std::string err = gmp::tools::parse_workload_options(c, argc, argv);
  if (err.empty() && (o.lim.header_ns <= 0 || o.lim.idle_ns <= 0)) {
    const std::string opt = o.lim.header_ns <= 0 ? "--header-timeout" : "--idle-timeout";
    err = c.fail(opt + " '" + c.value(opt) + "' must be more than 0, like 10s");
  }
  if (err.empty()) err = tcp::check(c, o.server);
  if (!err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  tcp::Counters n;
  const Limits lim = o.lim;
  return tcp::run_server("http", o.server, n, out,
                         [lim](gmp::net::Stream& s, tcp::Counters& cn) { http::serve(s, cn, lim); });
}

const gmp::tools::WorkloadRegistration reg{
    {"http", "HTTP/1.1 hello-world server, TechEmpower style (until SIGINT/SIGTERM or --duration)", help, http_main}};

}  // namespace
