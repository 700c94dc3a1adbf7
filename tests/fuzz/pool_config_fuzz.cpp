// libFuzzer target: the pool's TOML config reader (runtime/src/mem/config.cpp,
// toml++ underneath). Beyond "no crash": an accepted config obeys the rules
// the reader promises (docs/POOL.md), and an error is one line that starts
// with the input's name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mem/config.hpp"

// check.cpp's fatal() dumps goroutines; a fuzz process has none and never
// reaches fatal() from the reader.
namespace gmp::detail {
int dump_goroutines(int, bool) noexcept { return 0; }
}  // namespace gmp::detail

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gmp::detail::mem;
  std::string text(reinterpret_cast<const char*>(data), size);
  PoolConfig c;
  std::string err = parse_config(text, "fuzz.toml", &c);
  if (err.empty()) {
    if (c.txn_ttl_ms < 1 || c.txn_ttl_ms > kMaxLocalTtlMs) std::abort();
    if (c.max_size > kMaxClassSize || c.fast_max_size > c.max_size) std::abort();
    if (c.fast_batch < 1 || c.fast_batch > c.fast_capacity || c.txn_batch < 1 || c.txn_batch > c.txn_capacity) std::abort();
    if (c.chunk_bytes % kHugePageSize || c.max_bytes % kHugePageSize || c.chunk_bytes > c.max_bytes) std::abort();
  } else {
    if (err.rfind("fuzz.toml:", 0) != 0) std::abort();
    if (err.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
