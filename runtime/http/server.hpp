// http/server.hpp — what the runtime-free server (http/serve.cpp) takes from
// the part that knows the runtime (http/catalog.cpp): the catalog's
// Collectable, the readiness test and the live page. Internal to the two
// libraries.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gmp/metrics_http.hpp"

namespace gmp::metrics::detail {

struct ServerParts {
  std::shared_ptr<prometheus::Collectable> catalog;  // null: no runtime catalog
  std::function<bool()> running;                     // /readyz without set_ready; null: ready
  std::function<std::string(const std::string& title)> page;  // "/" unless opts.page; null: an index
};

std::unique_ptr<Server> start_server(std::string_view addr, std::string* err, ServeOptions opts, ServerParts parts);
std::string render_families(const std::vector<prometheus::MetricFamily>& fams);
std::string html_escape(const std::string& s);

}  // namespace gmp::metrics::detail
