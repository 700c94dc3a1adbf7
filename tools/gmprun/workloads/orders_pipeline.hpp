// workloads/orders_pipeline.hpp — the goroutine pipeline of `gmprun orders`
// (docs/ORDERS.md): per shard of symbols,
//
//   source ──► parse/validate ──► risk ──► match ──► publish (subscribers)
//                                  ▲
//              market-data ticks ──┘ (move the reference prices risk uses)
//
// The source is the open-loop generator (orders.cpp) or a TCP session's
// reader (orders_listen.cpp); a session's reader decodes its frames itself,
// so its batches enter at risk. Stages are goroutines joined by channels of
// Batch pointers; a batch is one source's messages for one shard that were
// due (or read) together, and it travels the whole way, each stage writing
// its results into it and stamping the time it handed it on.
//
// Memory (the pool's tiers by lifetime): batches and ticks from fast (they
// live microseconds), fills from txn (and resting orders, in the book),
// books, the risk tables and sessions from stable.
//
// Ending: the source closes (or its owner closes) `parse_in`/`risk_in` once
// nothing more will be sent; each stage closes its output after its input is
// closed and drained, so the subscribers finish last.
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "gmp/gmp.hpp"
#include "gmp/histogram.hpp"
#include "orders/engine.hpp"
#include "orders/proto.hpp"

