// http/catalog.cpp — gmp::metrics::serve and expose_catalog
// (gmp/metrics_http.hpp): the runtime's side of the metrics server. The
// catalog (gmp/metrics.hpp) is rendered through prometheus-cpp by a
// Collectable read at every scrape, /readyz follows gmp::running(), and "/"
// is the live page (page.html, embedded at build time). The server itself is
// http/serve.cpp, which needs none of this.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <limits>
#include <span>
#include <string>
#include <vector>

#include "gmp/metrics.hpp"
#include "gmp/metrics_http.hpp"
#include "gmp/runtime.hpp"
#include "server.hpp"

namespace gmp::metrics {

extern const char kLivePage[];  // page.html, embedded at build time

namespace {

// Reads the catalog at each Collect(): the runtime's numbers as metric
// families (histograms cumulative at export_bounds, then +Inf).
class CatalogCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::span<const Metric> ms = list();
    std::vector<std::vector<Sample>> vals = read_all();
    out.reserve(ms.size());
    for (std::size_t i = 0; i < ms.size(); i++) {
      const Metric& m = ms[i];
      prometheus::MetricFamily f;
      f.name = std::string(m.name);
      f.help = std::string(m.help);
      f.type = m.kind == Kind::kCounter ? prometheus::MetricType::Counter
               : m.kind == Kind::kGauge ? prometheus::MetricType::Gauge
                                        : prometheus::MetricType::Histogram;
      for (const Sample& s : vals[i]) {
        prometheus::ClientMetric cm;
        for (std::size_t l = 0; l < m.labels.size() && l < s.label_values.size(); l++) {
          cm.label.push_back({std::string(m.labels[l]), s.label_values[l]});
        }
        if (m.kind == Kind::kCounter) {
          cm.counter.value = s.value;
        } else if (m.kind == Kind::kGauge) {
          cm.gauge.value = s.value;
        } else {
          const std::vector<std::uint64_t>& bounds = export_bounds(m);
          std::vector<std::uint64_t> cum = s.hist.cumulative(bounds);
          for (std::size_t b = 0; b < bounds.size(); b++) {
            cm.histogram.bucket.push_back({cum[b], static_cast<double>(bounds[b]) * m.scale});
          }
          std::uint64_t n = s.hist.count();
          cm.histogram.bucket.push_back({n, std::numeric_limits<double>::infinity()});
          cm.histogram.sample_count = n;
          cm.histogram.sample_sum = static_cast<double>(s.hist.sum) * m.scale;
        }
        f.metric.push_back(std::move(cm));
      }
      out.push_back(std::move(f));
    }
    return out;
  }
};

std::string live_page(const std::string& title) {
  std::string page = kLivePage;
  for (auto at = page.find("{{TITLE}}"); at != std::string::npos; at = page.find("{{TITLE}}", at)) {
    page.replace(at, 9, detail::html_escape(title));
  }
  return page;
}

}  // namespace

std::unique_ptr<Server> serve(std::string_view addr, std::string* err, ServeOptions opts) {
  detail::ServerParts parts;
  if (opts.runtime_catalog) {
    parts.catalog = std::make_shared<CatalogCollectable>();
    parts.running = [] { return gmp::running(); };
    parts.page = live_page;
  }
  return detail::start_server(addr, err, std::move(opts), std::move(parts));
}

std::string expose_catalog() { return detail::render_families(CatalogCollectable().Collect()); }

}  // namespace gmp::metrics
