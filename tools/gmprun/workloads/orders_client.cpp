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

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
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
  std::int64_t reconnect_for = 5'000'000'000;
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
  c.duration("--reconnect-for", o.reconnect_for,
             "when a connection breaks, try to connect again for at most this long (10 ms between tries, "
             "doubling to 1 s; 0: do not reconnect)");
  c.integer("--bad-frame-after", o.bad_after, 0, INT64_MAX, "N",
            "send a frame with a bad length after N orders (tests the server's close)");
  c.integer("--seed", o.seed, 0, INT64_MAX, "N", "random seed");
}

std::string help() { return gmp::tools::workload_help<Options>("orders-client", declare); }

std::string parse(int argc, char** argv, Options* o) {
  Cli c("orders-client");
  declare(c, *o);
  if (std::string err = parse_workload_options(c, argc, argv); !err.empty()) return err;
  if (!c.given("--connect")) return c.fail("--connect HOST:PORT is required (the address of gmprun orders --listen)");
  if (std::string err = split_host_port(o->connect, &o->host, &o->port); !err.empty())
    return c.fail("--connect " + err);
  if (o->duration <= 0) return c.fail("--duration must be more than 0 (like 2s)");
  if (o->reconnect_for > 3'600'000'000'000)
    return c.fail("--reconnect-for '" + c.value("--reconnect-for") + "' is over 60m (like 5s, or 0 not to reconnect)");
  if (o->g.cancel + o->g.market > 1) return c.fail("--cancel plus --market is over 100 percent");
  return "";
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

struct Conn {
  std::atomic<std::uint64_t> sent{0};
  // Owned by the connection's driver (sender) goroutine.
  std::uint64_t unsent = 0, write_errors = 0, lost_in_flight = 0, unanswered = 0, reconnects = 0;
  bool gave_up = false, timed_out = false, ended_cleanly = false;
  std::int64_t tried_ns = 0;  // how long the last reconnection was tried, when it gave up
  int tries = 0;
  std::string last_error;
  // Owned by the reader of the current connection (one at a time).
  gmp::FineHistogram lat, server;
  std::uint64_t reports = 0, measured = 0, frame_errors = 0, fills = 0;
  std::uint64_t status[5] = {};
  std::uint64_t reasons[static_cast<int>(Reject::kCount) + 1] = {};
  std::int64_t last_ns = 0;
};

// One TCP connection of a Conn: the driver writes, a reader goroutine reads.
// Either side that sees it break (a failed write, a read error, an end of
// stream while the driver is still sending) marks it broken and shuts the
// socket down, which wakes the other one (queued reports are still read).
struct Link {
  enum class End { kEof, kError, kTimedOut, kFrameError };
  gmp::net::Stream stream;
  std::atomic<bool> broken{false}, sending{true};
  std::uint64_t answered = 0;  // reader-owned; read after done.wait()
  End end = End::kEof;
  gmp::WaitGroup done;
  void mark_broken() {
    broken.store(true, std::memory_order_release);
    (void)stream.shutdown(SHUT_RDWR);
  }
};

void reader(Conn& c, Link& l, std::int64_t measure_from, std::int64_t give_up) {
  std::vector<std::uint8_t> buf(64 * 1024);
  std::size_t have = 0;
  l.stream.set_read_deadline(gmp::io::Deadline(std::chrono::nanoseconds(give_up)));
  for (;;) {
    auto r = l.stream.read(buf.data() + have, buf.size() - have);
    if (!r || r.value() == 0) {
      l.end = r.ok() ? Link::End::kEof : r.err() == ETIMEDOUT ? Link::End::kTimedOut : Link::End::kError;
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
        l.end = Link::End::kFrameError;
        l.mark_broken();
        return;
      }
      off += used;
      c.reports++;
      l.answered++;
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
  // An end of stream (or an error) while the driver still sends is a break.
  if (l.sending.load(std::memory_order_acquire)) l.mark_broken();
}

// Connects again after a break: tries at once, then after 10 ms, doubling to
// 1 s between tries, for at most `budget` in all. Sets c.tries, c.tried_ns
// and c.last_error.
bool redial(Conn& c, const gmp::net::Addr& addr, std::int64_t budget, gmp::net::Stream* out) {
  const std::int64_t start = now_ns(), stop = start + budget;
  std::int64_t delay = 10'000'000;
  c.tries = 0;
  for (;;) {
    c.tries++;
    std::int64_t left = stop - now_ns();
    auto s = gmp::net::dial(addr,
                            gmp::io::after(std::chrono::nanoseconds(std::clamp<std::int64_t>(left, 1, 1'000'000'000))));
    if (s) {
      (void)s->set_nodelay(true);
      *out = std::move(s.value());
      return true;
    }
    c.last_error = s.error().message();
    std::int64_t now = now_ns();
    if (now + delay >= stop) {
      c.tried_ns = now - start;
      return false;
    }
    gmp::sleep_for(std::chrono::nanoseconds(delay));
    delay = std::min<std::int64_t>(2 * delay, 1'000'000'000);
  }
}

// One connection's sender and driver: generates and writes the orders; when
// the connection breaks, counts what was written on it and not answered as
// lost in flight (never resent), connects again and goes on with the orders
// not yet written.
void run_conn(Conn& c, gmp::net::Stream first, const gmp::net::Addr& addr, const Options& o, GenConfig g,
              std::uint32_t index, std::int64_t measure_from, std::int64_t give_up) {
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
  bool bad_sent = false;
  gmp::net::Stream stream = std::move(first);
  Msg m;
  for (;;) {
    auto l = std::make_unique<Link>();
    l->stream = std::move(stream);
    l->done.add(1);
    Link* lp = l.get();
    gmp::go([&c, lp, measure_from, give_up] {
      reader(c, *lp, measure_from, give_up);
      lp->done.done();
    });
    std::uint64_t written = 0;  // on this connection
    while (next < static_cast<double>(g.end) && !l->broken.load(std::memory_order_acquire)) {
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
        bad_sent = true;
      }
      // A failed write may have delivered part of the batch: its orders count
      // as sent (and, unanswered, lost in flight), never as resendable.
      sent += n;
      written += n;
      c.sent.store(sent, std::memory_order_release);
      if (!l->stream.write(buf.data(), len)) {
        c.write_errors++;
        l->mark_broken();
      }
    }
    l->sending.store(false, std::memory_order_release);
    if (!l->broken.load(std::memory_order_acquire)) (void)l->stream.shutdown(SHUT_WR);
    l->done.wait();
    (void)l->stream.close();
    const std::uint64_t missing = written - std::min(written, l->answered);
    c.ended_cleanly = l->end == Link::End::kEof && missing == 0 && !l->broken.load(std::memory_order_acquire);
    if (c.ended_cleanly) break;
    if (l->end == Link::End::kTimedOut || l->end == Link::End::kFrameError) {
      // Not a network break: the server did not answer within --drain, or
      // answered with garbage. What it left unanswered is not in flight.
      c.timed_out = c.timed_out || l->end == Link::End::kTimedOut;
      c.unanswered += missing;
      break;
    }
    c.lost_in_flight += missing;
    // Nothing left to send, a connection the server closed on purpose (the
    // bad frame), or reconnection turned off: this connection is done.
    if (next >= static_cast<double>(g.end) || bad_sent || o.reconnect_for == 0) break;
    if (!redial(c, addr, o.reconnect_for, &stream)) {
      c.gave_up = true;
      break;
    }
    c.reconnects++;
  }
  for (; next < static_cast<double>(g.end); next += gap()) c.unsent++;
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
  std::vector<gmp::net::Stream> streams;
  for (std::uint32_t i = 0; i < o.conns; i++) {
    auto s = gmp::net::dial(*addr, gmp::io::after(std::chrono::seconds(5)));
    if (!s) {
      std::fprintf(stderr, "orders-client: cannot connect to %s: %s\n", addr->to_string().c_str(),
                   s.error().message().c_str());
      return 1;
    }
    (void)s->set_nodelay(true);
    conns.push_back(std::make_unique<Conn>());
    streams.push_back(std::move(s.value()));
  }
  GenConfig g = o.g;
  g.mean_gap_ns = 1e9 * o.conns / o.rate;
  g.spin_ns = o.spin;
  g.start = now_ns() + 1'000'000;
  g.end = g.start + o.duration;
  std::int64_t give_up = g.end + o.drain;
  gmp::WaitGroup wg;
  wg.add(static_cast<std::int64_t>(o.conns));
  for (std::uint32_t i = 0; i < o.conns; i++) {
    Conn* c = conns[i].get();
    std::int64_t from = g.start + o.warmup;
    gmp::net::Stream* st = &streams[i];
    gmp::go([c, st, &addr, &o, g, i, from, give_up, &wg] {
      run_conn(*c, std::move(*st), *addr, o, g, i, from, give_up);
      wg.done();
    });
  }
  wg.wait();

  HistogramSnapshot lat, server;
  std::uint64_t sent = 0, unsent = 0, reports = 0, measured = 0, frame_errors = 0, fills = 0, write_errors = 0;
  std::uint64_t lost_in_flight = 0, reconnects = 0;
  const Conn* gave_up = nullptr;
  bool timed_out = false;
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
    lost_in_flight += c->lost_in_flight;
    reconnects += c->reconnects;
    if (c->gave_up && gave_up == nullptr) gave_up = c.get();
    timed_out = timed_out || c->timed_out;
    // The last connection of each ended at an end of stream with every
    // order written on it answered.
    all_eof = all_eof && c->ended_cleanly;
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
  out.set("lost_in_flight", lost_in_flight);
  out.set("reconnects", reconnects);
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
  // Every order sent must be answered, but for those written on a
  // connection that broke (lost in flight: the network or the server lost
  // them, the client cannot tell which); with reconnection every order is
  // sent. With --bad-frame-after the server closes at the bad frame: what
  // came after it is never read, and the close may be a reset; the orders
  // before it must still be answered.
  bool ok = o.bad_after != 0 ? frame_errors == 0 && reports >= std::min(o.bad_after, sent)
                             : reports + lost_in_flight == sent && frame_errors == 0 && unsent == 0 && !timed_out &&
                                   gave_up == nullptr;
  if (!ok && gave_up != nullptr) {
    std::fprintf(stderr,
                 "orders-client: gave up reconnecting to %s after %.1f s (%d tries; last: %s): %llu of %llu orders "
                 "answered, %llu lost in flight, %llu never sent\n",
                 addr->to_string().c_str(), static_cast<double>(gave_up->tried_ns) / 1e9, gave_up->tries,
                 gave_up->last_error.c_str(), static_cast<unsigned long long>(reports),
                 static_cast<unsigned long long>(sent), static_cast<unsigned long long>(lost_in_flight),
                 static_cast<unsigned long long>(unsent));
  } else if (!ok) {
    std::fprintf(stderr, "orders-client: %llu of %llu orders answered (%llu lost in flight, %llu never sent, %s)\n",
                 static_cast<unsigned long long>(reports), static_cast<unsigned long long>(sent),
                 static_cast<unsigned long long>(lost_in_flight), static_cast<unsigned long long>(unsent),
                 timed_out           ? "no answer within --drain"
                 : frame_errors != 0 ? "a report frame was malformed"
                 : all_eof           ? "server closed cleanly"
                                     : "a connection did not end cleanly");
  }
  out.set("check", ok);
  return ok ? 0 : 1;
}

const gmp::tools::WorkloadRegistration reg{
    {"orders-client", "open-loop TCP load for 'gmprun orders --listen' (latency from each order's intended time)",
     help, client_main, check}};

}  // namespace
}  // namespace gmp::tools::orders_wl
