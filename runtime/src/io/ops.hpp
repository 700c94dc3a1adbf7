// io/ops.hpp — the static table of I/O operations (see ops.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "gmp/io.hpp"

namespace gmp::detail {

struct OpInfo {
  io::Op op;
  const char* name;        // as in error messages and docs/PROBES.md
  std::uint8_t uring_op;   // IORING_OP_*
};

const OpInfo& op_info(io::Op op) noexcept;
// Names of the operations the running kernel's io_uring lacks ("" if none).
std::string ops_unsupported_by_kernel();

}  // namespace gmp::detail
