// sched/run_queue.hpp — a P's local run queue: 256-slot lock-free ring plus
// the runnext slot (Go's runq/runnext, proc.go runqput/runqget/runqgrab).
//
// Producer: only the owner P pushes (push, push_batch). Consumers: the owner
// (pop) and any thief (grab) CAS `head_`. Memory ordering:
//   - the owner writes a slot, then store-releases tail_; a consumer
//     load-acquires tail_ before reading slots up to it;
//   - a consumer reads the slots it wants, then CASes head_ (release); the
//     owner load-acquires head_ before reusing slots below it. A consumer
//     that read slots the owner then overwrote fails its CAS and retries.
// runnext: the owner may swap in any G; others may only CAS it to null (steal).
#pragma once

#include <atomic>
#include <cstdint>

#include "sched/g.hpp"

namespace gmp::detail {

inline constexpr std::uint32_t kRunQueueSize = 256;

class RunQueue {
 public:
  // Owner only. Returns false (and pushes nothing) when the ring is full.
  bool push(G* gp) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);  // pairs with consumers' CAS
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= kRunQueueSize) return false;
    buf_[t % kRunQueueSize].store(gp, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);  // pairs with consumers' acquire of tail_
    return true;
  }

  // Owner only: takes the first half of the ring (for the global queue when
  // the ring overflows). Writes up to kRunQueueSize/2 Gs into out; returns the
  // count, or 0 if a consumer raced us (the caller retries push).
  std::uint32_t take_half(G** out) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    std::uint32_t n = (t - h) / 2;
    if (n != kRunQueueSize / 2) return 0;  // not full any more: a thief took some
    for (std::uint32_t i = 0; i < n; i++) out[i] = buf_[(h + i) % kRunQueueSize].load(std::memory_order_relaxed);
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return 0;
    return n;
  }

  // Owner only. Returns the next G or null.
  G* pop() noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      G* gp = buf_[h % kRunQueueSize].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_release, std::memory_order_relaxed)) return gp;
    }
  }

  // Any thread: moves half (rounded up) of this queue into `dst`'s ring.
  // REQUIRES: the caller owns dst and dst's ring is empty.
  // Returns the number moved.
  std::uint32_t grab_into(RunQueue& dst) noexcept {
    std::uint32_t dt = dst.tail_.load(std::memory_order_relaxed);
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);  // pairs with the owner's release
      std::uint32_t n = t - h;
      n = n - n / 2;
      if (n == 0) return 0;
      if (n > kRunQueueSize / 2) continue;  // inconsistent h/t: retry
      for (std::uint32_t i = 0; i < n; i++) {
        G* gp = buf_[(h + i) % kRunQueueSize].load(std::memory_order_relaxed);
        dst.buf_[(dt + i) % kRunQueueSize].store(gp, std::memory_order_relaxed);
      }
      if (head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        dst.tail_.store(dt + n, std::memory_order_release);
        return n;
      }
    }
  }

  // Any thread: takes one G (sysmon moving a hog's queue; STW draining).
  G* steal_one() noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);
      if (t == h) return nullptr;
      if (t - h > kRunQueueSize) continue;
      G* gp = buf_[h % kRunQueueSize].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return gp;
    }
  }

  // Any thread; racy but never negative.
  std::uint32_t size() const noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_acquire);
    std::uint32_t n = t - h;
    return n > kRunQueueSize ? 0 : n;
  }
  bool empty() const noexcept { return size() == 0 && runnext.load(std::memory_order_acquire) == nullptr; }

  // The LIFO slot. Owner: exchange. Others: CAS to null only.
  std::atomic<G*> runnext{nullptr};

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};  // consumers CAS
  alignas(64) std::atomic<std::uint32_t> tail_{0};  // owner writes
  std::atomic<G*> buf_[kRunQueueSize]{};
};

// An MPSC stack of Gs pushed to a P by other threads (wake-ups aimed at a P
// whose M is looking for work). Anyone pushes; the owner takes all.
class Inbox {
 public:
  void push(G* gp) noexcept {
    G* old = head_.load(std::memory_order_relaxed);
    do {
      gp->sched_link = old;
    } while (!head_.compare_exchange_weak(old, gp, std::memory_order_seq_cst, std::memory_order_relaxed));
  }
  // Returns the Gs in push order (oldest first), linked by sched_link.
  G* take_all() noexcept {
    G* gp = head_.exchange(nullptr, std::memory_order_acquire);
    G* rev = nullptr;
    while (gp != nullptr) {
      G* next = gp->sched_link;
      gp->sched_link = rev;
      rev = gp;
      gp = next;
    }
    return rev;
  }
  bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

 private:
  std::atomic<G*> head_{nullptr};
};

}  // namespace gmp::detail
