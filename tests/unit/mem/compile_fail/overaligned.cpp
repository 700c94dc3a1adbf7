// Must NOT compile: make_pooled of a type the pool cannot hold. The ctest
// "mem_poolable_rejects_overaligned" expects the compiler's message below.
#include "gmp/pool.hpp"

struct alignas(128) Wide {
  char c;
};

int main() {
  auto p = gmp::make_pooled<Wide>();
  return p != nullptr;
}
