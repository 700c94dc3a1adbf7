// workloads/orders.cpp — `gmprun orders`: the order-matching pipeline
// (orders_pipeline.hpp) under open-loop load, or serving TCP clients with
// --listen (orders_listen.cpp). docs/ORDERS.md.
//
// Open loop: per shard, one generator draws Poisson arrivals at rate/shards
// (the sum of independent Poisson streams is Poisson at the whole rate),
// stamps each order with its intended send time and hands on, in one
// batch, every order whose time has come. Latency is measured from the
// intended time, so a generator that falls behind (or a pipeline that
// pushes back) shows up as latency, never as fewer samples. The generator
// sleeps on a timer until the next order's time (the runtime's timer lead
// spins an idle M through the last stretch); with --spin it yields in a loop
// instead when the next order is that close. On a shared machine sleeping
// wins by far: a thread that never sleeps uses up its CPU share and then
// waits out other processes' time slices (docs/ORDERS.md).
#include <cmath>
#include <cstdio>
#include <string>

#include "orders_gen.hpp"
#include "orders_pipeline.hpp"
#include "orders_report.hpp"
#include "workload.hpp"

namespace gmp::tools::orders_wl {
namespace {

struct GenResult {
  std::uint64_t sent = 0, unsent = 0, batches = 0;
};

void generator(Shard& s, const GenConfig& g, const World& w, std::uint32_t shards, GenResult& res) {
  Rng rng(g.seed * 0x9E3779B97F4A7C15ull + s.id + 1);
  std::vector<std::uint32_t> syms;
  for (std::uint32_t i = s.id; i < w.u.symbols; i += shards) syms.push_back(i);
  Flow flow;
  std::uint64_t seq = 0;
  const std::uint64_t id_base = static_cast<std::uint64_t>(s.id + 1) << 48;
  auto gap = [&] { return -std::log(rng.unit()) * g.mean_gap_ns; };
  double next = static_cast<double>(g.start) + gap();
  std::array<std::int64_t, kMaxBatch> due{};
  while (next < static_cast<double>(g.end)) {
    std::int64_t now = now_ns();
    if (now > g.give_up) {  // the pipeline cannot keep up: count what was never sent
      for (; next < static_cast<double>(g.end); next += gap()) res.unsent++;
      break;
    }
    auto t = static_cast<std::int64_t>(next);
    if (t <= now) {
      std::uint32_t n = 0;
      while (n < kMaxBatch && next < static_cast<double>(g.end) && static_cast<std::int64_t>(next) <= now) {
        due[n++] = static_cast<std::int64_t>(next);
        next += gap();
      }
      Batch* b = new_batch(n, s.id);
      Msg* m = b->msgs();
      for (std::uint32_t i = 0; i < n; i++) {
        make_order(rng, g, w, syms, id_base | ++seq, flow, m[i]);
        m[i].t_intended = due[i];
      }
      b->n = n;
      b->t_sent = now_ns();
      s.parse_in.send(b);
      res.sent += n;
      res.batches++;
      continue;
    }
    if (t - now > g.spin_ns) {
      gmp::sleep_until(gmp::TimePoint(std::chrono::nanoseconds(t - g.spin_ns / 2)));
    } else {
      gmp::yield();
    }
  }
  s.parse_in.close();
}

// Moves a few reference prices of the shard's symbols every period (a
// bounded random walk), through the risk stage's channel.
void ticker(Pipeline& p, Shard& s, std::int64_t period_ns, std::int64_t base, const std::atomic<bool>& stop,
            std::uint64_t seed) {
  Rng rng(seed + 77 * (s.id + 1));
  std::uint32_t shards = p.shards(), symbols = p.risk().universe().symbols, cursor = s.id;
  while (!stop.load(std::memory_order_acquire)) {
    gmp::sleep_for(std::chrono::nanoseconds(period_ns));
    if (stop.load(std::memory_order_acquire)) break;
    void* mem = gmp::pool::allocate(sizeof(Tick), gmp::pool::Tier::kFast);
    if (mem == nullptr) break;
    auto* t = ::new (mem) Tick();
    for (; t->n < t->symbol.size() && t->n * shards < symbols; t->n++) {
      std::int64_t px = p.risk().reference(cursor) + static_cast<std::int64_t>(rng.below(3)) - 1;
      t->symbol[t->n] = cursor;
      t->price[t->n] = std::clamp(px, base / 2, base * 2);
      cursor += shards;
      if (cursor >= symbols) cursor = s.id;
    }
    s.risk_in.send(Item{nullptr, t});
  }
  p.risk_sender_done(s.id);
}

struct Options {
  double rate = 127000;
  std::int64_t duration = 2'000'000'000, warmup = 100'000'000, tick = 1'000'000, spin = 0;
  std::uint32_t symbols = 64, accounts = 1024, shards = 0, subscribers = 1;
  double cancel = 10.0 / 100, market = 5.0 / 100, malformed = 0.1 / 100, over_limit = 0.5 / 100;
  std::uint64_t seed = 1;
  std::string listen;
};

void declare(Cli& c, Options& o) {
  c.number("--rate", o.rate, 1, 1e9, "N", "orders per second, Poisson arrivals (open loop)");
  c.duration("--duration", o.duration, "how long to generate orders (with --listen: serve; default until a signal)");
  c.duration("--warmup", o.warmup, "orders intended in this first part are processed but not in the latency figures");
  c.integer("--symbols", o.symbols, 1, 1 << 16, "N", "symbols (one book each), sharded across the shards");
  c.integer("--accounts", o.accounts, 1, 1 << 20, "N", "accounts (risk limits and positions per account and symbol)");
  c.integer("--shards", o.shards, 0, 256, "N", "pipelines, each owning symbols s % N (0: one per P)");
  c.integer("--subscribers", o.subscribers, 1, 64, "N", "fill subscriber goroutines per shard");
  c.percent("--cancel", o.cancel,
            "percent of messages that cancel one of the 256 newest orders (besides the oldest, at 2048 live)");
  c.percent("--market", o.market, "percent of messages that are market orders");
  c.percent("--malformed", o.malformed, "percent of messages with a corrupted field (rejected at parse)");
  c.percent("--over-limit", o.over_limit, "percent of orders that break a risk limit (qty or price band)");
  c.duration("--tick-every", o.tick, "market-data tick period per shard (moves reference prices)");
  c.duration("--spin", o.spin,
             "yield in a loop when the next order is due within this, else sleep on a timer (0: always sleep)");
  c.integer("--seed", o.seed, 0, INT64_MAX, "N", "random seed (same seed, same order flow)");
  c.text("--listen", o.listen, "ADDR",
         "serve the pipeline over TCP at HOST:PORT instead of generating (orders-client sends)");
}

std::string help() { return gmp::tools::workload_help<Options>("orders", declare); }

// "" or the one-line error.
std::string parse(int argc, char** argv, Options* o) {
  Cli c("orders");
  declare(c, *o);
  if (std::string err = parse_workload_options(c, argc, argv); !err.empty()) return err;
  if (!o->listen.empty() && !c.given("--duration")) o->duration = 0;  // serve until a signal
  if (o->listen.empty() && o->duration <= 0) return c.fail("--duration must be more than 0 (like 2s)");
  if (o->tick <= 0) return c.fail("--tick-every must be more than 0 (like 1ms)");
  if (o->cancel + o->market > 1) return c.fail("--cancel plus --market is over 100 percent");
  if (static_cast<std::uint64_t>(o->accounts) * o->symbols > (1u << 24))
    return c.fail("--accounts x --symbols is over 16777216 (the risk table holds a position for each pair)");
  if (!o->listen.empty()) {
    std::string host;
    std::uint16_t port = 0;
    if (std::string err = split_host_port(o->listen, &host, &port); !err.empty()) return c.fail("--listen " + err);
  }
  return "";
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

int orders_main(int argc, char** argv, Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  std::uint32_t shards = o.shards != 0 ? o.shards : static_cast<std::uint32_t>(gmp::procs());
  shards = std::min(shards, o.symbols);
  orders::Universe u{o.symbols, o.accounts};
  constexpr std::int64_t kBasePrice = 10'000;
  orders::Risk risk(u, orders::Limits{}, kBasePrice);

  PipelineConfig pc;
  pc.universe = u;
  pc.shards = shards;
  pc.subscribers = o.subscribers;
  if (!o.listen.empty()) pc.deliver = deliver_to_session;
  Pipeline p(pc, risk);  // books and tables first: the schedule starts after
  std::int64_t start = now_ns() + 2'000'000;  // the stages are up by then
  p.set_measure_from(start + o.warmup);
  std::atomic<bool> stop_ticks{false};
  for (std::uint32_t i = 0; i < shards; i++) p.add_risk_sender(i, 1);
  p.start();
  for (std::uint32_t i = 0; i < shards; i++) {
    gmp::go([&p, i, &o, &stop_ticks] { ticker(p, p.shard(i), o.tick, kBasePrice, stop_ticks, o.seed); });
  }

  RunTotals totals;
  totals.rate_asked = o.rate;
  totals.start_ns = start;
  if (!o.listen.empty()) {
    int rc = serve(o.listen, o.duration, p, totals, out);
    stop_ticks.store(true, std::memory_order_release);
    p.wait();
    if (rc != 0) return rc;
  } else {
    GenConfig g;
    g.mean_gap_ns = 1e9 * shards / o.rate;
    g.start = start;
    g.end = start + o.duration;
    g.give_up = g.end + std::max<std::int64_t>(o.duration, 1'000'000'000);
    g.spin_ns = o.spin;
    g.cancel = o.cancel;
    g.market = o.market;
    g.malformed = o.malformed;
    g.over_limit = o.over_limit;
    g.seed = o.seed;
    World w{u, &risk, kBasePrice, orders::Limits{}.max_qty};
    std::vector<GenResult> res(shards);
    gmp::WaitGroup gens;
    gens.add(shards);
    for (std::uint32_t i = 0; i < shards; i++) {
      gmp::go([&, i] {
        generator(p.shard(i), g, w, shards, res[i]);
        gens.done();
      });
    }
    gens.wait();
    stop_ticks.store(true, std::memory_order_release);
    p.wait();
    for (const GenResult& r : res) {
      totals.generated += r.sent;
      totals.unsent += r.unsent;
      totals.batches += r.batches;
    }
    totals.end_ns = g.end;
  }
  return report(p, totals, out) ? 0 : 1;
}

const gmp::tools::WorkloadRegistration reg{
    {"orders", "order-matching pipeline: open-loop orders (or TCP with --listen) through risk and books",
     help, orders_main, check}};

}  // namespace
}  // namespace gmp::tools::orders_wl
