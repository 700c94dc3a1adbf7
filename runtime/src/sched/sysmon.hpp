// sched/sysmon.hpp — see sysmon.cpp.
#pragma once

#include <cstdint>

namespace gmp::detail {

// Extra work for sysmon's tick (e.g. retaking Ps stuck in blocking calls).
// REQUIRES: registered before the runtime starts (static init).
struct SysmonHook {
  const char* name;
  void (*fn)(std::int64_t now_ns) noexcept;
};
void sysmon_add_hook(SysmonHook hook) noexcept;

void sysmon_start() noexcept;
void sysmon_stop() noexcept;

}  // namespace gmp::detail
