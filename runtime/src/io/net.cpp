// io/net.cpp — gmp::net: TCP listener and stream (gmp/net.hpp).
//
// io_uring backend: sockets are blocking fds; recv/send/accept/connect are
// ring operations (the kernel polls internally, FEAT_FAST_POLL), deadlines
// are linked timeouts. Blocking backend: sockets are O_NONBLOCK; an operation
// tries the call, and on EAGAIN waits in poll() (deadline and cancel aware)
// inside gmp::blocking, then retries.
#include "gmp/net.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/blocking.hpp"
#include "io/ring.hpp"

namespace gmp::net {

using io::Error;
using io::Op;
using io::OpOptions;

namespace {

Error err(int e, Op op) { return Error{e, op}; }

bool nonblocking_mode() noexcept { return !detail::uring_on(); }

// Blocking backend: runs call (returns -1/errno) until it does not say
// EAGAIN, waiting for `events` between tries.
template <class F>
long retry_nb(int fd, short events, const OpOptions& o, F&& call) noexcept {
  for (;;) {
    if (o.cancel != nullptr && o.cancel->cancelled()) return -ECANCELED;
    long r = call();
    if (r >= 0) return r;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINPROGRESS) return -errno;
    long w = detail::sys_wait_fd(fd, events, o);
    if (w < 0) return w;
  }
}

struct SockCtx {
  int fd;
  void* buf;
  std::size_t n;
  int flags;
};

long do_recv(int fd, void* buf, std::size_t n, const OpOptions& o) noexcept {
  if (detail::Ring* r = detail::current_ring()) {
    SockCtx c{fd, buf, n, 0};
    return detail::ring_run(r, Op::kRecv, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<SockCtx*>(a);
      io_uring_prep_recv(s, c->fd, c->buf, c->n, 0);
    }, &c);
  }
  return retry_nb(fd, POLLIN, o, [&] { return ::recv(fd, buf, n, MSG_DONTWAIT); });
}

long do_send(int fd, const void* buf, std::size_t n, const OpOptions& o) noexcept {
  if (detail::Ring* r = detail::current_ring()) {
    SockCtx c{fd, const_cast<void*>(buf), n, MSG_NOSIGNAL};
    return detail::ring_run(r, Op::kSend, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<SockCtx*>(a);
      io_uring_prep_send(s, c->fd, c->buf, c->n, c->flags);
    }, &c);
  }
  return retry_nb(fd, POLLOUT, o, [&] { return ::send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT); });
}

}  // namespace

// ---- Addr --------------------------------------------------------------------

Result<Addr> Addr::parse(std::string_view host, std::uint16_t port) {
  Addr a;
  std::string h(host);
  if (h == "localhost") h = "127.0.0.1";
  if (!h.empty() && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof(sockaddr_in);
    return a;
  }
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return Error{EINVAL, Op::kConnect, "parse address", "not a numeric IPv4 or IPv6 address; names are not resolved"};
}

std::uint16_t Addr::port() const noexcept {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

std::string Addr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port());
  }
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(port());
}

namespace {
Result<Addr> sock_name(int fd, bool peer, Op op) {
  Addr a;
  a.len = sizeof a.ss;
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&a.ss), &a.len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&a.ss), &a.len);
  if (r < 0) return err(errno, op);
  return a;
}
}  // namespace

// ---- Stream ------------------------------------------------------------------

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    (void)close();
    fd_ = o.fd_;
    rd_ = o.rd_;
    wd_ = o.wd_;
    o.fd_ = -1;
  }
  return *this;
}

Stream::~Stream() { (void)close(); }

Result<std::size_t> Stream::read(void* buf, std::size_t n, io::CancelToken* cancel) noexcept {
  long r = do_recv(fd_, buf, n, OpOptions{rd_, cancel});
  if (r < 0) return err(static_cast<int>(-r), Op::kRecv);
  return static_cast<std::size_t>(r);
}

Result<std::size_t> Stream::read_full(void* buf, std::size_t n) noexcept {
  std::size_t got = 0;
  while (got < n) {
    auto r = read(static_cast<char*>(buf) + got, n - got);
    if (!r) return r.error();
    if (r.value() == 0) return err(ENODATA, Op::kRecv);
    got += r.value();
  }
  return got;
}

Result<std::size_t> Stream::write(const void* buf, std::size_t n, io::CancelToken* cancel) noexcept {
  std::size_t done = 0;
  const char* p = static_cast<const char*>(buf);
  while (done < n) {
    long r = do_send(fd_, p + done, n - done, OpOptions{wd_, cancel});
    if (r < 0) return err(static_cast<int>(-r), Op::kSend);
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Result<std::size_t> Stream::writev(const iovec* iov, int iovcnt) noexcept {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<std::size_t>(iovcnt);
  OpOptions o{wd_, nullptr};
  long r;
  if (detail::Ring* ring = detail::current_ring()) {
    struct C {
      int fd;
      msghdr* m;
    } c{fd_, &m};
    r = detail::ring_run(ring, Op::kSendmsg, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_sendmsg(s, c->fd, c->m, MSG_NOSIGNAL);
    }, &c);
  } else {
    int fd = fd_;
    r = retry_nb(fd, POLLOUT, o, [&] { return ::sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT); });
  }
  if (r < 0) return err(static_cast<int>(-r), Op::kSendmsg);
  return static_cast<std::size_t>(r);
}

