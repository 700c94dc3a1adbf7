// workloads/orders_pipeline.cpp — the stages of the orders pipeline
// (orders_pipeline.hpp).
#include "orders_pipeline.hpp"

#include "orders/risk.hpp"

namespace gmp::tools::orders_wl {

namespace {

// Collects a message's trades as pooled fill records (txn tier).
class FillList final : public orders::FillSink {
 public:
  explicit FillList(Msg& m) : m_(m), tail_(&m.fills) {}
  void on_fill(const Fill& f) override {
    void* p = gmp::pool::allocate(sizeof(FillNode), gmp::pool::Tier::kTxn);
    if (p == nullptr) throw std::bad_alloc();
    auto* n = ::new (p) FillNode{f, nullptr};
    *tail_ = n;
    tail_ = &n->next;
    m_.nfills++;
  }

 private:
  Msg& m_;
  FillNode** tail_;
};

void count_reject(RejectCounts& c, Msg& m, Reject r) {
  m.out = Outcome{};
  m.out.status = Status::kRejected;
  m.out.reason = r;
  c.by_reason[static_cast<int>(r)]++;
  if (m.is_cancel) c.cancels++; else c.new_orders++;
}

}  // namespace

Shard::Shard(orders::Risk& risk, std::uint32_t id_, std::uint32_t shards, std::uint32_t subscribers)
    : id(id_), engine(risk, id_, shards) {
  for (std::uint32_t k = 0; k < subscribers; k++) {
    subs.emplace_back(1024);
    sub_stats.push_back(std::make_unique<SubStats>());
  }
}

Pipeline::Pipeline(const PipelineConfig& cfg, orders::Risk& risk) : cfg_(cfg), risk_(risk) {
  for (std::uint32_t i = 0; i < cfg.shards; i++) {
    shards_.push_back(std::make_unique<Shard>(risk, i, cfg.shards, cfg.subscribers));
    senders_.push_back(std::make_unique<gmp::WaitGroup>());
  }
}

void Pipeline::start() {
  for (auto& sp : shards_) {
    Shard& s = *sp;
    done_.add(static_cast<std::int64_t>(s.subs.size()));
    for (std::uint32_t k = 0; k < s.subs.size(); k++) gmp::go([this, &s, k] { subscriber(s, k); });
    gmp::go([this, &s] { match_stage(s); });
    gmp::go([this, &s] { risk_stage(s); });
    gmp::go([this, &s] { parse_stage(s); });
  }
}

// Decodes each message's frame and validates it. Malformed messages are
// rejected here (with their reason) and travel on, so every message gets
// exactly one report.
void Pipeline::parse_stage(Shard& s) {
  while (auto b = s.parse_in.recv()) {
    Batch* batch = *b;
    Msg* m = batch->msgs();
    for (std::uint32_t i = 0; i < batch->n; i++) {
      orders::proto::Request req;
      std::size_t used = 0;
      // The generator writes whole, well-framed frames (it corrupts fields,
      // not framing), so a frame error here is a generator bug.
      // The generator corrupts fields, never the framing; a frame error
      // here would still be a counted reject, not a crash.
      if (orders::proto::decode_request(m[i].frame, m[i].frame_len, &req, &used) != orders::proto::FrameError::kNone) {
        count_reject(s.parse_rejects, m[i], Reject::kBadField);
        continue;
      }
      m[i].order = req.order;
      Reject r = req.field_error != Reject::kNone ? req.field_error : orders::validate(req.order, cfg_.universe);
      if (r != Reject::kNone) count_reject(s.parse_rejects, m[i], r);
    }
    batch->validated = true;
    batch->t_parsed = now_ns();
    s.risk_in.send(Item{batch, nullptr});
  }
  senders_[s.id]->wait();  // tickers and sessions of this shard are done
  s.risk_in.close();
}

void Pipeline::risk_stage(Shard& s) {
  while (auto it = s.risk_in.recv()) {
    if (it->tick != nullptr) {
      Tick* t = it->tick;
      for (std::uint32_t i = 0; i < t->n; i++) risk_.set_reference(t->symbol[i], t->price[i]);
      s.ticks++;
      gmp::pool::deallocate(t, sizeof(Tick));
      continue;
    }
    Batch* batch = it->batch;
    Msg* m = batch->msgs();
    for (std::uint32_t i = 0; i < batch->n; i++) {
      if (rejected(m[i])) continue;
      Reject r = Reject::kNone;
      if (!batch->validated) {
        r = m[i].field_error != Reject::kNone ? m[i].field_error : orders::validate(m[i].order, cfg_.universe);
      }
      if (r == Reject::kNone) r = risk_.check(m[i].order);
      if (r != Reject::kNone) count_reject(s.risk_rejects, m[i], r);
    }
    batch->t_risked = now_ns();
    s.match_in.send(batch);
  }
  s.match_in.close();
}

void Pipeline::match_stage(Shard& s) {
  std::uint32_t next = 0;
  while (auto b = s.match_in.recv()) {
    Batch* batch = *b;
    Msg* m = batch->msgs();
    for (std::uint32_t i = 0; i < batch->n; i++) {
      if (rejected(m[i])) continue;
      FillList fills(m[i]);
      m[i].out = s.engine.apply(m[i].order, fills);
    }
    batch->t_matched = now_ns();
    s.subs[next].send(batch);
    next = next + 1 == s.subs.size() ? 0 : next + 1;
  }
  for (auto& c : s.subs) c.close();
}

// Receives each outcome: end-to-end and per-stage latency, counts; then the
// batch goes to its TCP session's writer, or back to the pool.
void Pipeline::subscriber(Shard& s, std::uint32_t k) {
  SubStats& st = *s.sub_stats[k];
  while (auto b = s.subs[k].recv()) {
    Batch* batch = *b;
    std::int64_t now = now_ns();
    Msg* m = batch->msgs();
    for (std::uint32_t i = 0; i < batch->n; i++) {
      st.reports++;
      st.status[static_cast<int>(m[i].out.status)]++;
      st.fills += m[i].nfills;
      for (FillNode* f = m[i].fills; f != nullptr; f = f->next) st.fill_qty += f->f.qty;
      if (m[i].t_intended < cfg_.measure_from_ns) continue;
      st.measured++;
      st.e2e.record(static_cast<std::uint64_t>(now - m[i].t_intended));
      st.gen.record(static_cast<std::uint64_t>(batch->t_sent - m[i].t_intended));
    }
    if (batch->t_sent >= cfg_.measure_from_ns) {
      // Stage times are per batch: every message in it left each stage together.
      st.parse.record(static_cast<std::uint64_t>(batch->t_parsed - batch->t_sent));
      st.risk.record(static_cast<std::uint64_t>(batch->t_risked - batch->t_parsed));
      st.match.record(static_cast<std::uint64_t>(batch->t_matched - batch->t_risked));
      st.publish.record(static_cast<std::uint64_t>(now - batch->t_matched));
    }
    st.last_report_ns = now;
    if (batch->session != nullptr && cfg_.deliver != nullptr) {
      cfg_.deliver(batch);
    } else {
      free_batch(batch);
    }
  }
  done_.done();
}

}  // namespace gmp::tools::orders_wl
