// http/serve.cpp — the server of gmp/metrics_http.hpp: /metrics, /healthz,
// /readyz and a page at /, on one civetweb server. It knows nothing of the
// runtime (library gmp::metrics_server, which a tool like gmptrace links
// without gmp::runtime); http/catalog.cpp adds the runtime's catalog and
// live page (gmp::metrics::serve, library gmp::metrics_http).
//
// prometheus-cpp 1.0.1's Exposer serves only /metrics (every other path is a
// 404, and it has no way to add handlers), so the server is civetweb's
// CivetServer with our handlers, and /metrics is rendered by prometheus-cpp:
// the runtime catalog's Collectable when serve() gave one, the program's
// own collectables, and a Registry with the server's own counters, through
// prometheus::TextSerializer.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CivetServer.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <sstream>
#include <vector>

#include "gmp/metrics_http.hpp"
#include "server.hpp"

namespace gmp::metrics {

namespace {

}  // namespace

std::string detail::html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

namespace {

using detail::html_escape;

// "/" of a server without a page of its own: where the endpoints are.
std::string index_page(const std::string& title) {
  std::string t = html_escape(title);
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + t + "</title></head><body><h1>" + t +
         "</h1><ul><li><a href=\"/metrics\">/metrics</a> (Prometheus text format)</li>"
         "<li><a href=\"/healthz\">/healthz</a></li><li><a href=\"/readyz\">/readyz</a></li></ul></body></html>\n";
}

std::string render(const std::vector<prometheus::MetricFamily>& fams) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, fams);
  return os.str();
}

void reply(mg_connection* conn, int status, const char* type, const std::string& body) {
  const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : status == 503 ? "Service Unavailable"
                                                                                : "Internal Server Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            status, reason, type, body.size());
  mg_write(conn, body.data(), body.size());
}

}  // namespace

struct Server::Impl : CivetHandler {
  std::string address;
  int port = 0;
  ServeOptions opts;
  detail::ServerParts parts;
  std::shared_ptr<prometheus::Registry> own = std::make_shared<prometheus::Registry>();
  prometheus::Counter* scrapes = nullptr;
  prometheus::Counter* scrape_seconds = nullptr;
  std::mutex mu;
  std::vector<std::weak_ptr<prometheus::Collectable>> extra;  // guarded by mu
  std::atomic<int> ready{-1};  // -1: follow parts.running (always ready without it)
  std::unique_ptr<CivetServer> civet;

  bool handleGet(CivetServer*, mg_connection* conn) override {
    try {
      serve_get(conn);
    } catch (const std::exception& e) {  // a collectable that threw, or out of memory
      reply(conn, 500, "text/plain; charset=utf-8", std::string("error: ") + e.what() + "\n");
    }
    return true;
  }

