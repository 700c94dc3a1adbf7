// The metrics server (gmp/metrics_http.hpp): the exposition is valid
// Prometheus text (cumulative buckets ending in +Inf that equals _count, one
// HELP/TYPE per family), every endpoint answers, a tool's own collectable
// joins /metrics, and bad or busy addresses are one clear error.
#include "gmp/metrics_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cerrno>
#include <map>
#include <sstream>
#include <string>

#include "gmp/gmp.hpp"
#include "gmp/metrics.hpp"

namespace {

// One HTTP/1.1 GET on 127.0.0.1:port; returns the status line's code and the body.
std::pair<int, std::string> get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rc;
  while ((rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a)) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    close(fd);
    return {-1, ""};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[8192];
  for (;;) {  // the runtime's signals may interrupt the read
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  int code = -1;
  if (resp.rfind("HTTP/1.", 0) == 0) code = std::stoi(resp.substr(9, 3));
  auto body = resp.find("\r\n\r\n");
  return {code, body == std::string::npos ? "" : resp.substr(body + 4)};
}

// Checks the text format's histogram rules on every histogram family.
void check_exposition(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::map<std::string, int> helps, types;
  std::map<std::string, double> last_bucket, inf_bucket, count;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) helps[line.substr(7, line.find(' ', 7) - 7)]++;
    if (line.rfind("# TYPE ", 0) == 0) types[line.substr(7, line.find(' ', 7) - 7)]++;
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    std::string series = line.substr(0, sp);
    double v = std::stod(line.substr(sp + 1));
    auto brace = series.find('{');
    std::string name = series.substr(0, brace);
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "_bucket") == 0) {
      // The series without its le label identifies one histogram.
      std::string id = series;
      auto le = id.find("le=\"");
      std::string le_val = id.substr(le + 4, id.find('"', le + 4) - le - 4);
      id.erase(le, id.find('"', le + 4) - le + 1);
      if (last_bucket.count(id)) EXPECT_LE(last_bucket[id], v) << "buckets not cumulative: " << line;
      last_bucket[id] = v;
      if (le_val == "+Inf") inf_bucket[id] = v;
    } else if (name.size() > 6 && name.compare(name.size() - 6, 6, "_count") == 0) {
      count[series] = v;
    }
  }
  for (auto& [n, c] : helps) EXPECT_EQ(c, 1) << n;
  for (auto& [n, c] : types) EXPECT_EQ(c, 1) << n;
  EXPECT_FALSE(inf_bucket.empty());
  for (auto& [id, v] : last_bucket) {
    ASSERT_TRUE(inf_bucket.count(id)) << "no +Inf bucket: " << id;
    // id is `name_bucket{labels,}`; _count has the same labels.
    std::string cid = id;
    cid.replace(cid.find("_bucket"), 7, "_count");
    if (auto c = cid.find(",}"); c != std::string::npos) cid.erase(c, 1);
    if (auto e = cid.find("{}"); e != std::string::npos) cid.erase(e, 2);
    ASSERT_TRUE(count.count(cid)) << cid;
    EXPECT_EQ(inf_bucket[id], count[cid]) << id;
  }
}

class ToolFamilies : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f;
    f.name = "gmptool_things_total";
    f.help = "Things a tool counted.";
    f.type = prometheus::MetricType::Counter;
    prometheus::ClientMetric m;
    m.counter.value = 42;
    f.metric.push_back(m);
    return {f};
  }
};

struct Runtime {
  Runtime() {
    gmp::Config cfg;
    cfg.procs = 2;
    cfg.pin = false;
    EXPECT_EQ(gmp::start(cfg).message(), "");
  }
  ~Runtime() { gmp::stop(); }
};

TEST(Serve, EndpointsAndExposition) {
  Runtime rt;
  {
    gmp::stw::StopGuard g(gmp::stw::Reason::kUser);  // a pause in the histograms
  }
  std::string err;
  auto srv = gmp::metrics::serve("0", &err, {.runtime_catalog = true, .title = "unit <test>"});
  ASSERT_TRUE(srv) << err;
  EXPECT_GT(srv->port(), 0);
  EXPECT_EQ(srv->address(), "127.0.0.1:" + std::to_string(srv->port()));
  auto tool = std::make_shared<ToolFamilies>();
  srv->add(tool);

  auto [code, body] = get(srv->port(), "/metrics");
  ASSERT_EQ(code, 200);
  for (const auto& m : gmp::metrics::list()) {
    EXPECT_NE(body.find("# TYPE " + std::string(m.name) + " " + gmp::metrics::kind_name(m.kind)), std::string::npos)
        << m.name;
  }
  EXPECT_NE(body.find("gmptool_things_total 42"), std::string::npos);
  EXPECT_NE(body.find("gmp_sched_pauses_total_seconds_bucket{reason=\"user\",le=\"+Inf\"} 1"), std::string::npos);
  EXPECT_NE(body.find("gmp_metrics_scrapes_total 1"), std::string::npos);
  check_exposition(body);
  check_exposition(gmp::metrics::expose_catalog());

  EXPECT_EQ(get(srv->port(), "/healthz"), std::make_pair(200, std::string("ok\n")));
  EXPECT_EQ(get(srv->port(), "/readyz").first, 200);
  srv->set_ready(false);
  EXPECT_EQ(get(srv->port(), "/readyz").first, 503);
  auto page = get(srv->port(), "/");
  EXPECT_EQ(page.first, 200);
  EXPECT_NE(page.second.find("<canvas"), std::string::npos) << "charts are drawn by the page's script";
  EXPECT_NE(page.second.find("unit &lt;test&gt;"), std::string::npos);
  EXPECT_EQ(page.second.find("http://"), std::string::npos) << "the page must not load external assets";
  EXPECT_EQ(page.second.find("https://"), std::string::npos);
  EXPECT_EQ(get(srv->port(), "/nope").first, 404);

  // The tool's collectable is weak: once gone, it is skipped.
  tool.reset();
  EXPECT_EQ(get(srv->port(), "/metrics").second.find("gmptool_things_total"), std::string::npos);

  // A busy address is one clear line.
  std::string busy_err;
  EXPECT_FALSE(gmp::metrics::serve(srv->address(), &busy_err));
  EXPECT_NE(busy_err.find("address already in use"), std::string::npos) << busy_err;
  int port = srv->port();
  srv->stop();
  srv->stop();  // idempotent
  EXPECT_EQ(get(port, "/healthz").first, -1);
}

