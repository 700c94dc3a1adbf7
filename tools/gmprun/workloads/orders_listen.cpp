// workloads/orders_listen.cpp — `gmprun orders --listen ADDR`: the pipeline
// behind TCP (docs/ORDERS.md, "Over TCP").
//
// Each connection is a session with two goroutines. The reader reads,
// decodes whole frames (its decode is the parse stage), groups the orders of
// one read by shard into batches and sends them to the shards' risk stages;
// the writer receives the session's batches from the subscribers, writes one
// report frame per message, and frees them. A frame error (bad length,
// unknown or unexpected type) ends the session: it is counted by reason, the
// frames before it are still answered, and the connection is closed — no
// other session notices. A session ends when the client closes its side, at
// a frame error, or when the server stops (its socket is shut down for
// reading); it waits for its in-flight batches to be written before closing.
//
// Backpressure: a client that stops reading blocks its writer, then its
// shards' subscribers; writes have a 5 s deadline, after which that session's
// reports are dropped (counted as write_errors) so no one else waits longer.
//
// A connection cut mid-stream (a reset, a relay that closes, a client that
// dies) ends only its session, and what it drops is counted: a read error
// (closed_read_error), the bytes of a frame cut short (closed_mid_frame,
// mid_frame_bytes), and every report that could not be written once a write
// failed (reports_dropped). Every whole frame read is still answered or
// counted as dropped: frames = reports written + reports_dropped.
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <list>
#include <vector>

#include "orders_report.hpp"
#include "tcp_server.hpp"

namespace gmp::tools::orders_wl {

struct Session {
  gmp::net::Stream stream;
  gmp::Chan<Batch*> out{4096};
  std::atomic<std::int64_t> in_flight{0};  // batches sent to the pipeline, not yet written back
  // Client ids are below 2^40; the books see (session number << 40) | id, so
  // sessions cannot collide with (or cancel) each other's orders.
  std::uint64_t id_prefix = 0;
  gmp::WaitGroup writer_done;
  // Reader-owned until the session ends.
  std::uint64_t frames = 0, bytes_in = 0;
  orders::proto::FrameError error = orders::proto::FrameError::kNone;
  // Writer-owned until the session ends.
  std::uint64_t bytes_out = 0, write_errors = 0, reports_dropped = 0;
};

// The session lives until its writer has written this batch (in_flight), so
// reading b->session is safe; the copied handle keeps the channel alive
// through the whole send, even once the writer has taken b and the session
// is being torn down.
void deliver_to_session(Batch* b) {
  gmp::Chan<Batch*> out = b->session->out;
  out.send(b);
}

namespace {

constexpr auto kWriteDeadline = std::chrono::seconds(5);
constexpr std::uint64_t kClientIdLimit = std::uint64_t{1} << 40;

void writer(Session* s) {
  std::uint8_t buf[kMaxBatch * orders::proto::kMaxFrame];
  bool failed = false;
  while (auto bp = s->out.recv()) {
    Batch* b = *bp;
    std::size_t len = 0;
    std::int64_t now = now_ns();
    Msg* m = b->msgs();
    for (std::uint32_t i = 0; i < b->n; i++) {
      orders::proto::Report r;
      r.status = m[i].out.status;
      r.reason = m[i].out.reason;
      r.filled = m[i].out.filled;
      r.leaves = m[i].out.leaves;
      r.fills = m[i].nfills;
      r.id = m[i].order.id & (kClientIdLimit - 1);
      r.sent_ns = m[i].client_sent;
      r.server_ns = static_cast<std::uint64_t>(now - m[i].t_intended);
      len += orders::proto::encode_report(buf + len, r);
    }
    if (!failed) {
      s->stream.set_write_deadline(gmp::io::after(kWriteDeadline));
      if (!s->stream.write(buf, len)) {
        failed = true;
        s->write_errors++;
      } else {
        s->bytes_out += len;
      }
    }
    if (failed) s->reports_dropped += b->n;
    free_batch(b);
    s->in_flight.fetch_sub(1, std::memory_order_release);
  }
  s->writer_done.done();
}

class Server {
 public:
  Server(Pipeline& p, RunTotals& t) : p_(p), t_(t) {}

