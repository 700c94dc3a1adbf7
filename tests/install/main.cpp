// The README's example, unchanged in substance: built against the installed
// package by tests/install/check.sh.
#include <gmp/gmp.hpp>

int main() {
  return gmp::run({.procs = 2}, [] {
    gmp::WaitGroup wg;
    wg.add(100);
    for (int i = 0; i < 100; i++) gmp::go([&wg, i] { (void)i; wg.done(); });
    wg.wait();
    auto h = gmp::spawn([] { return 42; });
    return h.join() == 42 ? 0 : 1;
  });
}