  void serve_get(mg_connection* conn) {
    const mg_request_info* ri = mg_get_request_info(conn);
    std::string_view uri = ri->local_uri != nullptr ? ri->local_uri : "/";
    if (uri == "/metrics") {
      auto t0 = std::chrono::steady_clock::now();
      std::vector<prometheus::MetricFamily> fams;
      if (parts.catalog) fams = parts.catalog->Collect();
      {
        std::lock_guard g(mu);
        for (auto& w : extra) {
          if (auto c = w.lock()) {
            auto more = c->Collect();
            fams.insert(fams.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
          }
        }
      }
      scrapes->Increment();
      scrape_seconds->Increment(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      auto mine = own->Collect();
      fams.insert(fams.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
      reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", render(fams));
    } else if (uri == "/healthz") {
      reply(conn, 200, "text/plain; charset=utf-8", "ok\n");
    } else if (uri == "/readyz") {
      int r = ready.load(std::memory_order_relaxed);
      bool ok = r < 0 ? (!parts.running || parts.running()) : r == 1;
      reply(conn, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ready\n" : "not ready\n");
    } else if (uri == "/" || uri == "/index.html") {
      std::string page = opts.page ? opts.page() : parts.page ? parts.page(opts.title) : index_page(opts.title);
      reply(conn, 200, "text/html; charset=utf-8", page);
    } else {
      reply(conn, 404, "text/plain; charset=utf-8", "not found: try /metrics, /healthz, /readyz or /\n");
    }
  }
};

struct ServerFactory {
  static std::unique_ptr<Server> make(std::unique_ptr<Server::Impl> impl) {
    return std::unique_ptr<Server>(new Server(std::move(impl)));
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { stop(); }
const std::string& Server::address() const noexcept { return impl_->address; }
int Server::port() const noexcept { return impl_->port; }
void Server::add(std::weak_ptr<prometheus::Collectable> c) {
  std::lock_guard g(impl_->mu);
  impl_->extra.push_back(std::move(c));
}
void Server::set_ready(bool r) noexcept { impl_->ready.store(r ? 1 : 0, std::memory_order_relaxed); }
void Server::stop() noexcept {
  if (impl_ && impl_->civet) {
    impl_->civet->close();  // joins civetweb's threads: no request runs after this
    impl_->civet.reset();
  }
}

Status parse_address(std::string_view in, std::string* host, int* port) {
  std::string s(in);
  std::string h = "127.0.0.1";
  std::string p = s;
  const std::string what = "metrics address '" + s + "'";
  if (s.empty()) return Status::error(what + " is empty (use HOST:PORT or PORT, like 127.0.0.1:9464)");
  if (s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return Status::error(what + " is not [IPV6]:PORT (like [::1]:9464)");
    }
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else if (auto colon = s.rfind(':'); colon != std::string::npos) {
    if (s.find(':') != colon) return Status::error(what + " has several ':' (write an IPv6 host as [::1]:9464)");
    h = colon == 0 ? "127.0.0.1" : s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || std::stoi(p) > 65535) {
    return Status::error(what + ": port '" + p +
                         "' is not a number from 0 to 65535 (use HOST:PORT or PORT, like 127.0.0.1:9464)");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(h.c_str(), nullptr, &hints, &res); rc != 0 || res == nullptr) {
    return Status::error(what + ": host '" + h + "' is not an address or a known name (" + gai_strerror(rc) +
                         "; use an address like 127.0.0.1 or 0.0.0.0)");
  }
  char buf[INET6_ADDRSTRLEN] = {};
  if (res->ai_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  }
  bool v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);
  *host = v6 ? "[" + std::string(buf) + "]" : std::string(buf);
  *port = std::stoi(p);
  return {};
}

namespace {

// Binds once ourselves for a precise reason (civetweb only says "binding
// failed"); the socket is closed before civetweb binds.
std::string try_bind(const std::string& host, int port) {
  bool v6 = host.front() == '[';
  std::string bare = v6 ? host.substr(1, host.size() - 2) : host;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET6, bare.c_str(), &a.sin6_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, bare.c_str(), &a.sin_addr);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  int e = errno;
  ::close(fd);
  if (rc == 0) return "";
  if (e == EADDRINUSE) return "address already in use (pick a free port, or 0 for any)";
  if (e == EACCES) return "permission denied (ports below 1024 need privileges; pick a port >= 1024)";
  if (e == EADDRNOTAVAIL) return "no such address on this machine (use 127.0.0.1, 0.0.0.0 or one of its addresses)";
  return std::strerror(e);
}

}  // namespace

std::unique_ptr<Server> detail::start_server(std::string_view addr, std::string* err, ServeOptions opts,
                                             ServerParts parts) {
  std::string host;
  int port = 0;
  if (Status st = parse_address(addr, &host, &port); !st.ok()) {
    *err = st.message();
    return nullptr;
  }
  const std::string listen = host + ":" + std::to_string(port);
  if (std::string e = try_bind(host, port); !e.empty()) {
    *err = "cannot serve metrics on " + listen + ": " + e;
    return nullptr;
  }
  auto impl = std::make_unique<Server::Impl>();
  impl->opts = std::move(opts);
  impl->parts = std::move(parts);
  impl->scrapes = &prometheus::BuildCounter()
                       .Name("gmp_metrics_scrapes_total")
                       .Help("Scrapes of /metrics this server answered.")
                       .Register(*impl->own)
                       .Add({});
  impl->scrape_seconds = &prometheus::BuildCounter()
                              .Name("gmp_metrics_scrape_seconds_total")
                              .Help("Time spent collecting /metrics (reading the catalog and collectables).")
                              .Register(*impl->own)
                              .Add({});
  // Two worker threads (Prometheus, a browser); no access log, no files.
  std::vector<std::string> options = {"listening_ports", listen, "num_threads", "2", "request_timeout_ms", "10000",
                                      "enable_keep_alive", "no"};
  try {
    impl->civet = std::make_unique<CivetServer>(options);
  } catch (const std::exception& ex) {
    *err = "cannot serve metrics on " + listen + ": " + ex.what();
    return nullptr;
  }
  std::vector<int> ports = impl->civet->getListeningPorts();
  impl->port = ports.empty() ? port : ports[0];
  impl->address = host + ":" + std::to_string(impl->port);
  impl->civet->addHandler("/", *impl);
  return ServerFactory::make(std::move(impl));
}

std::unique_ptr<Server> serve_collectables(std::string_view addr, std::string* err, ServeOptions opts) {
  return detail::start_server(addr, err, std::move(opts), {});
}

std::string detail::render_families(const std::vector<prometheus::MetricFamily>& fams) { return render(fams); }

}  // namespace gmp::metrics
