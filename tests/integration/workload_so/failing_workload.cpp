// A workload that goes wrong in the way argv[1] names, for the end-to-end
// tests of docs/FAILURES.md (tests/integration/failure_test.cpp):
//   return N     returns N from gmp_main
//   exit N       prints to stdout (buffered: a pipe), then exit(N) from a goroutine
//   spin         returns 0 while a goroutine loops without a safe point
//   spin-sleep   the same, after sleeping 3 s (time for a SIGQUIT)
//   deadlock     every goroutine waits on a channel nobody sends on
//   segv         a null store on a goroutine
//   double-free  a goroutine frees a pool object twice (fatal in checked mode;
//                prints "freed twice unnoticed" and returns 0 otherwise)
//   raw-read     a goroutine sits in read(2) on a pipe a plain thread writes
//                after 500 ms, while another goroutine waits to run
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "gmp/gmp.hpp"

using namespace std::chrono_literals;

namespace {

__attribute__((noinline)) void deadlock_in_so(gmp::Chan<int> c) { (void)c.recv(); }
__attribute__((noinline)) void segv_in_so(volatile int* p) { *p = 42; }

}  // namespace

extern "C" int gmp_main(int argc, char** argv) {
  if (argc < 2) return 64;
  const char* mode = argv[1];
  if (std::strcmp(mode, "return") == 0) return argc > 2 ? std::atoi(argv[2]) : 0;
  if (std::strcmp(mode, "exit") == 0) {
    std::printf("failing_workload: buffered line before exit\n");
    int n = argc > 2 ? std::atoi(argv[2]) : 0;
    gmp::go([n] { std::exit(n); });
    gmp::Chan<int> never;
    (void)never.recv();
    return 0;
  }
  if (std::strcmp(mode, "spin") == 0 || std::strcmp(mode, "spin-sleep") == 0) {
    gmp::go([] {
      for (;;) asm volatile("" ::: "memory");
    });
    gmp::sleep_for(std::strcmp(mode, "spin") == 0 ? 20ms : 3000ms);
    std::printf("failing_workload: main returns\n");
    return 0;
  }
  if (std::strcmp(mode, "deadlock") == 0) {
    gmp::Chan<int> c;
    deadlock_in_so(c);
    return 0;
  }
  if (std::strcmp(mode, "double-free") == 0) {
    gmp::Chan<int> done;
    gmp::go([done]() mutable {
      void* p = gmp::pool::allocate(48);
      gmp::pool::deallocate(p);
      gmp::pool::deallocate(p);
      done.send(1);
    });
    (void)done.recv();
    std::printf("failing_workload: freed twice unnoticed\n");
    return 0;
  }
  if (std::strcmp(mode, "segv") == 0) {
    volatile int* p = nullptr;
    segv_in_so(p);
    return 0;
  }
  if (std::strcmp(mode, "raw-read") == 0) {
    int fd[2];
    if (pipe(fd) != 0) return 1;
    std::thread writer([fd] {
      std::this_thread::sleep_for(500ms);
      (void)!::write(fd[1], "x", 1);
    });
    gmp::WaitGroup wg;
    wg.add(2);
    gmp::go([&] {
      gmp::go([&] { wg.done(); });  // queued behind the read on this P
      char b;
      (void)!::read(fd[0], &b, 1);
      wg.done();
    });
    wg.wait();
    writer.join();
    return 0;
  }
  std::fprintf(stderr, "failing_workload: unknown mode %s\n", mode);
  return 64;
}