namespace gmp::tools::orders_wl {

using orders::Fill;
using orders::Order;
using orders::Outcome;
using orders::Reject;
using orders::Status;

inline std::int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct FillNode {
  Fill f;
  FillNode* next;
};

struct Session;  // orders_listen.cpp

struct Msg {
  Order order;
  std::int64_t t_intended = 0;  // generator: scheduled send time; TCP: frame arrival
  std::uint64_t client_sent = 0;  // TCP: the client's stamp, echoed in the report
  FillNode* fills = nullptr;    // this message's trades (taker side), oldest first
  std::uint32_t nfills = 0;
  Outcome out;                  // status kRejected + reason, or the engine's answer
  bool is_cancel = false;       // frame type (a malformed frame keeps its type)
  Reject field_error = Reject::kNone;  // TCP: the decoder's verdict, for the risk stage to count
  std::uint8_t frame_len = 0;   // generator: the encoded frame parse decodes
  std::uint8_t frame[orders::proto::kMaxFrame];
};

struct Batch {
  std::uint32_t n = 0;          // messages in it
  std::uint32_t cap = 0;        // room it was allocated with
  std::uint32_t shard = 0;
  Session* session = nullptr;   // TCP: whose reports these are
  bool validated = false;       // false: the risk stage validates first (TCP)
  std::int64_t t_sent = 0, t_parsed = 0, t_risked = 0, t_matched = 0;
  Msg* msgs() noexcept { return reinterpret_cast<Msg*>(this + 1); }
};
static_assert(sizeof(Batch) % alignof(Msg) == 0);

inline constexpr std::uint32_t kMaxBatch = 32;

// A batch with room for n messages, from the fast tier.
inline Batch* new_batch(std::uint32_t n, std::uint32_t shard) {
  void* p = gmp::pool::allocate(sizeof(Batch) + n * sizeof(Msg), gmp::pool::Tier::kFast);
  if (p == nullptr) throw std::bad_alloc();
  auto* b = ::new (p) Batch();
  b->cap = n;
  b->shard = shard;
  Msg* m = b->msgs();
  for (std::uint32_t i = 0; i < n; i++) ::new (&m[i]) Msg();
  return b;
}
// Frees the batch and every fill hanging off it.
inline void free_batch(Batch* b) noexcept {
  Msg* m = b->msgs();
  for (std::uint32_t i = 0; i < b->n; i++) {
    for (FillNode* f = m[i].fills; f != nullptr;) {
      FillNode* next = f->next;
      gmp::pool::deallocate(f, sizeof(FillNode));
      f = next;
    }
  }
  gmp::pool::deallocate(b, sizeof(Batch) + b->cap * sizeof(Msg));
}

// Reference-price moves for some of a shard's symbols.
struct Tick {
  std::uint32_t n = 0;
  std::array<std::uint32_t, 16> symbol{};
  std::array<std::int64_t, 16> price{};
};

// What reaches the risk stage: a batch or a tick.
struct Item {
  Batch* batch = nullptr;
  Tick* tick = nullptr;
};

struct RejectCounts {
  std::uint64_t by_reason[static_cast<int>(Reject::kCount)] = {};
  std::uint64_t new_orders = 0, cancels = 0;  // rejected messages by kind
};

inline bool rejected(const Msg& m) noexcept { return m.out.status == Status::kRejected && m.out.reason != Reject::kNone; }

// Per-subscriber results, merged at the end.
struct SubStats {
  gmp::FineHistogram e2e, gen, parse, risk, match, publish;
  std::uint64_t reports = 0, measured = 0;
  std::uint64_t status[5] = {};  // by orders::Status (index 0 unused)
  std::uint64_t fills = 0, fill_qty = 0;
  std::int64_t last_report_ns = 0;
};

struct Shard {
  Shard(orders::Risk& risk, std::uint32_t id, std::uint32_t shards, std::uint32_t subscribers);
  std::uint32_t id;
  gmp::Chan<Batch*> parse_in{1024};
  gmp::Chan<Item> risk_in{1024};
  gmp::Chan<Batch*> match_in{1024};
  std::vector<gmp::Chan<Batch*>> subs;
  orders::Engine engine;
  // Written by one stage each (named), read after the pipeline is done.
  RejectCounts parse_rejects;  // parse stage
  RejectCounts risk_rejects;   // risk stage (and validation of TCP batches)
  std::uint64_t ticks = 0;     // risk stage
  std::vector<std::unique_ptr<SubStats>> sub_stats;
};

// What the stages need to know.
struct PipelineConfig {
  orders::Universe universe;
  std::uint32_t shards = 1;
  std::uint32_t subscribers = 1;   // per shard
  std::int64_t measure_from_ns = 0;  // messages intended before this are not in the histograms
  // Where a subscriber hands a TCP batch (the session's writer); else freed.
  void (*deliver)(Batch* b) = nullptr;
};

class Pipeline {
 public:
  Pipeline(const PipelineConfig& cfg, orders::Risk& risk);
  // REQUIRES: before start().
  void set_measure_from(std::int64_t ns) { cfg_.measure_from_ns = ns; }
  // Starts the stages of every shard (parse, risk, match, subscribers).
  void start();
  // Blocks until every subscriber has finished (after the sources closed).
  void wait() { done_.wait(); }
  Shard& shard(std::uint32_t i) { return *shards_[i]; }
  std::uint32_t shards() const { return static_cast<std::uint32_t>(shards_.size()); }
  // The shard that owns a symbol.
  std::uint32_t shard_of(std::uint32_t symbol) const { return symbol % static_cast<std::uint32_t>(shards_.size()); }
  orders::Risk& risk() { return risk_; }
  const PipelineConfig& config() const { return cfg_; }

  // Each shard's parse stage closes risk_in once its parse_in is closed and
  // drained and `risk_senders` more senders (tickers, sessions) said done.
  void add_risk_sender(std::uint32_t shard, int n) { senders_[shard]->add(n); }
  void risk_sender_done(std::uint32_t shard) { senders_[shard]->done(); }

 private:
  void parse_stage(Shard& s);
  void risk_stage(Shard& s);
  void match_stage(Shard& s);
  void subscriber(Shard& s, std::uint32_t k);

  PipelineConfig cfg_;
  orders::Risk& risk_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<gmp::WaitGroup>> senders_;
  gmp::WaitGroup done_;
};

}  // namespace gmp::tools::orders_wl
