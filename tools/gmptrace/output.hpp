// gmptrace/output.hpp — text (libbpf-tools style: log2 histograms with bars,
// tables, one line per event) and JSON (one object per line: docs/TRACING.md)
// renderings of the plain data units report.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gmptrace/report.hpp"
#include "gmptrace/target.hpp"
#include "gmptrace/unit.hpp"

namespace gmp::trace {

class Output {
 public:
  virtual ~Output() = default;
  virtual void start(const Target& t, const std::vector<std::string>& units,
                     const std::vector<AttachResult>& attach) = 0;
  // scope: "interval" or "total".
  virtual void header(const char* scope, double t_s, const Header& h) = 0;
  virtual void section(const char* scope, const Section& s) = 0;
  virtual void event(const Event& e) = 0;
  virtual void lost(const char* scope, const std::string& ring, std::uint64_t n, std::uint64_t total) = 0;
  virtual void end(const std::string& why, const std::vector<Section>& totals) = 0;
};

std::unique_ptr<Output> make_text_output(std::FILE* out);
std::unique_ptr<Output> make_json_output(std::FILE* out);

// The summary line both outputs end with: "summary k=v …" (counters summed
// over their labels, and each histogram's count and sum).
std::string summary_line(const std::vector<Section>& totals);

}  // namespace gmp::trace
