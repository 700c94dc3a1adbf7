// workloads/tcp_server.hpp — what the `http` and `echo` built-ins share:
// options, the listener, stopping on SIGINT/SIGTERM or --duration, the
// connection limit (--max-connections), and the counters of the summary line.
//
// Stopping: gmprun's Ms block every signal, so the signal lands on gmprun's
// main thread; a handler installed here writes to a pipe, and a goroutine
// reading that pipe (through the ring) cancels the accept loop. Connections
// still open at that moment are dropped when the runtime stops.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/cli.hpp"
#include "common/summary.hpp"
#include "gmp/gmp.hpp"

namespace gmp::tools::tcp {

struct Counters {
  std::atomic<std::uint64_t> connections{0}, requests{0}, bytes_in{0}, bytes_out{0}, errors{0};
  std::atomic<std::uint64_t> rejected{0};  // accepted over --max-connections and closed at once
  std::atomic<std::uint64_t> timeouts{0};  // closed by the server's own deadlines (http)
  std::atomic<std::uint64_t> accept_fd_limit{0};  // accepts refused by EMFILE/ENFILE (retried after 10 ms)
  std::atomic<std::int64_t> open{0};       // connections being served now
};

// The options every server takes; `port` is the built-in's default.
struct Options {
  explicit Options(std::int64_t default_port) : port(default_port) {}
  std::string addr = "127.0.0.1";
  std::int64_t port;
  std::int64_t duration_ns = 0;  // 0: until SIGINT/SIGTERM
  bool reuseport = false;
  std::int64_t max_connections = 10000;
};

inline void declare(Cli& c, Options& o) {
  c.text("--addr", o.addr, "HOST", "address to listen on (IPv4 or IPv6)");
  c.integer("--port", o.port, 0, 65535, "N", "TCP port (0: any free port, printed)");
  c.duration("--duration", o.duration_ns, "stop after this long").default_str("until SIGINT/SIGTERM");
  c.flag("--reuseport", o.reuseport, "set SO_REUSEPORT on the listener");
  c.integer("--max-connections", o.max_connections, 1, 1'000'000, "N",
            "connections served at once; more are accepted and closed at once (counted as rejected)");
}

// The checks after parsing: "" or the one-line error.
inline std::string check(Cli& c, const Options& o) {
  if (c.given("--duration") && o.duration_ns <= 0) {
    return c.fail("--duration '" + c.value("--duration") +
                  "' must be more than 0, like 10s (leave it out to run until SIGINT/SIGTERM)");
  }
  return "";
}

inline int stop_pipe[2] = {-1, -1};
inline void on_stop_signal(int) {
  char c = 1;
  ssize_t w = ::write(stop_pipe[1], &c, 1);
  (void)w;
}

// Runs `serve(stream)` on its own goroutine per accepted connection until a
// signal or the duration. Returns 0, or 2 after printing a usage error.
template <class Serve>
int run_server(const char* name, const Options& o, Counters& n, Summary& out, Serve serve) {
  const std::string& host = o.addr;
  const std::int64_t port = o.port, dur_ns = o.duration_ns, max_conns = o.max_connections;
  auto addr = gmp::net::Addr::parse(host, static_cast<std::uint16_t>(port));
  if (!addr) {
    std::fprintf(stderr, "%s: --addr '%s' is not an IPv4 or IPv6 address (like 127.0.0.1 or ::1)\n", name,
                 one_line(host).c_str());
    return 2;
  }
  gmp::net::ListenOptions lo;
  lo.reuseport = o.reuseport;
  auto l = gmp::net::Listener::listen(*addr, lo);
  if (!l) {
    std::fprintf(stderr, "%s: cannot listen on %s: %s\n", name, addr->to_string().c_str(), l.error().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "%s: listening on %s (io: %s)\n", name, l->addr()->to_string().c_str(),
               gmp::io::backend_description().c_str());
  gmp::io::CancelToken stop;
  gmp::io::CancelToken sleep_cancel;
  gmp::WaitGroup helpers;
  if (pipe2(stop_pipe, O_CLOEXEC) == 0) {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    helpers.add(1);
    gmp::go([&stop, &helpers] {
      char c;
      (void)gmp::io::read(stop_pipe[0], &c, 1);  // a signal, the duration, or the write at the end
      stop.cancel();
      helpers.done();
    });
  }
  // Goroutines still blocked at the end must return before the runtime
  // stops (with the blocking backend their Ms sit in system calls): the
  // duration sleep is cancelled, the pipe reader gets a byte.
  if (dur_ns > 0) {
    helpers.add(1);
    gmp::go([dur_ns, &sleep_cancel, &helpers] {
      auto r = gmp::io::sleep_until(gmp::io::after(std::chrono::nanoseconds(dur_ns)), &sleep_cancel);
      if (r.ok()) on_stop_signal(0);  // same path as a signal
      helpers.done();
    });
  }
  auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    auto s = l->accept(&stop);
    if (!s) {
      if (s.err() == ECANCELED) break;
      n.errors++;
      if (s.err() == EMFILE || s.err() == ENFILE) {
        // Out of fds: the connection waits in the backlog until one closes.
        // Said once, counted always.
        if (n.accept_fd_limit++ == 0)
          std::fprintf(stderr, "%s: accept: %s; connections wait in the backlog, retrying every 10 ms\n", name,
                       std::strerror(s.err()));
        (void)gmp::io::sleep_until(gmp::io::after(std::chrono::milliseconds(10)));
      }
      continue;
    }
    n.connections++;
    // The limit bounds fds and goroutines a flood of idle clients can hold;
    // closing (not leaving them in the backlog) tells the client at once.
    if (n.open.load(std::memory_order_relaxed) >= max_conns) {
      n.rejected++;
      (void)s->close();
      continue;
    }
    n.open++;
    (void)s->set_nodelay(true);
    gmp::go([&n, serve](gmp::net::Stream st) {
      serve(st, n);
      n.open--;
    }, std::move(s.value()));
  }
  (void)l->close();
  sleep_cancel.cancel();
  on_stop_signal(0);
  helpers.wait();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.set("connections", n.connections.load());
  out.set("requests", n.requests.load());
  out.set("bytes_in", n.bytes_in.load());
  out.set("bytes_out", n.bytes_out.load());
  out.set("errors", n.errors.load());
  out.set("rejected", n.rejected.load());
  out.set("timeouts", n.timeouts.load());
  out.set("accept_fd_limit", n.accept_fd_limit.load());
  out.set("requests_per_s", secs > 0 ? static_cast<double>(n.requests.load()) / secs : 0.0);
  gmp::io::IoStats st = gmp::io::io_stats();
  out.set("io_submitted", st.submitted);
  out.set("io_enters", st.enters);
  out.set("io_ring_waits", st.ring_waits);
  return 0;
}

}  // namespace gmp::tools::tcp
