// gmptrace/output.cpp — see output.hpp.
#include "gmptrace/output.hpp"

#include <ctime>
#include <map>

namespace gmp::trace {

namespace {

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string labels_text(const Labels& l) {
  if (l.empty()) return "";
  std::string o = "{";
  for (std::size_t i = 0; i < l.size(); i++) o += (i ? "," : "") + l[i].first + "=" + l[i].second;
  return o + "}";
}

std::string labels_json(const Labels& l) {
  std::string o = "{";
  for (std::size_t i = 0; i < l.size(); i++) o += (i ? "," : "") + json_str(l[i].first) + ":" + json_str(l[i].second);
  return o + "}";
}

std::string now_hms() {
  std::time_t t = std::time(nullptr);
  char b[16];
  std::strftime(b, sizeof b, "%H:%M:%S", std::localtime(&t));
  return b;
}

// ---- text --------------------------------------------------------------------
class TextOutput final : public Output {
 public:
  explicit TextOutput(std::FILE* f) : f_(f) {}
  void start(const Target& t, const std::vector<std::string>& units,
             const std::vector<AttachResult>& attach) override {
    std::string u;
    for (const auto& x : units) u += (u.empty() ? "" : " ") + x;
    std::fprintf(f_, "Tracing pid %d (%s, probe set %u): %s. Hit Ctrl-C to end.\n", t.pid, t.path.c_str(),
                 t.elf.version, u.c_str());
    for (const auto& a : attach)
      if (!a.ok) std::fprintf(f_, "  not attached: %s %s (%s): %s\n", a.unit.c_str(), a.program.c_str(),
                              a.where.c_str(), a.error.c_str());
    std::fflush(f_);
  }
  void header(const char* scope, double t_s, const Header& h) override {
    std::fprintf(f_, "\n%s %s %.1fs: Ps %d, Ms %d, goroutines %lld, threads %d\n", now_hms().c_str(), scope, t_s,
                 h.ps, h.ms, h.goroutines, h.threads);
  }
  void section(const char* scope, const Section& s) override {
    std::fprintf(f_, "-- %s (%s)%s%s\n", s.unit.c_str(), scope, s.note.empty() ? "" : ": ", s.note.c_str());
    for (const auto& c : s.counters)
      std::fprintf(f_, "  %s%s %llu\n", c.name.c_str(), labels_text(c.labels).c_str(),
                   static_cast<unsigned long long>(c.value));
    for (const auto& h : s.hists) hist(h);
    for (const auto& t : s.tables) table(t);
    std::fflush(f_);
  }
  void event(const Event& e) override {
    std::fprintf(f_, "%s %s %s", now_hms().c_str(), e.unit.c_str(), e.kind.c_str());
    for (const auto& fl : e.fields) std::fprintf(f_, " %s=%s", fl.key.c_str(), fl.value.c_str());
    std::fputc('\n', f_);
    for (const auto& fr : e.stack) std::fprintf(f_, "      %s\n", fr.c_str());
    std::fflush(f_);
  }
  void lost(const char* scope, const std::string& ring, std::uint64_t n, std::uint64_t total) override {
    if (std::string(scope) == "total")
      std::fprintf(f_, "  ring %s: %llu events lost in total%s\n", ring.c_str(), static_cast<unsigned long long>(total),
                   total ? " (raise --ring-bytes or --min-us)" : "");
    else if (n != 0)
      std::fprintf(f_, "  ring %s: %llu events lost this interval (%llu in total)\n", ring.c_str(),
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(total));
  }
  void end(const std::string& why, const std::vector<Section>& totals) override {
    std::fprintf(f_, "\nDetached (%s).\n%s\n", why.c_str(), summary_line(totals).c_str());
    std::fflush(f_);
  }

