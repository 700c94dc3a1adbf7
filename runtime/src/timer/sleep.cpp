// timer/sleep.cpp — the public time API (gmp/time.hpp) over the internal
// timer nodes: sleep_until, Timer/Ticker state, after().
//
// sleep: the goroutine arms its node in its park commit (Note in
// timer/timer.hpp: the node may fire on another P at once), and cancels it
// after waking only to wait for the callback to have let go of the node.
// Timer/Ticker/after: the callback try_sends the fire time on a channel of
// capacity 1, so a slow reader loses ticks instead of blocking a P.
#include <time.h>

#include <cerrno>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/go.hpp"
#include "gmp/time.hpp"
#include "sched/sched.hpp"
#include "sync/park.hpp"
#include "timer/timer.hpp"

namespace gmp::detail {

namespace {

struct SleepCommit {
  TimerNode* t;
  std::int64_t when;
};

bool sleep_commit(void* arg) {
  auto* c = static_cast<SleepCommit*>(arg);
  timer_arm(c->t, c->when);
  return true;
}

void sleep_fire(void* arg, std::int64_t) noexcept { wake_waiter(*static_cast<Waiter*>(arg)); }

TimePoint to_tp(std::int64_t ns) { return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns))); }

void chan_fire(void* arg, std::int64_t now) noexcept;

}  // namespace

struct TimerState {
  TimerNode node;
  Chan<TimePoint> ch;
};

namespace {
void chan_fire(void* arg, std::int64_t now) noexcept {
  auto* s = static_cast<TimerState*>(arg);
  s->ch.try_send(to_tp(now));
}

struct AfterState {
  TimerNode node;
  Chan<TimePoint> ch;
};
void after_fire(void* arg, std::int64_t now) noexcept {
  auto* s = static_cast<AfterState*>(arg);
  s->ch.try_send(to_tp(now));
  delete s;  // detached: nobody touches the node after this
}
}  // namespace

void sleep_until_ns(std::int64_t deadline_ns) noexcept {
  if (getg() == nullptr) {
    // A plain thread (or g0): sleep the thread itself.
    timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000), static_cast<long>(deadline_ns % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    return;
  }
  if (deadline_ns <= nanotime()) {
    gmp::yield();  // Go's Sleep(0) returns at once; yielding keeps it a safe point
    return;
  }
  Waiter w;
  TimerNode t;
  t.fn = sleep_fire;
  t.arg = &w;
  SleepCommit c{&t, deadline_ns};
  park_waiter(w, WaitReason::kSleep, sleep_commit, &c);
  timer_cancel(&t);  // already fired: only waits for the callback to return
}

TimerState* timer_state_new(std::int64_t when_ns, std::int64_t period_ns, const Chan<TimePoint>& ch) {
  GMP_CHECK(period_ns >= 0, "runtime: non-positive Ticker period");
  auto* s = new TimerState{TimerNode{}, ch};
  s->node.fn = chan_fire;
  s->node.arg = s;
  s->node.period = period_ns;
  timer_arm(&s->node, when_ns);
  return s;
}

bool timer_state_stop(TimerState* s) noexcept { return timer_cancel(&s->node); }

bool timer_state_reset(TimerState* s, std::int64_t when_ns) noexcept {
  bool was = timer_cancel(&s->node);
  timer_arm(&s->node, when_ns);
  return was;
}

void timer_state_free(TimerState* s) noexcept {
  timer_cancel(&s->node);
  delete s;
}

void after_ns(std::int64_t when_ns, const Chan<TimePoint>& ch) {
  auto* s = new AfterState{TimerNode{}, ch};
  s->node.fn = after_fire;
  s->node.arg = s;
  s->node.detached = true;
  timer_arm(&s->node, when_ns);
}

}  // namespace gmp::detail
