// workloads/orders_report.cpp — the summary and the exit checks of
// `gmprun orders` (docs/ORDERS.md, "Summary" and "Checks").
#include "orders_report.hpp"

#include <algorithm>
#include <cstdio>

#include "gmp/pool.hpp"
#include "gmp/stw.hpp"

namespace gmp::tools::orders_wl {

namespace {

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

double hit_rate(const gmp::pool::TierStats& t) {
  double all = static_cast<double>(t.total.hits + t.total.misses + t.total.fallbacks);
  return all > 0 ? static_cast<double>(t.total.hits) / all : 0;
}

void quantiles(Summary& out, const std::string& prefix, const HistogramSnapshot& h, bool full) {
  out.set(prefix + "_p50_us", us(h.quantile(0.50)));
  out.set(prefix + "_p99_us", us(h.quantile(0.99)));
  if (!full) return;
  out.set(prefix + "_p999_us", us(h.quantile(0.999)));
  out.set(prefix + "_max_us", us(h.max));
}

}  // namespace

std::string split_host_port(const std::string& s, std::string* host, std::uint16_t* port) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size())
    return "'" + s + "' has no port (like 127.0.0.1:7100 or [::1]:7100)";
  std::string h = s.substr(0, colon), p = s.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "127.0.0.1";
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9' || v > 65535) return "'" + s + "': port '" + p + "' is not a number 0-65535";
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > 65535) return "'" + s + "': port '" + p + "' is not a number 0-65535";
  *host = h;
  *port = static_cast<std::uint16_t>(v);
  return "";
}