// A tool without a runtime (the tracer): its own families only, ready at once.
TEST(Serve, WithoutTheRuntimeCatalog) {
  std::string err;
  auto srv = gmp::metrics::serve("127.0.0.1:0", &err, {.runtime_catalog = false, .title = "tool"});
  ASSERT_TRUE(srv) << err;
  auto tool = std::make_shared<ToolFamilies>();
  srv->add(tool);
  auto [code, body] = get(srv->port(), "/metrics");
  EXPECT_EQ(code, 200);
  EXPECT_EQ(body.find("gmp_goroutines"), std::string::npos);
  EXPECT_NE(body.find("gmptool_things_total 42"), std::string::npos);
  EXPECT_NE(body.find("gmp_metrics_scrapes_total 1"), std::string::npos);
  EXPECT_EQ(get(srv->port(), "/readyz").first, 200);
}

// The server alone (gmp::metrics_server): what is added, an index or the
// program's own page at /, ready until told otherwise.
TEST(Serve, CollectablesOnlyWithAPageOfItsOwn) {
  std::string err;
  auto srv = gmp::metrics::serve_collectables("127.0.0.1:0", &err, {.title = "tool <x>"});
  ASSERT_TRUE(srv) << err;
  srv->add(std::make_shared<ToolFamilies>());  // expired at once: skipped
  auto tool = std::make_shared<ToolFamilies>();
  srv->add(tool);
  auto [code, body] = get(srv->port(), "/metrics");
  EXPECT_EQ(code, 200);
  EXPECT_EQ(body.find("gmp_goroutines"), std::string::npos);
  EXPECT_NE(body.find("gmptool_things_total 42"), std::string::npos) << body;
  auto index = get(srv->port(), "/");
  EXPECT_NE(index.second.find("tool &lt;x&gt;"), std::string::npos) << index.second;
  EXPECT_NE(index.second.find("/metrics"), std::string::npos);
  EXPECT_EQ(get(srv->port(), "/readyz").first, 200);
  srv->set_ready(false);
  EXPECT_EQ(get(srv->port(), "/readyz").first, 503);
  srv->stop();
  int calls = 0;
  auto own = gmp::metrics::serve_collectables("127.0.0.1:0", &err,
                                              {.page = [&calls] { return "<p>page " + std::to_string(++calls) + "</p>"; }});
  ASSERT_TRUE(own) << err;
  EXPECT_EQ(get(own->port(), "/").second, "<p>page 1</p>");
  EXPECT_EQ(get(own->port(), "/index.html").second, "<p>page 2</p>");
}

TEST(Serve, AddressesParseOrSayWhy) {
  std::string host;
  int port = -1;
  EXPECT_EQ(gmp::metrics::parse_address("9464", &host, &port).message(), "");
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  EXPECT_EQ(gmp::metrics::parse_address(":9464", &host, &port).message(), "");
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(gmp::metrics::parse_address("0.0.0.0:1", &host, &port).message(), "");
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(gmp::metrics::parse_address("localhost:80", &host, &port).message(), "");
  EXPECT_EQ(gmp::metrics::parse_address("[::1]:9464", &host, &port).message(), "");
  EXPECT_EQ(host, "[::1]");
  for (const char* bad : {"", "x", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "1:2:3", "[::1]", "no.such.host.invalid:80"}) {
    std::string e = gmp::metrics::parse_address(bad, &host, &port).message();
    EXPECT_FALSE(e.empty()) << bad;
    EXPECT_EQ(e.find('\n'), std::string::npos);
    EXPECT_NE(e.find("metrics address"), std::string::npos) << e;
  }
  std::string err;
  EXPECT_FALSE(gmp::metrics::serve("192.0.2.1:9464", &err));  // TEST-NET: not this machine's
  EXPECT_NE(err.find("192.0.2.1:9464"), std::string::npos) << err;
}

}  // namespace
