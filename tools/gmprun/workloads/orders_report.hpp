// workloads/orders_report.hpp — what orders.cpp shares with the summary and
// checks (orders_report.cpp) and the TCP front (orders_listen.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "common/summary.hpp"
#include "orders_pipeline.hpp"

namespace gmp::tools::orders_wl {

struct RunTotals {
  double rate_asked = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::uint64_t generated = 0, unsent = 0, batches = 0;  // the generator's messages
  // TCP front.
  bool tcp = false;
  std::uint64_t connections = 0, frames = 0, bytes_in = 0, bytes_out = 0, write_errors = 0;
  // Reports of sessions whose writes failed, freed unwritten; sessions whose
  // read failed (a reset); sessions that ended inside a frame, and those
  // frames' bytes (a connection cut mid-stream).
  std::uint64_t reports_dropped = 0, closed_read_error = 0, closed_mid_frame = 0, mid_frame_bytes = 0;
  std::uint64_t frame_errors[static_cast<int>(orders::proto::FrameError::kCount)] = {};
};

// Fills the summary (rates, latency, stages, outcomes, rejects, pool, STW)
// and runs the exit checks; a failed check is printed to stderr and sets
// check=false. Returns whether every check passed.
// REQUIRES: the pipeline is done (Pipeline::wait returned).
bool report(Pipeline& p, const RunTotals& t, Summary& out);

// "HOST:PORT" or "[V6]:PORT" into its parts; "" or what is wrong.
std::string split_host_port(const std::string& s, std::string* host, std::uint16_t* port);

// Serves the pipeline over TCP at `addr` until `duration_ns` (0: until
// SIGINT/SIGTERM); every session has finished when it returns. Returns 0,
// or 1 when it could not listen (after one line on stderr).
int serve(const std::string& addr, std::int64_t duration_ns, Pipeline& p, RunTotals& t, Summary& out);
// PipelineConfig::deliver for TCP batches: hands one to its session's writer.
void deliver_to_session(Batch* b);

}  // namespace gmp::tools::orders_wl