  void session(Session* s) {
    std::vector<std::uint8_t> buf(64 * 1024);
    std::size_t have = 0;
    std::vector<Batch*> pending(p_.shards(), nullptr);
    const std::uint32_t symbols = p_.config().universe.symbols;
    auto flush = [&](std::uint32_t shard, std::int64_t arrival) {
      Batch* b = pending[shard];
      if (b == nullptr) return;
      pending[shard] = nullptr;
      b->t_sent = arrival;
      b->t_parsed = now_ns();
      s->in_flight.fetch_add(1, std::memory_order_relaxed);
      p_.shard(shard).risk_in.send(Item{b, nullptr});
    };
    bool read_error = false;
    for (;;) {
      auto r = s->stream.read(buf.data() + have, buf.size() - have);
      if (!r || r.value() == 0) {
        read_error = !r;
        break;
      }
      std::int64_t arrival = now_ns();
      s->bytes_in += r.value();
      have += r.value();
      std::size_t off = 0;
      for (;;) {
        orders::proto::Request req;
        std::size_t used = 0;
        orders::proto::FrameError fe = orders::proto::decode_request(buf.data() + off, have - off, &req, &used);
        if (fe == orders::proto::FrameError::kNeedMore) break;
        if (fe != orders::proto::FrameError::kNone) {
          s->error = fe;
          break;
        }
        off += used;
        s->frames++;
        // An unknown symbol goes to shard 0, whose risk stage rejects it.
        std::uint32_t shard = req.order.symbol < symbols ? p_.shard_of(req.order.symbol) : 0;
        Batch*& b = pending[shard];
        if (b == nullptr) {
          b = new_batch(kMaxBatch, shard);
          b->session = s;
          b->validated = false;
        }
        Msg& m = b->msgs()[b->n++];
        m.order = req.order;
        m.is_cancel = req.order.kind == orders::Kind::kCancel;
        m.field_error = req.field_error;
        if (req.order.id >= kClientIdLimit) {
          if (m.field_error == Reject::kNone) m.field_error = Reject::kBadField;
        } else if (req.order.id != 0) {
          m.order.id |= s->id_prefix;
        }
        m.t_intended = arrival;
        m.client_sent = req.sent_ns;
        if (b->n == b->cap) flush(shard, arrival);
      }
      for (std::uint32_t i = 0; i < pending.size(); i++) flush(i, arrival);
      if (s->error != orders::proto::FrameError::kNone) break;
      std::memmove(buf.data(), buf.data() + off, have - off);
      have -= off;
    }
    // Everything sent is answered before the connection closes.
    while (s->in_flight.load(std::memory_order_acquire) != 0) gmp::sleep_for(std::chrono::microseconds(100));
    s->out.close();
    s->writer_done.wait();
    (void)s->stream.close();
    {
      std::lock_guard<gmp::Mutex> g(mu_);
      t_.frames += s->frames;
      t_.bytes_in += s->bytes_in;
      t_.bytes_out += s->bytes_out;
      t_.write_errors += s->write_errors;
      t_.reports_dropped += s->reports_dropped;
      t_.closed_read_error += read_error;
      if (have != 0 && s->error == orders::proto::FrameError::kNone) {
        t_.closed_mid_frame++;
        t_.mid_frame_bytes += have;
      }
      if (s->error != orders::proto::FrameError::kNone) t_.frame_errors[static_cast<int>(s->error)]++;
      for (auto it = live_.begin(); it != live_.end(); ++it) {
        if (*it == s) {
          live_.erase(it);
          break;
        }
      }
    }
    s->~Session();
    gmp::pool::deallocate(s, sizeof(Session));
    sessions_.done();
  }