Result<void> Stream::shutdown(int how) noexcept {
  long r;
  if (detail::Ring* ring = detail::current_ring()) {
    struct C {
      int fd;
      int how;
    } c{fd_, how};
    r = detail::ring_run(ring, Op::kShutdown, {}, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_shutdown(s, c->fd, c->how);
    }, &c);
  } else {
    r = ::shutdown(fd_, how) < 0 ? -errno : 0;
  }
  if (r < 0) return err(static_cast<int>(-r), Op::kShutdown);
  return {};
}

Result<void> Stream::close() noexcept {
  if (fd_ < 0) return {};
  int fd = fd_;
  fd_ = -1;
  return io::close(fd);
}

Result<void> Stream::set_nodelay(bool on) noexcept {
  int v = on ? 1 : 0;
  if (setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0) return err(errno, Op::kConnect);
  return {};
}

Result<Addr> Stream::local_addr() const { return sock_name(fd_, false, Op::kRecv); }
Result<Addr> Stream::peer_addr() const { return sock_name(fd_, true, Op::kRecv); }

// ---- Listener ----------------------------------------------------------------

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    (void)close();
    fd_ = o.fd_;
    ad_ = o.ad_;
    o.fd_ = -1;
  }
  return *this;
}

Listener::~Listener() { (void)close(); }

Result<Listener> Listener::listen(const Addr& addr, ListenOptions opts) {
  int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking_mode() ? SOCK_NONBLOCK : 0);
  int fd = ::socket(addr.family(), type, 0);
  if (fd < 0) return Error{errno, Op::kAccept, "socket"};
  int one = 1;
  if (opts.reuseaddr) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (opts.reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (addr.family() == AF_INET6) {
    int v = opts.v6only ? 1 : 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
  }
  // The failing step is named: a busy port is bind's EADDRINUSE.
  const char* step = nullptr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) < 0) step = "bind";
  else if (::listen(fd, opts.backlog) < 0) step = "listen";
  if (step != nullptr) {
    int e = errno;
    ::close(fd);
    return Error{e, Op::kAccept, step};
  }
  Listener l;
  l.fd_ = fd;
  return l;
}

Result<Stream> Listener::accept(io::CancelToken* cancel) noexcept {
  OpOptions o{ad_, cancel};
  long r;
  if (detail::Ring* ring = detail::current_ring()) {
    r = detail::ring_run(ring, Op::kAccept, o, [](io_uring_sqe* s, void* a) {
      io_uring_prep_accept(s, *static_cast<int*>(a), nullptr, nullptr, SOCK_CLOEXEC);
    }, &fd_);
  } else {
    int fd = fd_;
    r = retry_nb(fd, POLLIN, o, [&] { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK); });
  }
  if (r < 0) return err(static_cast<int>(-r), Op::kAccept);
  return Stream(static_cast<int>(r));
}

Result<Addr> Listener::addr() const { return sock_name(fd_, false, Op::kAccept); }

Result<void> Listener::close() noexcept {
  if (fd_ < 0) return {};
  int fd = fd_;
  fd_ = -1;
  return io::close(fd);
}

// ---- dial --------------------------------------------------------------------

Result<Stream> dial(const Addr& addr, Deadline deadline) noexcept {
  int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking_mode() ? SOCK_NONBLOCK : 0);
  int fd = ::socket(addr.family(), type, 0);
  if (fd < 0) return err(errno, Op::kConnect);
  Stream s(fd);
  OpOptions o{deadline, nullptr};
  long r;
  if (detail::Ring* ring = detail::current_ring()) {
    struct C {
      int fd;
      const Addr* a;
    } c{fd, &addr};
    r = detail::ring_run(ring, Op::kConnect, o, [](io_uring_sqe* sq, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_connect(sq, c->fd, reinterpret_cast<const sockaddr*>(&c->a->ss), c->a->len);
    }, &c);
  } else {
    r = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) < 0 ? -errno : 0;
    if (r == -EINPROGRESS) {
      r = detail::sys_wait_fd(fd, POLLOUT, o);
      if (r >= 0) {
        int e = 0;
        socklen_t l = sizeof e;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
        r = -e;
      }
    }
  }
  if (r < 0) return err(static_cast<int>(-r), Op::kConnect);
  return s;
}

}  // namespace gmp::net
