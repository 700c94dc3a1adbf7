// workloads/soak.cpp — everything at once, for scripts/soak.sh: the http
// built-in's server (for wrk), channel traffic with exact accounting whose
// messages are pool objects freed on whichever P receives them,
// stop-the-world stops (every 10th a pool sweep), and set_procs walking the
// P count between --min-procs and --max-procs; until SIGINT/SIGTERM or
// --duration. gmprun's SIGHUP reloads and SIGQUIT dumps, metrics scrapes and
// a tracer come from outside (soak.sh).
//
// At the end every message sent was received exactly once (per producer:
// count and sum of sequence numbers) and every pool object allocated was
// freed; the summary says check=true, or the workload exits 1 naming what
// was lost.
//
// set_procs refuses to remove a P that has io operations in flight (gmp/stw.hpp):
// the listener's accept, the stop pipe's read and the --duration sleep live
// as long as the run, so the walk stays at or above the starting P count by
// default, where only connections' reads can hold a P (wrk's keep-alive
// connections do, until wrk stops). Refusals are counted, not errors.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "http_serve.hpp"
#include "tcp_server.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;
namespace tcp = gmp::tools::tcp;
using namespace std::chrono_literals;

struct Options {
  tcp::Options server{8080};
  int pairs = 4;
  std::int64_t stw_ns = 20'000'000, procs_ns = 500'000'000;
  int min_procs = 1, max_procs = 0;  // max not given: from the starting P count
};

void declare(Cli& c, Options& o) {
  tcp::declare(c, o.server);
  c.integer("--pairs", o.pairs, 1, 1024, "N", "producer/consumer goroutine pairs on one buffered channel");
  c.duration("--stw-every", o.stw_ns, "stop the world this often (every 10th stop is a pool sweep)");
  c.duration("--procs-every", o.procs_ns, "change the P count by one this often, between --min-procs and --max-procs");
  c.integer("--min-procs", o.min_procs, 1, 256, "N", "the fewest Ps set_procs goes down to");
  c.integer("--max-procs", o.max_procs, 1, 256, "N", "the most Ps set_procs goes up to")
      .default_str("the starting P count + 2");
}

std::string help() { return gmp::tools::workload_help<Options>("soak", declare); }

// One message: a pool object (tiers rotate), checked and freed by its receiver.
struct Msg {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t seq;
  std::uint64_t check;  // seq * kMix ^ producer: a torn or foreign object fails it
};
constexpr std::uint64_t kMix = 0x9E3779B97F4A7C15ull;

struct alignas(64) PerProducer {
  std::atomic<std::uint64_t> sent{0}, sent_sum{0}, received{0}, received_sum{0};
};

