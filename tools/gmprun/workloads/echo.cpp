// workloads/echo.cpp — TCP echo server: every byte read is written back.
#include "tcp_server.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;
namespace tcp = gmp::tools::tcp;

constexpr std::int64_t kPort = 7007;

std::string help() {
  tcp::Options o(kPort);
  Cli c("echo");
  tcp::declare(c, o);
  return c.help();
}

void serve(gmp::net::Stream& s, tcp::Counters& n) {
  char buf[16384];
  for (;;) {
    auto r = s.read(buf, sizeof buf);
    if (!r) {
      if (r.err() != ECONNRESET) n.errors++;
      return;
    }
    if (r.value() == 0) return;
    n.bytes_in += r.value();
    n.requests++;
    if (!s.write(buf, r.value())) {
      n.errors++;
      return;
    }
    n.bytes_out += r.value();
  }
}

int echo_main(int argc, char** argv, gmp::tools::Summary& out) {
  tcp::Options o(kPort);
  Cli c("echo");
  tcp::declare(c, o);
  std::string err = gmp::tools::parse_workload_options(c, argc, argv);
  if (err.empty()) err = tcp::check(c, o);
  if (!err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  tcp::Counters n;
  return tcp::run_server("echo", o, n, out, serve);
}

const gmp::tools::WorkloadRegistration reg{{"echo", "TCP echo server (until SIGINT/SIGTERM or --duration)", help, echo_main}};

}  // namespace