  void start(gmp::net::Stream st) {
    void* mem = gmp::pool::allocate(sizeof(Session), gmp::pool::Tier::kStable);
    if (mem == nullptr) return;
    auto* s = ::new (mem) Session();
    s->stream = std::move(st);
    s->id_prefix = ++sessions_started_ << 40;
    s->writer_done.add(1);
    {
      std::lock_guard<gmp::Mutex> g(mu_);
      live_.push_back(s);
    }
    sessions_.add(1);
    gmp::go([s] { writer(s); });
    gmp::go([this, s] { session(s); });
  }

  // Stops every live session's reader (its read returns end of stream).
  void shut_all() {
    std::lock_guard<gmp::Mutex> g(mu_);
    for (Session* s : live_) ::shutdown(s->stream.fd(), SHUT_RD);
  }
  void wait() { sessions_.wait(); }

 private:
  Pipeline& p_;
  RunTotals& t_;
  gmp::Mutex mu_;
  std::list<Session*> live_;  // GMP_GUARDED_BY(mu_)
  gmp::WaitGroup sessions_;
  std::uint64_t sessions_started_ = 0;  // accept loop only
};

}  // namespace

int serve(const std::string& addr_s, std::int64_t duration_ns, Pipeline& p, RunTotals& t, Summary& out) {
  (void)out;
  t.tcp = true;
  std::string host;
  std::uint16_t port = 0;
  (void)split_host_port(addr_s, &host, &port);  // checked with the options
  // No generator: the parse stages have nothing to wait for but the
  // listener, which holds each shard's risk input open until it is done.
  for (std::uint32_t i = 0; i < p.shards(); i++) {
    p.add_risk_sender(i, 1);
    p.shard(i).parse_in.close();
  }
  auto release = [&] {
    for (std::uint32_t i = 0; i < p.shards(); i++) p.risk_sender_done(i);
  };
  auto addr = gmp::net::Addr::parse(host, port);
  if (!addr) {
    std::fprintf(stderr, "orders: --listen '%s': '%s' is not an IPv4 or IPv6 address (like 127.0.0.1 or ::1)\n",
                 addr_s.c_str(), host.c_str());
    release();
    return 2;
  }
  auto l = gmp::net::Listener::listen(*addr);
  if (!l) {
    std::fprintf(stderr, "orders: cannot listen on %s: %s\n", addr->to_string().c_str(), l.error().message().c_str());
    release();
    return 1;
  }
  std::fprintf(stderr, "orders: listening on %s (io: %s)\n", l->addr()->to_string().c_str(),
               gmp::io::backend_description().c_str());
  std::fflush(stderr);
  namespace tcp = gmp::tools::tcp;
  gmp::io::CancelToken stop, sleep_cancel;
  gmp::WaitGroup helpers;
  if (pipe2(tcp::stop_pipe, O_CLOEXEC) == 0) {
    struct sigaction sa {};
    sa.sa_handler = tcp::on_stop_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    helpers.add(1);
    gmp::go([&stop, &helpers] {
      char c;
      (void)gmp::io::read(tcp::stop_pipe[0], &c, 1);
      stop.cancel();
      helpers.done();
    });
  }
  if (duration_ns > 0) {
    helpers.add(1);
    gmp::go([duration_ns, &sleep_cancel, &helpers] {
      if (gmp::io::sleep_until(gmp::io::after(std::chrono::nanoseconds(duration_ns)), &sleep_cancel).ok())
        tcp::on_stop_signal(0);
      helpers.done();
    });
  }
  Server srv(p, t);
  t.start_ns = now_ns();
  for (;;) {
    auto s = l->accept(&stop);
    if (!s) {
      if (s.err() == ECANCELED) break;
      if (s.err() == EMFILE || s.err() == ENFILE) gmp::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    t.connections++;
    (void)s->set_nodelay(true);
    srv.start(std::move(s.value()));
  }
  (void)l->close();
  t.end_ns = now_ns();
  srv.shut_all();
  srv.wait();
  sleep_cancel.cancel();
  tcp::on_stop_signal(0);
  helpers.wait();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  ::close(tcp::stop_pipe[0]);
  ::close(tcp::stop_pipe[1]);
  release();
  return 0;
}

}  // namespace gmp::tools::orders_wl
