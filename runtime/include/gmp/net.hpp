// gmp/net.hpp — TCP for goroutines: Listener and Stream over the P's
// io_uring (or the blocking fallback), IPv4 and IPv6, deadlines, options.
//
// A Stream or Listener owns its fd (closed by close() or the destructor) and
// is used by one goroutine at a time per direction (one reader and one
// writer may run concurrently). Errors are io::Result values.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gmp/io.hpp"

namespace gmp::net {

using io::Deadline;
using io::Result;

struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  // "127.0.0.1", "::1", "localhost" (IPv4 loopback), "0.0.0.0", "::".
  static Result<Addr> parse(std::string_view host, std::uint16_t port);
  int family() const noexcept { return ss.ss_family; }
  std::uint16_t port() const noexcept;
  std::string to_string() const;  // "127.0.0.1:8080", "[::1]:8080"
};

class Stream {
 public:
  Stream() = default;
  explicit Stream(int fd) noexcept : fd_(fd) {}
  Stream(Stream&& o) noexcept : fd_(o.fd_), rd_(o.rd_), wd_(o.wd_) { o.fd_ = -1; }
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  int fd() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  // Reads up to n bytes; 0 at end of stream (the peer shut down writing).
  Result<std::size_t> read(void* buf, std::size_t n, io::CancelToken* cancel = nullptr) noexcept;
  // Reads exactly n bytes (EPIPE-like ECONNRESET... errors pass through;
  // an early end of stream is an error with errno 0 → reported as ENODATA).
  Result<std::size_t> read_full(void* buf, std::size_t n) noexcept;
  // Writes all n bytes (looping over short sends).
  Result<std::size_t> write(const void* buf, std::size_t n, io::CancelToken* cancel = nullptr) noexcept;
  Result<std::size_t> writev(const iovec* iov, int iovcnt) noexcept;  // one sendmsg (may be short)
  Result<void> shutdown(int how = SHUT_WR) noexcept;
  Result<void> close() noexcept;
  Result<void> set_nodelay(bool on) noexcept;
  // Absolute deadlines for every later read / write (kNoDeadline: none).
  void set_read_deadline(Deadline d) noexcept { rd_ = d; }
  void set_write_deadline(Deadline d) noexcept { wd_ = d; }
  Result<Addr> local_addr() const;
  Result<Addr> peer_addr() const;

 private:
  int fd_ = -1;
  Deadline rd_ = io::kNoDeadline;
  Deadline wd_ = io::kNoDeadline;
};

struct ListenOptions {
  int backlog = 1024;
  bool reuseaddr = true;
  bool reuseport = false;
  bool v6only = false;
};

class Listener {
 public:
  Listener() = default;
  Listener(Listener&& o) noexcept : fd_(o.fd_), ad_(o.ad_) { o.fd_ = -1; }
  Listener& operator=(Listener&& o) noexcept;
  Listener(const Listener&) = delete;
  ~Listener();

  static Result<Listener> listen(const Addr& addr, ListenOptions opts = {});
  // Accepts one connection (nodelay is not set: call set_nodelay).
  Result<Stream> accept(io::CancelToken* cancel = nullptr) noexcept;
  void set_accept_deadline(Deadline d) noexcept { ad_ = d; }
  Result<Addr> addr() const;  // the bound address (port 0 resolved)
  int fd() const noexcept { return fd_; }
  Result<void> close() noexcept;

 private:
  int fd_ = -1;
  Deadline ad_ = io::kNoDeadline;
};

Result<Stream> dial(const Addr& addr, Deadline deadline = io::kNoDeadline) noexcept;

}  // namespace gmp::net