bool report(Pipeline& p, const RunTotals& t, Summary& out) {
  HistogramSnapshot e2e, gen, parse, risk, match, publish;
  std::uint64_t reports = 0, measured = 0, fills_seen = 0, fill_qty_seen = 0;
  std::uint64_t status[5] = {};
  std::int64_t last = t.start_ns;
  RejectCounts rej;
  orders::Tally tally;
  std::uint64_t resting = 0, ticks = 0;
  std::vector<std::string> problems;
  for (std::uint32_t i = 0; i < p.shards(); i++) {
    Shard& s = p.shard(i);
    for (auto& st : s.sub_stats) {
      st->e2e.add_to(e2e);
      st->gen.add_to(gen);
      st->parse.add_to(parse);
      st->risk.add_to(risk);
      st->match.add_to(match);
      st->publish.add_to(publish);
      reports += st->reports;
      measured += st->measured;
      fills_seen += st->fills;
      fill_qty_seen += st->fill_qty;
      for (int k = 0; k < 5; k++) status[k] += st->status[k];
      last = std::max(last, st->last_report_ns);
    }
    for (const RejectCounts* c : {&s.parse_rejects, &s.risk_rejects}) {
      for (int k = 0; k < static_cast<int>(Reject::kCount); k++) rej.by_reason[k] += c->by_reason[k];
      rej.new_orders += c->new_orders;
      rej.cancels += c->cancels;
    }
    tally.add(s.engine.tally());
    resting += s.engine.resting_orders();
    ticks += s.ticks;
    if (std::string err = s.engine.check(); !err.empty()) problems.push_back("shard " + std::to_string(i) + ": " + err);
  }

  // Messages that entered the pipeline: the generator's, or the frames read.
  std::uint64_t in = t.tcp ? t.frames : t.generated;
  double window_s = static_cast<double>(std::max<std::int64_t>(t.end_ns - t.start_ns, 1)) / 1e9;
  double busy_s = static_cast<double>(std::max<std::int64_t>(last - t.start_ns, 1)) / 1e9;
  double offered = static_cast<double>(in) / window_s;
  double achieved = static_cast<double>(reports) / std::max(busy_s, window_s);
  std::uint64_t new_orders = tally.new_orders + rej.new_orders;
  std::uint64_t cancels = tally.cancels + rej.cancels;
  std::uint64_t rejected_new = rej.new_orders + tally.rejected;
  std::uint64_t rejected_all = rejected_new + rej.cancels + tally.cancel_rejects;

  // Checks: conservation across the whole pipeline, then each engine's own.
  auto expect = [&](bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  };
  expect(reports == in, "messages not conserved: " + std::to_string(in) + " entered, " + std::to_string(reports) +
                            " reported");
  expect(new_orders + cancels == in, "message kinds do not add up: " + std::to_string(new_orders) + " orders + " +
                                         std::to_string(cancels) + " cancels != " + std::to_string(in));
  expect(new_orders == tally.filled + tally.cancelled + resting + rejected_new,
         "orders not conserved: " + std::to_string(new_orders) + " orders != filled " + std::to_string(tally.filled) +
             " + cancelled " + std::to_string(tally.cancelled) + " + resting " + std::to_string(resting) +
             " + rejected " + std::to_string(rejected_new));
  expect(status[static_cast<int>(Status::kCancelled)] == tally.cancelled,
         "cancels reported " + std::to_string(status[static_cast<int>(Status::kCancelled)]) + " != orders cancelled " +
             std::to_string(tally.cancelled));
  expect(fills_seen == tally.fills && fill_qty_seen == tally.fill_qty,
         "fills published (" + std::to_string(fills_seen) + ", qty " + std::to_string(fill_qty_seen) +
             ") != fills made (" + std::to_string(tally.fills) + ", qty " + std::to_string(tally.fill_qty) + ")");
  expect(status[static_cast<int>(Status::kRejected)] == rejected_all,
         "rejects reported " + std::to_string(status[static_cast<int>(Status::kRejected)]) + " != counted " +
             std::to_string(rejected_all));

  if (!t.tcp) out.set("rate_asked", t.rate_asked);
  out.set("rate_offered", offered);
  out.set("rate_achieved", achieved);
  out.set("rate_held", t.unsent == 0 && reports == in && achieved >= 0.99 * offered);
  out.set("messages", in);
  if (!t.tcp) {
    out.set("unsent", t.unsent);
    out.set("batches", t.batches);
    out.set("mean_batch", t.batches ? static_cast<double>(t.generated) / static_cast<double>(t.batches) : 0.0);
  }
  out.set("latency_samples", measured);
  quantiles(out, "lat", e2e, true);
  if (!t.tcp) quantiles(out, "stage_gen", gen, false);
  quantiles(out, "stage_parse", parse, false);
  quantiles(out, "stage_risk", risk, false);
  quantiles(out, "stage_match", match, false);
  quantiles(out, "stage_publish", publish, false);
  out.set("orders", new_orders);
  out.set("cancels", cancels);
  out.set("filled", tally.filled);
  out.set("cancelled", tally.cancelled);
  out.set("resting", resting);
  out.set("rejected", rejected_all);
  out.set("fills", tally.fills);
  out.set("fill_qty", tally.fill_qty);
  out.set("ticks", ticks);
  std::uint64_t malformed = 0, risk_rejects = 0;
  for (int k = 1; k < static_cast<int>(Reject::kCount); k++) {
    auto r = static_cast<Reject>(k);
    std::uint64_t n = rej.by_reason[k];
    if (r == Reject::kDuplicateId) n += tally.rejected;
    if (r == Reject::kUnknownOrder) n += tally.cancel_rejects;
    (orders::reject_is_malformed(r) ? malformed : risk_rejects) += n;
    if (n != 0) out.set(std::string("reject_") + orders::reject_name(r), n);
  }
  out.set("rejects_malformed", malformed);
  out.set("rejects_business", risk_rejects);
  if (t.tcp) {
    out.set("connections", t.connections);
    out.set("bytes_in", t.bytes_in);
    out.set("bytes_out", t.bytes_out);
    out.set("write_errors", t.write_errors);
    out.set("reports_dropped", t.reports_dropped);
    out.set("closed_read_error", t.closed_read_error);
    out.set("closed_mid_frame", t.closed_mid_frame);
    out.set("mid_frame_bytes", t.mid_frame_bytes);
    for (int k = 2; k < static_cast<int>(orders::proto::FrameError::kCount); k++) {
      auto e = static_cast<orders::proto::FrameError>(k);
      out.set(std::string("closed_") + orders::proto::frame_error_name(e), t.frame_errors[k]);
    }
  }
  gmp::pool::Stats ps = gmp::pool::stats(false);
  out.set("pool_hit_fast", hit_rate(ps.tiers[0]));
  out.set("pool_hit_txn", hit_rate(ps.tiers[1]));
  out.set("pool_hit_stable", hit_rate(ps.tiers[2]));
  out.set("alloc_p99_us", us(ps.p99_ns));
  std::uint64_t pauses = 0, pause_max = 0;
  for (int r = 0; r < static_cast<int>(gmp::stw::Reason::kCount); r++) {
    gmp::stw::PauseStats st = gmp::stw::pause_stats(static_cast<gmp::stw::Reason>(r));
    pauses += st.total.count();
    pause_max = std::max(pause_max, st.total.max);
  }
  out.set("stw_pauses", pauses);
  out.set("stw_max_us", us(pause_max));
  out.set("check", problems.empty());
  for (const std::string& pr : problems) std::fprintf(stderr, "orders: check failed: %s\n", pr.c_str());
  return problems.empty();
}

}  // namespace gmp::tools::orders_wl
