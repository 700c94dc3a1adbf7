// gmptrace/report_html.cpp — see report_html.hpp. The charts are plain SVG
// strings: bars for log2 histograms (one bar per slot from the first to the
// last slot with samples), dots for the pause timeline (time on x, pause on a
// log scale on y, one colour per reason), horizontal bars for per-M and
// per-tier values. Everything is escaped; nothing is fetched.
#include "gmptrace/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace gmp::trace {

namespace {

const char* const kColours[] = {"#3b6fb6", "#d9822b", "#2a9d5c", "#c23b3b", "#7d5ba6", "#8c6d31", "#d16ba5", "#5f6b7a"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string fmt_ns(double ns) {
  if (ns < 1e3) return fmt("%.0f ns", ns);
  if (ns < 1e6) return fmt("%.3g µs", ns / 1e3);
  if (ns < 1e9) return fmt("%.3g ms", ns / 1e6);
  return fmt("%.3g s", ns / 1e9);
}

std::string fmt_bytes(double b) {
  if (b < 1024) return fmt("%.0f B", b);
  if (b < 1024 * 1024) return fmt("%.3g KiB", b / 1024);
  return fmt("%.3g MiB", b / (1024 * 1024));
}

std::string fmt_count(double v) {
  if (v < 1e4) return fmt("%.0f", v);
  if (v < 1e6) return fmt("%.3gk", v / 1e3);
  if (v < 1e9) return fmt("%.3gM", v / 1e6);
  return fmt("%.3gG", v / 1e9);
}

std::string labels_text(const Labels& l) {
  if (l.empty()) return "";
  std::string o = "{";
  for (std::size_t i = 0; i < l.size(); i++) o += (i ? ", " : "") + l[i].first + "=" + l[i].second;
  return o + "}";
}

std::string svg_open(const char* chart, std::size_t points, int w, int h, const std::string& title) {
  return "<svg class=\"chart\" data-chart=\"" + std::string(chart) + "\" data-points=\"" + std::to_string(points) +
         "\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " +
         std::to_string(w) + " " + std::to_string(h) + "\" role=\"img\" aria-label=\"" + esc(title) + "\">";
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start", const char* cls = "") {
  return "<text x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) + "\" text-anchor=\"" + anchor + "\"" +
         (cls[0] ? std::string(" class=\"") + cls + "\"" : "") + ">" + esc(s) + "</text>";
}

std::string rect(double x, double y, double w, double h, const char* fill, const std::string& tip) {
  return "<rect x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) + "\" width=\"" + fmt("%.1f", std::max(w, 0.0)) +
         "\" height=\"" + fmt("%.1f", std::max(h, 0.0)) + "\" fill=\"" + fill + "\"><title>" + esc(tip) +
         "</title></rect>";
}

// One log2 histogram: a bar per slot (2^(i-1), 2^i] between the first and
// the last slot with samples; p50 / p99 from the slots (upper bounds).
std::string hist_chart(const Hist& h) {
  int lo = 0, hi = GMP_HIST_SLOTS - 1;
  while (lo < GMP_HIST_SLOTS && h.slots[lo] == 0) lo++;
  while (hi > lo && h.slots[hi] == 0) hi--;
  if (lo >= GMP_HIST_SLOTS) return "";
  std::uint64_t top = 1;
  for (int i = lo; i <= hi; i++) top = std::max(top, h.slots[i]);
  const bool ns = h.unit == "ns";
  auto val = [&](double v) { return ns ? fmt_ns(v) : h.unit == "bytes" ? fmt_bytes(v) : fmt_count(v); };
  const int n = hi - lo + 1, w = 520, hgt = 200, left = 50, bottom = 40, top_pad = 38;
  const double bw = static_cast<double>(w - left - 10) / n, plot_h = hgt - bottom - top_pad;
  std::string title = h.name + labels_text(h.labels);
  std::string o = svg_open("hist", static_cast<std::size_t>(n), w, hgt, title);
  std::uint64_t total = 0;
  for (auto s : h.slots) total += s;
  std::string head = "n=" + fmt_count(static_cast<double>(total));
  if (total > 0)
    head += "  p50 ≤ " + val(static_cast<double>(h.quantile(0.5))) + "  p99 ≤ " +
            val(static_cast<double>(h.quantile(0.99))) + "  mean " +
            val(static_cast<double>(h.sum) / static_cast<double>(total));
  o += text(4, 15, title, "start", "t") + text(4, 30, head, "start", "s");
  const int every = n <= 8 ? 1 : n <= 16 ? 2 : 3;
  for (int i = lo; i <= hi; i++) {
    double bh = plot_h * static_cast<double>(h.slots[i]) / static_cast<double>(top);
    double x = left + (i - lo) * bw;
    o += rect(x + 1, top_pad + plot_h - bh, bw - 2, bh, kColours[0],
              "≤ " + val(static_cast<double>(Hist::upper(i))) + ": " + std::to_string(h.slots[i]));
    if ((i - lo) % every == 0)
      o += text(x + bw / 2, hgt - bottom + 14, val(static_cast<double>(Hist::upper(i))), "middle", "s");
  }
  o += text(left - 4, top_pad + 8, fmt_count(static_cast<double>(top)), "end", "s");
  o += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + fmt("%.1f", top_pad + plot_h) + "\" x2=\"" +
       std::to_string(w - 10) + "\" y2=\"" + fmt("%.1f", top_pad + plot_h) + "\" class=\"axis\"/>";
  o += text(left + (w - left) / 2.0, hgt - 6, std::string("upper bound of the slot (") + (ns ? "time" : h.unit) + ")",
            "middle", "s");
  return o + "</svg>";
}

// Horizontal bars: one row per label, one or two stacked values.
struct Bar {
  std::string label;
  double a = 0, b = 0;  // b stacked after a (0: none)
  std::string tip;
};
std::string bar_chart(const char* chart, const std::string& title, const std::vector<Bar>& bars, const char* a_name,
                      const char* b_name, double full, std::string (*val)(double)) {
  const int w = 620, row = 20, left = 110, head = 40;
  const int hgt = head + row * static_cast<int>(bars.size()) + 10;
  double top = full;
  if (top <= 0)
    for (const auto& b : bars) top = std::max(top, b.a + b.b);
  if (top <= 0) top = 1;
  std::string o = svg_open(chart, bars.size(), w, hgt, title);
  o += text(4, 15, title, "start", "t");
  o += rect(left, 24, 10, 10, kColours[0], a_name) + text(left + 14, 33, a_name, "start", "s");
  if (b_name != nullptr) o += rect(left + 150, 24, 10, 10, kColours[1], b_name) + text(left + 164, 33, b_name, "start", "s");
  const double span = w - left - 150;
  for (std::size_t i = 0; i < bars.size(); i++) {
    const Bar& b = bars[i];
    double y = head + static_cast<double>(i) * row;
    o += text(left - 6, y + 13, b.label, "end", "s");
    double wa = span * b.a / top, wb = span * b.b / top;
    o += rect(left, y + 2, wa, row - 5, kColours[0], b.label + ": " + a_name + " " + val(b.a) + b.tip);
    if (b_name != nullptr) o += rect(left + wa, y + 2, wb, row - 5, kColours[1], b.label + ": " + b_name + " " + val(b.b));
    o += text(left + wa + wb + 4, y + 13, b_name ? val(b.a) + " / " + val(b.b) : val(b.a), "start", "s");
  }
  return o + "</svg>";
}

std::string ms_value(double v) { return fmt("%.1f ms", v); }
std::string pct_value(double v) { return fmt("%.1f %%", v); }
std::string count_value(double v) { return fmt_count(v); }

// The pause timeline: a dot per pause at (time, total pause), log y.
std::string pause_chart(const Recording& r) {
  const int w = 900, hgt = 260, left = 60, right = 120, top_pad = 24, bottom = 36;
  double tmax = std::max(r.seconds, 1e-3), ymin = 1e9, ymax = 1;
  std::map<std::string, int> colour;
  for (const auto& p : r.pauses) {
    double v = std::max<double>(static_cast<double>(p.total_ns), 1);
    ymin = std::min(ymin, v);
    ymax = std::max(ymax, v);
    tmax = std::max(tmax, p.t_s);
    if (!colour.count(p.reason)) colour[p.reason] = static_cast<int>(colour.size()) % 8;
  }
  double lo = std::floor(std::log10(std::min(ymin, ymax))), hi = std::ceil(std::log10(ymax));
  if (hi <= lo) hi = lo + 1;
  const double pw = w - left - right, ph = hgt - top_pad - bottom;
  std::string title = "stop-the-world pauses over time (" + std::to_string(r.pauses.size()) + " pauses";
  if (r.pauses_not_kept) title += ", " + std::to_string(r.pauses_not_kept) + " more not kept";
  title += ")";
  std::string o = svg_open("stw_timeline", r.pauses.size(), w, hgt, title);
  o += text(4, 15, title, "start", "t");
  for (double d = lo; d <= hi; d++) {
    double y = top_pad + ph - ph * (d - lo) / (hi - lo);
    o += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + fmt("%.1f", y) + "\" x2=\"" + std::to_string(w - right) +
         "\" y2=\"" + fmt("%.1f", y) + "\" class=\"grid\"/>";
    o += text(left - 4, y + 4, fmt_ns(std::pow(10, d)), "end", "s");
  }
  for (int k = 0; k <= 4; k++) {
    double x = left + pw * k / 4;
    o += text(x, hgt - bottom + 14, fmt("%.3g s", tmax * k / 4), "middle", "s");
  }
  o += text(left + pw / 2, hgt - 6, "time since tracing began; pause length (log scale) up", "middle", "s");
  for (const auto& p : r.pauses) {
    double v = std::max<double>(static_cast<double>(p.total_ns), 1);
    double x = left + pw * p.t_s / tmax, y = top_pad + ph - ph * (std::log10(v) - lo) / (hi - lo);
    o += "<circle cx=\"" + fmt("%.1f", x) + "\" cy=\"" + fmt("%.1f", y) + "\" r=\"2.5\" fill=\"" +
         kColours[colour[p.reason]] + "\"><title>" + esc(p.reason + " at " + fmt("%.3f s", p.t_s) + ": pause " +
                                                          fmt_ns(static_cast<double>(p.total_ns)) + ", stopping " +
                                                          fmt_ns(static_cast<double>(p.stopping_ns))) +
         "</title></circle>";
  }
  int i = 0;
  for (const auto& [reason, c] : colour) {
    double y = top_pad + 12 + 16 * i++;
    o += "<circle cx=\"" + std::to_string(w - right + 12) + "\" cy=\"" + fmt("%.1f", y - 4) + "\" r=\"4\" fill=\"" +
         kColours[c] + "\"/>" + text(w - right + 20, y, reason, "start", "s");
  }
  return o + "</svg>";
}

const Table* find_table(const Recording& r, const char* unit, const char* name) {
  for (const auto& s : r.totals)
    if (s.unit == unit)
      for (const auto& t : s.tables)
        if (t.name == name) return &t;
  return nullptr;
}

int column(const Table& t, const char* name) {
  for (std::size_t i = 0; i < t.columns.size(); i++)
    if (t.columns[i] == name) return static_cast<int>(i);
  return -1;
}

double cell(const std::vector<std::string>& row, int i) {
  return i >= 0 && static_cast<std::size_t>(i) < row.size() ? std::atof(row[static_cast<std::size_t>(i)].c_str()) : 0;
}

std::uint64_t counter(const Section& s, const char* name, const std::string& tier) {
  for (const auto& c : s.counters)
    if (c.name == name)
      for (const auto& [k, v] : c.labels)
        if (k == "tier" && v == tier) return c.value;
  return 0;
}

const char kStyle[] = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#1d2733;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ccd}
.meta{color:#556} .grid-charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:#f7f8fb;border:1px solid #dde;border-radius:4px}
svg text{font:11px system-ui,sans-serif;fill:#334} svg text.t{font-weight:600;font-size:12px}
svg text.s{font-size:10px} line.axis{stroke:#889} line.grid{stroke:#dde}
table{border-collapse:collapse;margin:4px 0 12px} td,th{padding:2px 10px;border-bottom:1px solid #eef;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums} .no{color:#b00} .ok{color:#070} p.note{color:#845}
</style>)";

}  // namespace

std::string render_html(const Recording& r) {
  std::string o = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gmptrace report: " +
                  esc(r.target) + "</title>" + kStyle + "</head><body>\n";
  int attached = 0;
  for (const auto& a : r.attach) attached += a.ok ? 1 : 0;
  std::uint64_t lost = 0;
  for (const auto& [ring, n] : r.lost) lost += n;
  o += "<h1>gmptrace report: " + esc(r.target) + "</h1>\n<p class=\"meta\">traced for " + fmt("%.2f s", r.seconds) +
       (r.ended == "live" ? " (so far; reload for more)" : "; ended: " + esc(r.ended)) + " · " +
       std::to_string(attached) + " of " + std::to_string(r.attach.size()) + " programs attached · " +
       std::to_string(lost) + " events lost</p>\n";
  for (const auto& s : r.totals)
    if (!s.note.empty()) o += "<p class=\"note\">" + esc(s.unit) + ": " + esc(s.note) + "</p>\n";

  // Latency (and size) histograms.
  o += "<h2>Histograms</h2>\n<div class=\"grid-charts\">\n";
  int nh = 0;
  for (const auto& s : r.totals)
    for (const auto& h : s.hists)
      if (h.count > 0) {
        o += hist_chart(h) + "\n";
        nh++;
      }
  o += "</div>\n";
  if (nh == 0) o += "<p>No histogram has samples (nothing of what was traced happened).</p>\n";

  o += "<h2>Stop-the-world pauses</h2>\n";
  bool stw = false;
  for (const auto& s : r.totals) stw |= s.unit == "stw";
  if (!stw)
    o += "<p>The stw unit was not traced.</p>\n";
  else
    o += pause_chart(r) + "\n";

  // Per M: off-CPU (the offcpu unit's threads table) and system calls (the
  // syscalls unit's per_m table).
  o += "<h2>Per M</h2>\n<div class=\"grid-charts\">\n";
  if (const Table* t = find_table(r, "offcpu", "threads")) {
    int role = column(*t, "role"), on = column(*t, "on_cpu_ms"), off = column(*t, "off_cpu_ms");
    std::map<std::pair<int, std::string>, Bar> by;
    for (const auto& row : t->rows) {
      const std::string& rl = row[static_cast<std::size_t>(role)];
      if (rl.rfind("M ", 0) != 0 && rl != "sysmon") continue;
      Bar& b = by[{rl == "sysmon" ? 1 << 30 : std::atoi(rl.c_str() + 2), rl}];
      b.label = rl;
      b.a += cell(row, on);
      b.b += cell(row, off);
    }
    std::vector<Bar> bars;
    for (auto& [k, b] : by) bars.push_back(b);
    o += bar_chart("offcpu_per_m", "on- and off-CPU time per M", bars, "on CPU", "off CPU", 0, ms_value) + "\n";
  } else {
    o += "<p>The offcpu unit was not traced.</p>\n";
  }
  if (const Table* t = find_table(r, "syscalls", "per_m")) {
    int role = column(*t, "role"), cnt = column(*t, "count"), us = column(*t, "total_us");
    std::vector<Bar> calls, time;
    for (const auto& row : t->rows) {
      calls.push_back({row[static_cast<std::size_t>(role)], cell(row, cnt), 0, ""});
      time.push_back({row[static_cast<std::size_t>(role)], cell(row, us) / 1000, 0, ""});
    }
    o += bar_chart("syscalls_per_m", "system calls per M", calls, "calls", nullptr, 0, count_value) + "\n";
    o += bar_chart("syscall_time_per_m", "time in system calls per M", time, "in the kernel", nullptr, 0, ms_value) +
         "\n";
  } else {
    o += "<p>The syscalls unit was not traced (add syscalls to WHAT).</p>\n";
  }
  o += "</div>\n";

  // Per P: io_uring operations on each P's ring (the io unit).
  for (const auto& s : r.totals) {
    if (s.unit != "io") continue;
    std::map<int, Bar> by;
    for (const auto& c : s.counters) {
      if ((c.name != "p_io_submits" && c.name != "p_io_completions") || c.labels.empty()) continue;
      int p = std::atoi(c.labels[0].second.c_str());
      Bar& b = by[p];
      b.label = "P " + c.labels[0].second;
      if (c.name == "p_io_completions") b.a = static_cast<double>(c.value);
      else b.b = static_cast<double>(c.value);  // submits, made "in flight" below
    }
    std::vector<Bar> bars;
    for (auto& [p, b] : by) {
      b.b = std::max(0.0, b.b - b.a);
      bars.push_back(b);
    }
    o += "<h2>Per P</h2>\n" +
         bar_chart("io_per_p", "io_uring operations per P", bars, "completed", "in flight at the end", 0, count_value) +
         "\n";
  }

  // Pool tiers: hits ÷ (hits + misses + fallbacks), as the runtime's own
  // figures are, from the hits and misses each cache's sampled allocations
  // carried (alloc_sample v3: their growth while traced).
  for (const auto& s : r.totals) {
    if (s.unit != "alloc") continue;
    std::vector<Bar> rate, events;
    for (const auto& c : s.counters) {
      if (c.name != "alloc_samples" || c.labels.empty()) continue;
      const std::string& tier = c.labels[0].second;
      double hits = static_cast<double>(counter(s, "pool_hits", tier));
      double misses = static_cast<double>(counter(s, "pool_misses", tier));
      double fb = static_cast<double>(counter(s, "pool_fallbacks", tier));
      double refills = static_cast<double>(counter(s, "pool_refills", tier));
      double samples = static_cast<double>(counter(s, "alloc_samples", tier));
      if (hits + misses + fb > 0) rate.push_back({tier, 100.0 * hits / (hits + misses + fb), 0, ""});
      events.push_back({tier, samples, refills, ""});
    }
    o += "<h2>Pool tiers</h2>\n<div class=\"grid-charts\">\n";
    if (!rate.empty())
      o += bar_chart("pool_hit_rate", "hit rate per tier (hits ÷ allocations, while traced)", rate, "hits", nullptr,
                     100, pct_value) +
           "\n";
    o += bar_chart("pool_tiers", "sampled allocations and refills per tier", events, "sampled allocations", "refills", 0,
                   count_value) +
         "\n</div>\n";
  }

  // Every counter, and the programs.
  o += "<h2>Counters</h2>\n<table><tr><th>unit</th><th>counter</th><th>labels</th><th>value</th></tr>\n";
  for (const auto& s : r.totals)
    for (const auto& c : s.counters)
      o += "<tr><td>" + esc(s.unit) + "</td><td>" + esc(c.name) + "</td><td>" + esc(labels_text(c.labels)) +
           "</td><td class=\"n\">" + std::to_string(c.value) + "</td></tr>\n";
  o += "</table>\n<h2>Programs</h2>\n<table><tr><th>unit</th><th>program</th><th>attached at</th><th></th></tr>\n";
  for (const auto& a : r.attach)
    o += "<tr><td>" + esc(a.unit) + "</td><td>" + esc(a.program) + "</td><td>" + esc(a.where) + "</td><td class=\"" +
         (a.ok ? "ok\">attached" : "no\">not attached: " + esc(a.error)) + "</td></tr>\n";
  o += "</table>\n<h2>Events lost</h2>\n<table><tr><th>ring</th><th>records lost</th></tr>\n";
  for (const auto& [ring, n] : r.lost)
    o += "<tr><td>" + esc(ring) + "</td><td class=\"n\">" + std::to_string(n) + "</td></tr>\n";
  o += "</table>\n</body></html>\n";
  return o;
}

}  // namespace gmp::trace
