// Must NOT compile: an object above the 256 KiB class limit as a tiered object.
#include "gmp/pool.hpp"

struct Huge {
  char bytes[300 * 1024];
};

int main() {
  auto p = gmp::make_pooled<Huge>();
  return p != nullptr;
}
