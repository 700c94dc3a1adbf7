// gmptrace/report_html.hpp — the HTML report (--report FILE.html, and the
// page at / of --metrics-addr): one self-contained file, no script and no
// external asset, with inline SVG charts drawn from a Recording (plain data,
// report.hpp): latency histograms, the stop-the-world pause timeline, per-M
// off-CPU and system-call bars, pool tiers, every counter.
#pragma once

#include <string>

#include "gmptrace/report.hpp"

namespace gmp::trace {

// Every chart is an <svg class="chart" data-chart="NAME" data-points="N">
// (N: bars or dots drawn), so a test can tell a chart from an empty one.
std::string render_html(const Recording& r);

}  // namespace gmp::trace
