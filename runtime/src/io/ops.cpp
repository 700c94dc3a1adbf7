// io/ops.cpp — the static table of I/O operations: one row per io::Op, in
// enum order, checked at compile time (like the kernel's io_uring/opdef.c):
// a new Op without a row, or rows out of order, fails the build.
#include "io/ops.hpp"

#include <liburing.h>

#include <cstring>

namespace gmp::detail {

namespace {

using io::Op;

constexpr OpInfo kOps[] = {
    {Op::kRead, "read", IORING_OP_READ},
    {Op::kWrite, "write", IORING_OP_WRITE},
    {Op::kReadv, "readv", IORING_OP_READV},
    {Op::kWritev, "writev", IORING_OP_WRITEV},
    {Op::kPread, "pread", IORING_OP_READ},
    {Op::kPwrite, "pwrite", IORING_OP_WRITE},
    {Op::kOpenat, "openat", IORING_OP_OPENAT},
    {Op::kClose, "close", IORING_OP_CLOSE},
    {Op::kFsync, "fsync", IORING_OP_FSYNC},
    {Op::kStatx, "statx", IORING_OP_STATX},
    {Op::kAccept, "accept", IORING_OP_ACCEPT},
    {Op::kConnect, "connect", IORING_OP_CONNECT},
    {Op::kRecv, "recv", IORING_OP_RECV},
    {Op::kSend, "send", IORING_OP_SEND},
    {Op::kRecvmsg, "recvmsg", IORING_OP_RECVMSG},
    {Op::kSendmsg, "sendmsg", IORING_OP_SENDMSG},
    {Op::kShutdown, "shutdown", IORING_OP_SHUTDOWN},
    {Op::kPoll, "poll", IORING_OP_POLL_ADD},
    {Op::kTimeout, "timeout", IORING_OP_TIMEOUT},
    {Op::kCancel, "cancel", IORING_OP_ASYNC_CANCEL},
};

static_assert(sizeof(kOps) / sizeof(kOps[0]) == static_cast<std::size_t>(Op::kCount),
              "io: every io::Op needs a row in kOps");

consteval bool rows_in_enum_order() {
  for (std::size_t i = 0; i < sizeof(kOps) / sizeof(kOps[0]); i++) {
    if (static_cast<std::size_t>(kOps[i].op) != i) return false;
  }
  return true;
}
static_assert(rows_in_enum_order(), "io: kOps rows must follow io::Op order");

}  // namespace

const OpInfo& op_info(io::Op op) noexcept {
  auto i = static_cast<std::size_t>(op);
  return i < static_cast<std::size_t>(Op::kCount) ? kOps[i] : kOps[0];
}

std::string ops_unsupported_by_kernel() {
  io_uring_probe* p = io_uring_get_probe();
  if (p == nullptr) return "the opcode probe";
  std::string missing;
  for (const OpInfo& o : kOps) {
    if (!io_uring_opcode_supported(p, o.uring_op)) missing += (missing.empty() ? "" : ", ") + std::string(o.name);
  }
  if (!io_uring_opcode_supported(p, IORING_OP_LINK_TIMEOUT)) missing += (missing.empty() ? "" : ", ") + std::string("link_timeout");
  io_uring_free_probe(p);
  return missing;
}

}  // namespace gmp::detail

namespace gmp::io {

const char* op_name(Op op) noexcept {
  return static_cast<std::size_t>(op) < static_cast<std::size_t>(Op::kCount) ? detail::op_info(op).name : "?";
}

std::string Error::message() const {
  std::string m = std::string(step != nullptr ? step : op_name(op)) + ": " + std::strerror(err);
  if (hint != nullptr) m += std::string(" (") + hint + ")";
  return m;
}

}  // namespace gmp::io
