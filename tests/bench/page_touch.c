// page_touch — what fresh memory costs on this machine: the floor under any
// benchmark that creates goroutines faster than it reuses them (a parked
// goroutine keeps its stack's top page; a new one needs a fresh page).
//
//   cc -O2 -o page_touch tests/bench/page_touch.c && ./page_touch [PAGES]
//
// Maps PAGES (default 100000) pages 32 KiB apart (a goroutine stack's stride
// with its guard), then times, per page: installing a 16 KiB guard region
// below it (MADV_GUARD_INSTALL, Linux 6.13+; skipped if refused), the first
// write (a page fault and a zeroed page), a second write (the floor), and
// giving it back (MADV_DONTNEED one page at a time). One logfmt line:
//   summary workload=page_touch pages=N guard_install_ns=… first_touch_ns=… second_touch_ns=… dontneed_ns=…
// In a VM whose hypervisor shadows the guest's page tables, the first touch
// costs several microseconds even after MADV_POPULATE_WRITE.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  if (n < 1 || n > 10000000) {
    fprintf(stderr, "page_touch: PAGES '%s' out of range; use 1..10000000\n", argc > 1 ? argv[1] : "");
    return 2;
  }
  const size_t stride = 32768, guard = 16384;
  char* p = mmap(NULL, (size_t)n * stride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    perror("page_touch: mmap");
    return 1;
  }
  madvise(p, (size_t)n * stride, MADV_NOHUGEPAGE);
  double t0 = now_ns();
  int guards = 1;
  for (long i = 0; i < n && guards; i++) guards = madvise(p + i * stride, guard, MADV_GUARD_INSTALL) == 0;
  double t1 = now_ns();
  for (long i = 0; i < n; i++) p[i * stride + stride - 64] = 1;
  double t2 = now_ns();
  for (long i = 0; i < n; i++) p[i * stride + stride - 64] = 2;
  double t3 = now_ns();
  for (long i = 0; i < n; i++) madvise(p + i * stride + stride - 4096, 4096, MADV_DONTNEED);
  double t4 = now_ns();
  char guard_ns[32] = "n/a";
  if (guards) snprintf(guard_ns, sizeof guard_ns, "%.0f", (t1 - t0) / n);
  printf("summary workload=page_touch pages=%ld guard_install_ns=%s first_touch_ns=%.0f second_touch_ns=%.1f "
         "dontneed_ns=%.0f\n", n, guard_ns, (t2 - t1) / n, (t3 - t2) / n, (t4 - t3) / n);
  return 0;
}
