// mem/config.hpp — the pool's configuration: defaults, the TOML reader and
// its rules.
//
// The file is strict: an unknown table or key, a value of the wrong type and
// a rule violation are each an error of one line naming the file, the line,
// the key, what is wrong and what would be right. Keys: docs/POOL.md.
// Rules: a local tier's TTL <= 100 ms; every object size limit <= 256 KiB;
// batches >= 1 and <= their capacity; arena sizes in whole 2 MiB units.
// The +15 % growth rule needs a running pool and lives in apply_config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mem/arena.hpp"
#include "mem/checked.hpp"

namespace gmp::detail::mem {

inline constexpr std::uint32_t kMaxLocalTtlMs = 100;
inline constexpr double kMaxLiveGrowth = 0.15;
// A config file is a regular file of at most this size (a few hundred bytes
// in practice): a directory, a device, a FIFO or a huge file is refused.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

struct PoolConfig {
  // [arena]
  HugeMode hugepages = HugeMode::kAuto;
  // Committed (and pre-faulted) per step: the arena's headroom over what the
  // pool holds is at most one chunk. 8 MiB keeps RSS within a few % of live +
  // cached bytes at a few hundred MiB (32 MiB measured 1.10-1.22x in
  // alloc-storm, docs/notes/benchmarks-history.md); each step pre-faults 4 hugepages.
  std::uint64_t chunk_bytes = 8ull << 20;
  std::uint64_t max_bytes = 8ull << 30;
  std::uint64_t retain_bytes = 64ull << 20;
  // [classes]
  std::uint32_t max_size = 256 * 1024;  // tiered limit; larger goes to jemalloc
  std::uint32_t fast_max_size = 1024;   // fast-tier classes; larger fast requests use txn
  // [fast]
  std::uint32_t fast_batch = 32;
  // Per class per P: cap = min(capacity objects, max_class_bytes / size), at
  // least batch. 1024 objects keep a burst of 1024 local up to 256 B objects;
  // 256 KiB bounds a class of larger objects (1024 B: 256). docs/POOL.md,
  // "Magazine caps".
  std::uint32_t fast_capacity = 1024;
  std::uint64_t fast_max_class_bytes = 256 << 10;
  // [txn]
  std::uint32_t txn_ttl_ms = 60;
  std::uint32_t txn_batch = 32;
  std::uint32_t txn_capacity = 256;
  std::uint64_t txn_max_class_bytes = 256 << 10;
  std::uint32_t txn_sweep_every = 64;  // frees between sweeps
  // [stats]
  std::uint32_t sample_every = 1024;  // time every Nth allocation of each fast class, and of a cache's others (0: never)
  // [fault]
  double txn_leak_percent = 0;            // drill: % of txn frees leaked
  std::uint64_t detect_min_bytes = 4ull << 20;  // loss below this is never acted on
  double detect_lost_fraction = 0.25;     // degrade when lost > fraction of carved
  // [checks]
  // Checked mode (Note [Checked mode], mem/checked.hpp): on by default in
  // Debug and sanitizer builds. Fixed once the pool is running.
  bool checked = kCheckedByDefault;
};

// Per-class cache caps implied by a config.
std::uint32_t fast_cap_for(const PoolConfig& c, int cls) noexcept;
std::uint32_t txn_cap_for(const PoolConfig& c, int cls) noexcept;

// Parses TOML text into *out (starting from defaults). `name` is what errors
// call the input (the file path). Returns "" or the one-line error.
std::string parse_config(std::string_view text, std::string_view name, PoolConfig* out);
// Reads and parses a file: a regular file of at most kMaxConfigBytes.
std::string load_config_file(const std::string& path, PoolConfig* out);

// The most memory a pool with this config can hold with `nprocs` Ps and
// `arena_committed` bytes already committed: the arena (at least one chunk)
// plus every P's caches full. Used by the +15 % live-change rule.
std::uint64_t predicted_pool_bytes(const PoolConfig& c, int nprocs, std::uint64_t arena_committed) noexcept;

}  // namespace gmp::detail::mem
