// gmptrace/cache_unit.hpp — the seam of the cache unit: perf_event_open, so a
// test can inject what a machine with a PMU would return.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

namespace gmp::trace {

using PerfEventOpenFn = int (*)(perf_event_attr* attr, pid_t pid, int cpu, int group_fd, unsigned long flags);
// nullptr restores the real system call.
void set_perf_event_open(PerfEventOpenFn fn);

}  // namespace gmp::trace