 private:
  void hist(const Hist& h) {
    if (h.count == 0) return;
    int lo = 0, hi = GMP_HIST_SLOTS - 1;
    while (lo < GMP_HIST_SLOTS && h.slots[lo] == 0) lo++;
    while (hi > lo && h.slots[hi] == 0) hi--;
    std::uint64_t max = 0;
    for (int i = lo; i <= hi; i++) max = h.slots[i] > max ? h.slots[i] : max;
    std::fprintf(f_, "  %s%s: count %llu, mean %llu %s, p50 <= %llu, p99 <= %llu\n", h.name.c_str(),
                 labels_text(h.labels).c_str(), static_cast<unsigned long long>(h.count),
                 static_cast<unsigned long long>(h.sum / h.count), h.unit.c_str(),
                 static_cast<unsigned long long>(h.quantile(0.5)), static_cast<unsigned long long>(h.quantile(0.99)));
    std::fprintf(f_, "  %24s : count    distribution\n", h.unit.c_str());
    for (int i = lo; i <= hi; i++) {
      unsigned long long a = i == 0 ? 0 : Hist::upper(i - 1) + 1, b = Hist::upper(i);
      int stars = max ? static_cast<int>(h.slots[i] * 40 / max) : 0;
      std::fprintf(f_, "  %11llu -> %-10llu : %-8llu |%-40s|\n", a, b, static_cast<unsigned long long>(h.slots[i]),
                   std::string(static_cast<std::size_t>(stars), '*').c_str());
    }
  }
  void table(const Table& t) {
    if (t.rows.empty()) return;
    std::fprintf(f_, "  %s:\n", t.name.c_str());
    bool stack = !t.columns.empty() && t.columns.back() == "stack";
    std::fprintf(f_, "   ");
    for (std::size_t i = 0; i < t.columns.size(); i++)
      if (!(stack && i + 1 == t.columns.size())) std::fprintf(f_, " %12s", t.columns[i].c_str());
    std::fputc('\n', f_);
    for (const auto& r : t.rows) {
      std::fprintf(f_, "   ");
      for (std::size_t i = 0; i < r.size(); i++)
        if (!(stack && i + 1 == r.size())) std::fprintf(f_, " %12s", r[i].c_str());
      std::fputc('\n', f_);
      if (stack) {  // folded frames, one per line
        std::size_t p = 0;
        const std::string& s = r.back();
        while (p <= s.size()) {
          std::size_t q = s.find(';', p);
          if (q == std::string::npos) q = s.size();
          std::fprintf(f_, "        %s\n", s.substr(p, q - p).c_str());
          p = q + 1;
        }
      }
    }
  }
  std::FILE* f_;
};

// ---- JSON --------------------------------------------------------------------
class JsonOutput final : public Output {
 public:
  explicit JsonOutput(std::FILE* f) : f_(f) {}
  void start(const Target& t, const std::vector<std::string>& units,
             const std::vector<AttachResult>& attach) override {
    std::string u, a;
    for (const auto& x : units) u += (u.empty() ? "" : ",") + json_str(x);
    for (const auto& r : attach)
      a += std::string(a.empty() ? "" : ",") + "{\"unit\":" + json_str(r.unit) + ",\"program\":" +
           json_str(r.program) + ",\"where\":" + json_str(r.where) + ",\"attached\":" + (r.ok ? "true" : "false") +
           (r.ok ? "" : ",\"error\":" + json_str(r.error)) + "}";
    std::fprintf(f_, "{\"type\":\"start\",\"pid\":%d,\"path\":%s,\"probes_version\":%u,\"units\":[%s],\"attach\":[%s]}\n",
                 t.pid, json_str(t.path).c_str(), t.elf.version, u.c_str(), a.c_str());
    std::fflush(f_);
  }
  void header(const char* scope, double t_s, const Header& h) override {
    std::fprintf(f_, "{\"type\":\"header\",\"scope\":\"%s\",\"t_s\":%.3f,\"ps\":%d,\"ms\":%d,\"goroutines\":%lld,"
                     "\"threads\":%d}\n", scope, t_s, h.ps, h.ms, h.goroutines, h.threads);
  }
  void section(const char* scope, const Section& s) override {
    std::string u = json_str(s.unit);
    std::fprintf(f_, "{\"type\":\"unit\",\"scope\":\"%s\",\"unit\":%s,\"supported\":%s%s}\n", scope, u.c_str(),
                 s.supported ? "true" : "false", s.note.empty() ? "" : (",\"note\":" + json_str(s.note)).c_str());
    for (const auto& c : s.counters)
      std::fprintf(f_, "{\"type\":\"counter\",\"scope\":\"%s\",\"unit\":%s,\"name\":%s,\"labels\":%s,\"value\":%llu}\n",
                   scope, u.c_str(), json_str(c.name).c_str(), labels_json(c.labels).c_str(),
                   static_cast<unsigned long long>(c.value));
    for (const auto& h : s.hists) {
      std::string b;
      for (int i = 0; i < GMP_HIST_SLOTS; i++)
        if (h.slots[i] != 0)
          b += std::string(b.empty() ? "" : ",") + "[" + std::to_string(Hist::upper(i)) + "," +
               std::to_string(h.slots[i]) + "]";
      std::fprintf(f_, "{\"type\":\"hist\",\"scope\":\"%s\",\"unit\":%s,\"name\":%s,\"of\":%s,\"labels\":%s,"
                       "\"count\":%llu,\"sum\":%llu,\"buckets\":[%s]}\n",
                   scope, u.c_str(), json_str(h.name).c_str(), json_str(h.unit).c_str(), labels_json(h.labels).c_str(),
                   static_cast<unsigned long long>(h.count), static_cast<unsigned long long>(h.sum), b.c_str());
    }
    for (const auto& t : s.tables) {
      std::string cols, rows;
      for (const auto& c : t.columns) cols += (cols.empty() ? "" : ",") + json_str(c);
      for (const auto& r : t.rows) {
        std::string row;
        for (const auto& c : r) row += (row.empty() ? "" : ",") + json_str(c);
        rows += std::string(rows.empty() ? "" : ",") + "[" + row + "]";
      }
      std::fprintf(f_, "{\"type\":\"table\",\"scope\":\"%s\",\"unit\":%s,\"name\":%s,\"columns\":[%s],\"rows\":[%s]}\n",
                   scope, u.c_str(), json_str(t.name).c_str(), cols.c_str(), rows.c_str());
    }
    std::fflush(f_);
  }
  void event(const Event& e) override {
    std::string fl, st;
    for (const auto& x : e.fields) fl += (fl.empty() ? "" : ",") + json_str(x.key) + ":" + (x.number ? x.value : json_str(x.value));
    for (const auto& x : e.stack) st += (st.empty() ? "" : ",") + json_str(x);
    std::fprintf(f_, "{\"type\":\"event\",\"unit\":%s,\"kind\":%s,\"fields\":{%s}%s}\n", json_str(e.unit).c_str(),
                 json_str(e.kind).c_str(), fl.c_str(), e.stack.empty() ? "" : (",\"stack\":[" + st + "]").c_str());
    std::fflush(f_);
  }
  void lost(const char* scope, const std::string& ring, std::uint64_t n, std::uint64_t total) override {
    std::fprintf(f_, "{\"type\":\"lost\",\"scope\":\"%s\",\"ring\":%s,\"lost\":%llu,\"total\":%llu}\n", scope,
                 json_str(ring).c_str(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(total));
  }
  void end(const std::string& why, const std::vector<Section>& totals) override {
    std::fprintf(f_, "{\"type\":\"end\",\"why\":%s,\"summary\":%s}\n", json_str(why).c_str(),
                 json_str(summary_line(totals)).c_str());
    std::fflush(f_);
  }

 private:
  std::FILE* f_;
};

}  // namespace

std::string summary_line(const std::vector<Section>& totals) {
  std::map<std::string, std::uint64_t> kv;
  std::vector<std::string> order;
  auto put = [&](const std::string& k, std::uint64_t v) {
    if (kv.emplace(k, 0).second) order.push_back(k);
    kv[k] += v;
  };
  for (const auto& s : totals) {
    for (const auto& c : s.counters) put(c.name, c.value);
    for (const auto& h : s.hists) {
      put(h.name + "_count", h.count);
      put(h.name + "_sum", h.sum);
    }
  }
  std::string o = "summary";
  for (const auto& k : order) o += " " + k + "=" + std::to_string(kv[k]);
  return o;
}

std::unique_ptr<Output> make_text_output(std::FILE* out) { return std::make_unique<TextOutput>(out); }
std::unique_ptr<Output> make_json_output(std::FILE* out) { return std::make_unique<JsonOutput>(out); }

}  // namespace gmp::trace