int soak_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  Cli c("soak");
  declare(c, o);
  std::string err = gmp::tools::parse_workload_options(c, argc, argv);
  if (err.empty()) err = tcp::check(c, o.server);
  if (!err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  const int pairs = o.pairs;
  const std::int64_t stw_ns = o.stw_ns, procs_ns = o.procs_ns;
  const int start_procs = gmp::procs();
  const int min_procs = o.min_procs;
  const int max_procs = c.given("--max-procs") ? o.max_procs : start_procs + 2;
  if (min_procs >= max_procs) {
    std::fprintf(stderr, "soak: --min-procs %d must be below --max-procs %d\n", min_procs, max_procs);
    return 2;
  }
  if (stw_ns <= 0 || procs_ns <= 0) {
    const std::string opt = stw_ns <= 0 ? "--stw-every" : "--procs-every";
    std::fprintf(stderr, "%s\n", c.fail(opt + " '" + c.value(opt) + "' must be more than 0, like 20ms").c_str());
    return 2;
  }

  std::atomic<bool> stop{false};
  std::vector<PerProducer> per(static_cast<std::size_t>(pairs));
  std::atomic<std::uint64_t> bad_msgs{0}, allocs{0}, frees{0}, stw_stops{0}, sweeps{0}, procs_up{0}, procs_down{0},
      procs_refused{0};
  gmp::Chan<Msg*> ch(64);
  gmp::WaitGroup producers, consumers, chaos;

  for (int i = 0; i < pairs; ++i) {
    producers.add(1);
    gmp::go([&, i] {
      PerProducer& me = per[static_cast<std::size_t>(i)];
      const gmp::pool::Tier tiers[] = {gmp::pool::Tier::kFast, gmp::pool::Tier::kTxn, gmp::pool::Tier::kStable};
      for (std::uint64_t seq = 1; !stop.load(std::memory_order_relaxed); ++seq) {
        auto* m = static_cast<Msg*>(gmp::pool::allocate(sizeof(Msg) + (seq % 7) * 24, tiers[seq % 3]));
        allocs.fetch_add(1, std::memory_order_relaxed);
        *m = Msg{static_cast<std::uint32_t>(i), 0, seq, seq * kMix ^ static_cast<std::uint64_t>(i)};
        ch.send(m);
        me.sent.fetch_add(1, std::memory_order_relaxed);
        me.sent_sum.fetch_add(seq, std::memory_order_relaxed);
        if (seq % 256 == 0) gmp::sleep_for(1ms);  // leave the CPUs to the http load too
      }
      producers.done();
    });
    consumers.add(1);
    gmp::go([&] {
      while (std::optional<Msg*> got = ch.recv()) {
        Msg* m = *got;
        if (m->producer >= per.size() || m->check != (m->seq * kMix ^ m->producer)) {
          bad_msgs.fetch_add(1, std::memory_order_relaxed);
        } else {
          PerProducer& p = per[m->producer];
          p.received.fetch_add(1, std::memory_order_relaxed);
          p.received_sum.fetch_add(m->seq, std::memory_order_relaxed);
        }
        gmp::pool::deallocate(m);
        frees.fetch_add(1, std::memory_order_relaxed);
      }
      consumers.done();
    });
  }
  chaos.add(2);
  gmp::go([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      gmp::sleep_for(std::chrono::nanoseconds(stw_ns));
      if (stw_stops.fetch_add(1, std::memory_order_relaxed) % 10 == 9) {
        (void)gmp::stw::sweep_pools();
        sweeps.fetch_add(1, std::memory_order_relaxed);
      } else {
        gmp::stw::stop_the_world(gmp::stw::Reason::kUser);
        gmp::stw::start_the_world();
      }
    }
    chaos.done();
  });
  gmp::go([&] {
    int step = start_procs > min_procs ? -1 : 1;
    while (!stop.load(std::memory_order_relaxed)) {
      gmp::sleep_for(std::chrono::nanoseconds(procs_ns));
      int n = gmp::procs();
      if (n + step < min_procs || n + step > max_procs) step = -step;
      if (gmp::Status st = gmp::set_procs(n + step); st.ok()) {
        (step > 0 ? procs_up : procs_down).fetch_add(1, std::memory_order_relaxed);
      } else {
        // Legitimate and counted (a removed P with io in flight, a stop
        // that timed out); the next period tries again.
        if (procs_refused.fetch_add(1, std::memory_order_relaxed) < 3)
          std::fprintf(stderr, "soak: set_procs(%d) refused: %s\n", n + step, st.message().c_str());
      }
    }
    chaos.done();
  });

  tcp::Counters n;
  gmp::tools::http::Limits lim;
  int rc = tcp::run_server("soak", o.server, n, out,
                           [lim](gmp::net::Stream& s, tcp::Counters& cn) { gmp::tools::http::serve(s, cn, lim); });
  stop.store(true);
  producers.wait();
  ch.close();  // consumers drain what is buffered, then see the close
  consumers.wait();
  chaos.wait();
  if (rc != 0) return rc;

  std::uint64_t sent = 0, received = 0, lost = 0, extra = 0, sum_mismatch = 0;
  for (const PerProducer& p : per) {
    sent += p.sent.load();
    received += p.received.load();
    if (p.received.load() < p.sent.load()) lost += p.sent.load() - p.received.load();
    if (p.received.load() > p.sent.load()) extra += p.received.load() - p.sent.load();
    if (p.received_sum.load() != p.sent_sum.load()) sum_mismatch++;
  }
  bool ok = lost == 0 && extra == 0 && sum_mismatch == 0 && bad_msgs.load() == 0 && allocs.load() == frees.load();
  out.set("chan_sent", sent);
  out.set("chan_received", received);
  out.set("chan_lost", lost);
  out.set("chan_duplicated", extra);
  out.set("chan_sum_mismatches", sum_mismatch);
  out.set("chan_bad_messages", bad_msgs.load());
  out.set("pool_objects_allocated", allocs.load());
  out.set("pool_objects_freed", frees.load());
  out.set("stw_stops", stw_stops.load());
  out.set("pool_sweeps", sweeps.load());
  out.set("procs_up", procs_up.load());
  out.set("procs_down", procs_down.load());
  out.set("procs_refused", procs_refused.load());
  // io operations that waited on a removed P (the listener's accept, the
  // stop pipe's read) and ran again on another.
  out.set("io_migrated", gmp::io::io_stats().migrated);
  out.set("procs_max", static_cast<std::uint64_t>(max_procs));
  out.set("check", ok);
  if (!ok) {
    std::fprintf(stderr,
                 "soak: accounting failed: %llu of %llu messages lost, %llu duplicated, %llu producers' sums differ, "
                 "%llu malformed, %llu pool objects allocated vs %llu freed\n",
                 static_cast<unsigned long long>(lost), static_cast<unsigned long long>(sent),
                 static_cast<unsigned long long>(extra), static_cast<unsigned long long>(sum_mismatch),
                 static_cast<unsigned long long>(bad_msgs.load()), static_cast<unsigned long long>(allocs.load()),
                 static_cast<unsigned long long>(frees.load()));
    return 1;
  }
  return 0;
}

const gmp::tools::WorkloadRegistration reg{
    {"soak", "everything at once for scripts/soak.sh: http, exact channel traffic, STW stops, set_procs cycling",
     help, soak_main}};

}  // namespace
