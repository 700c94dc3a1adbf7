// timer/heap.hpp — a 4-ary min-heap of TimerNode* keyed by `when` (Go's
// timer heap since 2013: shallower than binary, fewer cache misses on push).
// Each node records its index so that cancel is O(log n).
// Not thread-safe: the owner (timer.cpp) holds the per-P lock.
#pragma once

#include <cstddef>
#include <vector>

#include "timer/timer.hpp"

namespace gmp::detail {

class TimerHeap {
 public:
  bool empty() const noexcept { return v_.empty(); }
  std::size_t size() const noexcept { return v_.size(); }
  TimerNode* top() const noexcept { return v_.front(); }

  void push(TimerNode* t) {
    t->index = static_cast<int>(v_.size());
    v_.push_back(t);
    up(v_.size() - 1);
  }
  // REQUIRES: t is in this heap.
  void remove(TimerNode* t) noexcept {
    std::size_t i = static_cast<std::size_t>(t->index);
    std::size_t last = v_.size() - 1;
    if (i != last) {
      v_[i] = v_[last];
      v_[i]->index = static_cast<int>(i);
    }
    v_.pop_back();
    t->index = -1;
    if (i < v_.size()) {
      if (i > 0 && v_[i]->when < v_[(i - 1) / 4]->when) up(i); else down(i);
    }
  }
  void pop() noexcept { remove(v_.front()); }

 private:
  void set(std::size_t i, TimerNode* t) noexcept {
    v_[i] = t;
    t->index = static_cast<int>(i);
  }
  void up(std::size_t i) noexcept {
    TimerNode* t = v_[i];
    while (i > 0) {
      std::size_t parent = (i - 1) / 4;
      if (v_[parent]->when <= t->when) break;
      set(i, v_[parent]);
      i = parent;
    }
    set(i, t);
  }
  void down(std::size_t i) noexcept {
    TimerNode* t = v_[i];
    std::size_t n = v_.size();
    for (;;) {
      std::size_t c = 4 * i + 1;
      if (c >= n) break;
      std::size_t best = c;
      for (std::size_t k = c + 1; k < c + 4 && k < n; k++) {
        if (v_[k]->when < v_[best]->when) best = k;
      }
      if (v_[best]->when >= t->when) break;
      set(i, v_[best]);
      i = best;
    }
    set(i, t);
  }

  std::vector<TimerNode*> v_;
};

}  // namespace gmp::detail
