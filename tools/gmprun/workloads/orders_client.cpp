// workloads/orders_client.cpp — `gmprun orders-client --connect ADDR`: the
// open-loop load generator for `gmprun orders --listen` (docs/ORDERS.md,
// "Over TCP").
//
// Per connection a sender goroutine draws Poisson arrivals at rate/conns,
// writes every due order in one write, each frame stamped with its intended
// send time, and a reader goroutine decodes the reports and measures latency
// from the echoed stamp (its own clock: this works across machines). At the
// end the sender shuts its side down; the server answers everything it read
// and closes, so the reader ends at end of stream (or at --drain).
#include <sys/socket.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "orders_gen.hpp"
#include "orders_report.hpp"
#include "workload.hpp"

namespace gmp::tools::orders_wl {
namespace {

struct Options {
  std::string connect;
  std::string host;  // from --connect
  std::uint16_t port = 0;
  double rate = 50000;
  std::int64_t duration = 2'000'000'000, warmup = 100'000'000, spin = 0, drain = 5'000'000'000;
  std::uint32_t conns = 1, symbols = 64, accounts = 1024;
  std::uint64_t bad_after = 0, seed = 1;
  GenConfig g{.malformed = 0.1 / 100, .cancel = 10.0 / 100, .market = 5.0 / 100, .over_limit = 0.5 / 100};
};

void declare(Cli& c, Options& o) {
  c.text("--connect", o.connect, "ADDR", "the server, HOST:PORT (gmprun orders --listen)");
  c.number("--rate", o.rate, 1, 1e9, "N", "orders per second over all connections, Poisson arrivals (open loop)");
  c.duration("--duration", o.duration, "how long to send");
  c.duration("--warmup", o.warmup, "orders intended in this first part are not in the latency figures");
  c.integer("--conns", o.conns, 1, 1023, "N", "connections (one sender and one reader goroutine each)");
  c.integer("--symbols", o.symbols, 1, 1 << 16, "N", "symbols to trade (as the server's --symbols)");
  c.integer("--accounts", o.accounts, 1, 1 << 20, "N", "accounts to trade from (as the server's --accounts)");
  c.percent("--cancel", o.g.cancel,
            "percent of messages that cancel one of the 256 newest orders (besides the oldest, at 2048 live)");
  c.percent("--market", o.g.market, "percent of messages that are market orders");
  c.percent("--malformed", o.g.malformed, "percent of messages with a corrupted field (the server rejects them)");
  c.percent("--over-limit", o.g.over_limit, "percent of orders that break a risk limit");
  c.duration("--spin", o.spin,
             "yield in a loop when the next order is due within this, else sleep on a timer (0: always sleep)");
  c.duration("--drain", o.drain, "after the last send, wait at most this long for the reports");
  c.integer("--bad-frame-after", o.bad_after, 0, INT64_MAX, "N",
            "send a frame with a bad length after N orders (tests the server's close)");
  c.integer("--seed", o.seed, 0, INT64_MAX, "N", "random seed");
}

std::string help() {
  Options o;
  Cli c("orders-client");
  declare(c, o);
  return c.help();
}

std::string parse(int argc, char** argv, Options* o) {
  Cli c("orders-client");
  declare(c, *o);
  if (std::string err = parse_workload_options(c, argc, argv); !err.empty()) return err;
  if (!c.given("--connect")) return c.fail("--connect HOST:PORT is required (the address of gmprun orders --listen)");
  if (std::string err = split_host_port(o->connect, &o->host, &o->port); !err.empty())
    return c.fail("--connect " + err);
  if (o->duration <= 0) return c.fail("--duration must be more than 0 (like 2s)");
  if (o->g.cancel + o->g.market > 1) return c.fail("--cancel plus --market is over 100 percent");
  return "";
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

struct Conn {
  gmp::net::Stream stream;
  std::atomic<std::uint64_t> sent{0};
  std::uint64_t unsent = 0, write_errors = 0;  // sender-owned
  // Reader-owned.
  gmp::FineHistogram lat, server;
  std::uint64_t reports = 0, measured = 0, frame_errors = 0, fills = 0;
  std::uint64_t status[5] = {};
  std::uint64_t reasons[static_cast<int>(Reject::kCount) + 1] = {};
  std::int64_t last_ns = 0;
  bool eof = false;
};

void sender(Conn& c, const Options& o, GenConfig g, std::uint32_t index) {
  Rng rng(o.seed * 0x9E3779B97F4A7C15ull + 1000 + index);
  World w;
  w.u = orders::Universe{o.symbols, o.accounts};
  std::vector<std::uint32_t> syms;
  for (std::uint32_t i = 0; i < o.symbols; i++) syms.push_back(i);
  Flow flow;
  std::uint64_t seq = 0, sent = 0;
  // Ids below 2^40, as the protocol asks: 10 bits of connection, 30 of sequence.
  const std::uint64_t id_base = static_cast<std::uint64_t>(index + 1) << 30;
  auto gap = [&] { return -std::log(rng.unit()) * g.mean_gap_ns; };
  double next = static_cast<double>(g.start) + gap();
  std::vector<std::uint8_t> buf(kMaxBatch * orders::proto::kMaxFrame);
  bool failed = false;
  Msg m;
  while (next < static_cast<double>(g.end) && !failed) {
    std::int64_t now = now_ns();
    auto t = static_cast<std::int64_t>(next);
    if (t > now) {
      if (t - now > g.spin_ns) {
        gmp::sleep_until(gmp::TimePoint(std::chrono::nanoseconds(t - g.spin_ns / 2)));
      } else {
        gmp::yield();
      }
      continue;
    }
    std::size_t len = 0;
    std::uint32_t n = 0;
    while (n < kMaxBatch && next < static_cast<double>(g.end) && static_cast<std::int64_t>(next) <= now) {
      m = Msg();
      make_order(rng, g, w, syms, id_base | ++seq, flow, m);
      // Stamp the intended time into the frame's sent_ns (last 8 bytes).
      std::uint64_t stamp = static_cast<std::uint64_t>(next);
      for (int k = 0; k < 8; k++) m.frame[m.frame_len - 8 + k] = static_cast<std::uint8_t>(stamp >> (8 * k));
      std::memcpy(buf.data() + len, m.frame, m.frame_len);
      len += m.frame_len;
      n++;
      next += gap();
    }
    if (o.bad_after != 0 && sent < o.bad_after && sent + n >= o.bad_after) {
      std::uint8_t bad[3] = {7, 0, 1};  // a new order 7 bytes long
      std::memcpy(buf.data() + len, bad, sizeof bad);
      len += sizeof bad;
    }
    if (!c.stream.write(buf.data(), len)) {
      failed = true;  // the server closed (or the network failed)
      c.write_errors++;
      c.unsent += n;
      break;
    }
    sent += n;
    c.sent.store(sent, std::memory_order_release);
  }
  for (; next < static_cast<double>(g.end); next += gap()) c.unsent++;
  (void)c.stream.shutdown(SHUT_WR);
}

void reader(Conn& c, std::int64_t measure_from, std::int64_t give_up) {
  std::vector<std::uint8_t> buf(64 * 1024);
  std::size_t have = 0;
  c.stream.set_read_deadline(gmp::io::Deadline(std::chrono::nanoseconds(give_up)));
  for (;;) {
    auto r = c.stream.read(buf.data() + have, buf.size() - have);
    if (!r || r.value() == 0) {
      c.eof = r.ok();
      break;
    }
    std::int64_t now = now_ns();
    have += r.value();
    std::size_t off = 0;
    for (;;) {
      orders::proto::Report rep;
      std::size_t used = 0;
      orders::proto::FrameError fe = orders::proto::decode_report(buf.data() + off, have - off, &rep, &used);
      if (fe == orders::proto::FrameError::kNeedMore) break;
      if (fe != orders::proto::FrameError::kNone) {
        c.frame_errors++;
        return;
      }
      off += used;
      c.reports++;
      int st = static_cast<int>(rep.status);
      c.status[st >= 1 && st <= 4 ? st : 0]++;
      if (rep.status == Status::kRejected) {
        int k = static_cast<int>(rep.reason);
        c.reasons[k < static_cast<int>(Reject::kCount) ? k : static_cast<int>(Reject::kCount)]++;
      }
      c.fills += rep.fills;
      if (static_cast<std::int64_t>(rep.sent_ns) >= measure_from) {
        c.measured++;
        c.lat.record(static_cast<std::uint64_t>(now - static_cast<std::int64_t>(rep.sent_ns)));
        c.server.record(rep.server_ns);
      }
    }
    c.last_ns = now;
    std::memmove(buf.data(), buf.data() + off, have - off);
    have -= off;
  }
}

int client_main(int argc, char** argv, Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  auto addr = gmp::net::Addr::parse(o.host, o.port);
  if (!addr) {
    std::fprintf(stderr, "orders-client: --connect: '%s' is not an IPv4 or IPv6 address (like 127.0.0.1)\n",
                 o.host.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<Conn>> conns;
  for (std::uint32_t i = 0; i < o.conns; i++) {
    auto s = gmp::net::dial(*addr, gmp::io::after(std::chrono::seconds(5)));
    if (!s) {
      std::fprintf(stderr, "orders-client: cannot connect to %s: %s\n", addr->to_string().c_str(),
                   s.error().message().c_str());
      return 1;
    }
    (void)s->set_nodelay(true);
    conns.push_back(std::make_unique<Conn>());
    conns.back()->stream = std::move(s.value());
  }
  GenConfig g = o.g;
  g.mean_gap_ns = 1e9 * o.conns / o.rate;
  g.spin_ns = o.spin;
  g.start = now_ns() + 1'000'000;
  g.end = g.start + o.duration;
  std::int64_t give_up = g.end + o.drain;
  gmp::WaitGroup wg;
  wg.add(2 * static_cast<std::int64_t>(o.conns));
  for (std::uint32_t i = 0; i < o.conns; i++) {
    Conn* c = conns[i].get();
    std::int64_t from = g.start + o.warmup;
    gmp::go([c, &o, g, i, &wg] {
      sender(*c, o, g, i);
      wg.done();
    });
    gmp::go([c, from, give_up, &wg] {
      reader(*c, from, give_up);
      wg.done();
    });
  }
  wg.wait();

  HistogramSnapshot lat, server;
  std::uint64_t sent = 0, unsent = 0, reports = 0, measured = 0, frame_errors = 0, fills = 0, write_errors = 0;
  std::uint64_t status[5] = {}, reasons[static_cast<int>(Reject::kCount) + 1] = {};
  std::int64_t last = g.start;
  bool all_eof = true;
  for (auto& c : conns) {
    c->lat.add_to(lat);
    c->server.add_to(server);
    sent += c->sent.load();
    unsent += c->unsent;
    reports += c->reports;
    measured += c->measured;
    frame_errors += c->frame_errors;
    fills += c->fills;
    write_errors += c->write_errors;
    for (int k = 0; k < 5; k++) status[k] += c->status[k];
    for (int k = 0; k <= static_cast<int>(Reject::kCount); k++) reasons[k] += c->reasons[k];
    last = std::max(last, c->last_ns);
    // A failed write ended the connection too: its reader may then see an
    // end of stream (the reset's error goes to the first call that asks).
    all_eof = all_eof && c->eof && c->write_errors == 0;
    (void)c->stream.close();
  }
  double window_s = static_cast<double>(o.duration) / 1e9;
  double busy_s = std::max(window_s, static_cast<double>(last - g.start) / 1e9);
  out.set("rate_asked", o.rate);
  out.set("rate_offered", static_cast<double>(sent + unsent) / window_s);
  out.set("rate_achieved", static_cast<double>(reports) / busy_s);
  out.set("sent", sent);
  out.set("unsent", unsent);
  out.set("reports", reports);
  out.set("lost", sent - std::min(sent, reports));
  out.set("latency_samples", measured);
  out.set("lat_p50_us", static_cast<double>(lat.quantile(0.5)) / 1e3);
  out.set("lat_p99_us", static_cast<double>(lat.quantile(0.99)) / 1e3);
  out.set("lat_p999_us", static_cast<double>(lat.quantile(0.999)) / 1e3);
  out.set("lat_max_us", static_cast<double>(lat.max) / 1e3);
  out.set("server_p50_us", static_cast<double>(server.quantile(0.5)) / 1e3);
  out.set("server_p99_us", static_cast<double>(server.quantile(0.99)) / 1e3);
  out.set("filled", status[static_cast<int>(Status::kFilled)]);
  out.set("resting", status[static_cast<int>(Status::kResting)]);
  out.set("cancelled", status[static_cast<int>(Status::kCancelled)]);
  out.set("rejected", status[static_cast<int>(Status::kRejected)]);
  out.set("fills", fills);
  for (int k = 1; k <= static_cast<int>(Reject::kCount); k++) {
    if (reasons[k] == 0) continue;
    const char* name = k < static_cast<int>(Reject::kCount) ? orders::reject_name(static_cast<Reject>(k)) : "invalid";
    out.set(std::string("reject_") + name, reasons[k]);
  }
  out.set("write_errors", write_errors);
  out.set("report_frame_errors", frame_errors);
  out.set("server_closed_cleanly", all_eof);
  // Every order sent must be answered. With --bad-frame-after the server
  // closes at the bad frame: what came after it is never read, and the close
  // may be a reset; the orders before it must still be answered.
  bool ok = o.bad_after != 0 ? frame_errors == 0 && reports >= std::min(o.bad_after, sent)
                             : reports == sent && frame_errors == 0 && all_eof && unsent == 0 && write_errors == 0;
  if (!ok) {
    std::fprintf(stderr, "orders-client: %llu of %llu orders answered (%llu never sent, %llu write errors, %s)\n",
                 static_cast<unsigned long long>(reports), static_cast<unsigned long long>(sent),
                 static_cast<unsigned long long>(unsent), static_cast<unsigned long long>(write_errors),
                 all_eof ? "server closed cleanly" : "the connection did not end cleanly");
  }
  out.set("check", ok);
  return ok ? 0 : 1;
}

const gmp::tools::WorkloadRegistration reg{
    {"orders-client", "open-loop TCP load for 'gmprun orders --listen' (latency from each order's intended time)",
     help, client_main, check}};

}  // namespace
}  // namespace gmp::tools::orders_wl
