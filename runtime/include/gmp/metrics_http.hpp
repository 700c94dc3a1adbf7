// gmp/metrics_http.hpp — serving metrics over HTTP. Two libraries, so that
// the runtime itself never links prometheus-cpp or civetweb:
//   gmp::metrics_http    serve() and expose_catalog(): the runtime catalog,
//                        its readiness and its live page (needs gmp::runtime)
//   gmp::metrics_server  serve_collectables(): the same server for a program
//                        that does not run the runtime (gmptrace); what it
//                        serves is only what it adds
//
// One small server for every gmprt program and tool:
//   /metrics  Prometheus text format (0.0.4): the runtime catalog
//             (gmp/metrics.hpp, rendered through prometheus-cpp) plus any
//             prometheus::Collectable the program adds, collected at scrape
//             time, plus the server's own gmp_metrics_scrapes_total
//   /healthz  200 "ok" while the server runs
//   /readyz   200 "ready" while the program says it is ready (set_ready;
//             default: while the gmprt runtime runs), else 503
//   /         the live page: one self-contained HTML file (no external
//             assets) that polls /metrics and charts the last minutes
//             (ServeOptions::page replaces it; serve_collectables without
//             a page serves an index of the endpoints)
//
//   std::string err;
//   auto srv = gmp::metrics::serve("127.0.0.1:9464", &err);  // or ":0", "9464"
//   if (!srv) { fprintf(stderr, "%s\n", err.c_str()); return 2; }
//   srv->add(my_collectable);  // a tool's own families (weak_ptr: keep it alive)
//   ...
//   srv->stop();               // REQUIRES: before gmp::stop()
//
// Scrapes run on the server's threads and read the catalog (relaxed atomics,
// no scheduler lock, no stop-the-world), so a scrape never delays a goroutine.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gmp/status.hpp"

namespace prometheus {
class Collectable;
}

namespace gmp::metrics {

// Parses HOST:PORT, [V6]:PORT or a bare PORT (host 127.0.0.1). HOST may be
// an address or a name (resolved once). Ok, or what is wrong.
Status parse_address(std::string_view in, std::string* host, int* port);

struct ServeOptions {
  bool runtime_catalog = true;  // serve gmp/metrics.hpp's catalog
  std::string title = "gmprt";  // the page's title (e.g. the workload's name)
  // The HTML served at "/", built at each request on a server thread; null:
  // the live page (serve with the runtime catalog), else an index.
  std::function<std::string()> page = {};
};

class Server {
 public:
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The address it listens on, with the actual port ("127.0.0.1:41234").
  const std::string& address() const noexcept;
  int port() const noexcept;
  // Adds a collectable whose families join /metrics at every scrape. The
  // caller keeps it alive; an expired one is skipped.
  void add(std::weak_ptr<prometheus::Collectable> c);
  // /readyz answers 200 while ready. Unset: ready while the runtime runs
  // (always, for a server without the runtime catalog).
  void set_ready(bool ready) noexcept;
  // Stops serving and waits for requests in progress. Idempotent.
  void stop() noexcept;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  friend struct ServerFactory;
  std::unique_ptr<Impl> impl_;
};

// Starts serving on addr (parse_address). Returns the server, or null with
// *err set to one line naming the address and what went wrong (bad address,
// address in use, not permitted).
std::unique_ptr<Server> serve(std::string_view addr, std::string* err, ServeOptions opts = {});

// The same server without the runtime (library gmp::metrics_server): /metrics
// serves the collectables added and the server's own counters;
// opts.runtime_catalog is ignored; /readyz answers 200 unless set_ready(false).
std::unique_ptr<Server> serve_collectables(std::string_view addr, std::string* err, ServeOptions opts = {});

// The Prometheus text exposition of the runtime catalog (what /metrics
// serves without a server's own families), for tools and tests.
std::string expose_catalog();

}  // namespace gmp::metrics
