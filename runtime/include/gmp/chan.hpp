// gmp/chan.hpp — Chan<T>: Go channels for goroutines (and plain threads).
//
//   gmp::Chan<int> ch;        // unbuffered: a send waits for a receiver
//   gmp::Chan<int> q(100);    // buffered, capacity 100
//   ch.send(1);               // parks the goroutine (never the M) until taken
//   std::optional<int> v = ch.recv();  // empty once closed and drained
//   ch.close();
//
// A Chan is a handle: copies refer to the same channel (as in Go; a const
// handle still sends and receives), the
// channel lives while a handle or a pending operation refers to it. Payloads
// may be move-only. Fatal errors, as in Go: send on a closed channel (also a
// sender already waiting when the channel is closed), close of a closed
// channel. A goroutine woken by a channel operation goes to the waker's
// runnext slot, so a ping-pong pair stays on one P.
//
// The template is a thin typed shell over a type-erased core (sync/chan.cpp):
// the channel logic is compiled once; T only supplies its size and its
// move-construct and destroy functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace gmp {

namespace detail {

// How the core moves elements of one type. dst is raw storage. `trivial`:
// a move is a byte copy and destruction is a no-op, so the core copies
// without calling through the pointers (the common int/pointer payload).
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src) noexcept;
  void (*destroy)(void* p) noexcept;
  bool trivial;
};

template <class T>
inline constexpr ElemOps kElemOps{
    sizeof(T), alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); },
    std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>};

class ChanCore;
enum class ChanResult : std::uint8_t { kOk, kClosed, kWouldBlock };

// The type-erased channel (sync/chan.cpp). Reference counted.
ChanCore* chan_new(std::size_t cap, const ElemOps* ops);
void chan_ref(ChanCore* c) noexcept;
void chan_unref(ChanCore* c) noexcept;
// Moves *elem into the channel (the caller still destroys *elem). kOk, or
// kWouldBlock when !block and no receiver or room. Fatal on a closed channel.
ChanResult chan_send(ChanCore* c, void* elem, bool block) noexcept;
// Move-constructs the next value into raw storage `out` (kOk), or kClosed
// (closed and drained; out untouched), or kWouldBlock when !block.
ChanResult chan_recv(ChanCore* c, void* out, bool block) noexcept;
void chan_close(ChanCore* c) noexcept;
std::size_t chan_len(const ChanCore* c) noexcept;
std::size_t chan_cap(const ChanCore* c) noexcept;
bool chan_closed(const ChanCore* c) noexcept;

}  // namespace detail

template <class T>
class Chan {
  static_assert(std::is_nothrow_move_constructible_v<T>, "gmp::Chan<T>: T must be nothrow move-constructible");
  static_assert(std::is_nothrow_destructible_v<T>, "gmp::Chan<T>: T must be nothrow destructible");

 public:
  using value_type = T;

  // A new channel with room for `cap` values (0: unbuffered).
  explicit Chan(std::size_t cap = 0) : c_(detail::chan_new(cap, &detail::kElemOps<T>)) {}
  Chan(const Chan& o) noexcept : c_(o.c_) { if (c_ != nullptr) detail::chan_ref(c_); }
  Chan(Chan&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Chan& operator=(Chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~Chan() { if (c_ != nullptr) detail::chan_unref(c_); }

  // Blocks until a receiver takes v or it is buffered. Fatal if closed.
  void send(T v) const noexcept { detail::chan_send(c_, &v, true); }
  // Sends only if that needs no waiting: returns false, v untouched, when it
  // would block (v is moved from only on success). Fatal if closed.
  bool try_send(T& v) const noexcept { return detail::chan_send(c_, &v, false) == detail::ChanResult::kOk; }
  bool try_send(T&& v) const noexcept { return detail::chan_send(c_, &v, false) == detail::ChanResult::kOk; }

  // Blocks until a value arrives; empty once the channel is closed and drained.
  std::optional<T> recv() const noexcept {
    alignas(T) unsigned char buf[sizeof(T)];
    if (detail::chan_recv(c_, buf, true) != detail::ChanResult::kOk) return std::nullopt;
    return take(buf);
  }
  // A value if one is ready now. *closed (optional) says whether an empty
  // result means "closed and drained" rather than "nothing yet".
  std::optional<T> try_recv(bool* closed = nullptr) const noexcept {
    alignas(T) unsigned char buf[sizeof(T)];
    detail::ChanResult r = detail::chan_recv(c_, buf, false);
    if (closed != nullptr) *closed = r == detail::ChanResult::kClosed;
    if (r != detail::ChanResult::kOk) return std::nullopt;
    return take(buf);
  }

  // Wakes every waiting receiver (they get an empty optional once the buffer
  // is drained). Fatal if already closed, and for senders still waiting.
  void close() const noexcept { detail::chan_close(c_); }

  std::size_t len() const noexcept { return detail::chan_len(c_); }
  std::size_t cap() const noexcept { return detail::chan_cap(c_); }
  bool closed() const noexcept { return detail::chan_closed(c_); }

  detail::ChanCore* core() const noexcept { return c_; }
  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.c_ == b.c_; }

  // Moves the T out of raw storage filled by the core, destroying the source.
  static std::optional<T> take(void* buf) noexcept {
    T* p = std::launder(static_cast<T*>(buf));
    std::optional<T> v(std::move(*p));
    p->~T();
    return v;
  }

 private:
  detail::ChanCore* c_;
};

}  // namespace gmp
