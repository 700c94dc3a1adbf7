// workloads/http_serve.hpp — the http built-in's connection handler, shared
// with the soak built-in (soak.cpp), which serves the same responses.
#pragma once

#include <cstdint>

#include "tcp_server.hpp"

namespace gmp::tools::http {

struct Limits {
  std::int64_t header_ns = 10'000'000'000;  // --header-timeout
  std::int64_t idle_ns = 60'000'000'000;    // --idle-timeout
};

// Serves one connection until the client closes it, a deadline passes or a
// malformed request is answered (http.cpp).
void serve(gmp::net::Stream& s, tcp::Counters& n, const Limits& lim);

}  // namespace gmp::tools::http
