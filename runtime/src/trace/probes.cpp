// trace/probes.cpp — the semaphores of the probes in probes.hpp.
#include "trace/probes.hpp"

// A tracer increments a semaphore (in the .probes section, as sys/sdt.h
// expects) when it attaches to that probe.
extern "C" {
#define GMP_PROBE_DEFINE_SEMAPHORE(name) \
  __attribute__((section(".probes"), used)) volatile unsigned short gmp_##name##_semaphore = 0;
GMP_PROBE_LIST(GMP_PROBE_DEFINE_SEMAPHORE)
#undef GMP_PROBE_DEFINE_SEMAPHORE
}
