// The M and P lifecycle hooks (sched/hooks.hpp): a hook table registered
// here, like the pool's, lock elision's, stw's and io's, sees every M start
// and stop once, P acquires and releases paired on one thread (the same P,
// mp->p == pp at both), the gmp::blocking hand-back as a release then an
// acquire, and the wake of an idle M.
//
// No timing assertions.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "../wait_until.hpp"
#include "gmp/gmp.hpp"
#include "sched/hooks.hpp"
#include "sched/sched.hpp"

namespace {

using gmp::detail::M;
using gmp::detail::P;
using gmp::testing::wait_until;

std::atomic<int> n_m_start{0}, n_m_stop{0}, n_acquire{0}, n_release{0}, n_wake{0}, n_bad{0};
thread_local bool t_started = false;
thread_local P* t_held = nullptr;

void on_m_start(M* mp) noexcept {
  if (t_started || gmp::detail::getm() != mp) n_bad.fetch_add(1);
  t_started = true;
  n_m_start.fetch_add(1);
}
void on_m_stop(M* mp) noexcept {
  // After the M gave its P back, on its own thread.
  if (!t_started || t_held != nullptr || mp->p != nullptr || gmp::detail::getm() != mp) n_bad.fetch_add(1);
  n_m_stop.fetch_add(1);
}
void on_acquire(M* mp, P* pp) noexcept {
  if (t_held != nullptr || mp->p != pp || gmp::detail::getm() != mp) n_bad.fetch_add(1);
  t_held = pp;
  n_acquire.fetch_add(1);
}
void on_release(M* mp, P* pp) noexcept {
  if (t_held != pp || mp->p != pp || gmp::detail::getm() != mp) n_bad.fetch_add(1);
  t_held = nullptr;
  n_release.fetch_add(1);
}
void on_wake(M*) noexcept { n_wake.fetch_add(1); }

const gmp::detail::MpHooks kTestHooks{"test", on_m_start, on_m_stop, on_acquire, on_release, on_wake};
struct Registrar {
  Registrar() noexcept { gmp::detail::register_mp_hooks(&kTestHooks); }
} registrar;

void reset() {
  for (auto* c : {&n_m_start, &n_m_stop, &n_acquire, &n_release, &n_wake, &n_bad}) c->store(0);
}

gmp::Config procs(int n) {
  gmp::Config c;
  c.pin = false;
  c.procs = n;
  return c;
}

TEST(MpHooks, EveryMStartsAndStopsOnceAndPsPairUp) {
  reset();
  ASSERT_EQ(gmp::start(procs(2)).message(), "");
  std::atomic<int> done{0};
  for (int i = 0; i < 8; i++) {
    gmp::go([&] {
      gmp::Chan<int> ch;
      gmp::go([&] { ch.send(1); });
      ch.recv();
      gmp::blocking([] { return 0; });
      done.fetch_add(1);
    });
  }
  ASSERT_TRUE(wait_until([&] { return done.load() == 8; }));
  gmp::stop();
  const int ms = gmp::detail::sched.mcount.load();
  EXPECT_GE(ms, 2);
  EXPECT_EQ(n_m_start.load(), ms);
  EXPECT_EQ(n_m_stop.load(), ms);
  EXPECT_GE(n_acquire.load(), 2);
  EXPECT_EQ(n_acquire.load(), n_release.load());
  EXPECT_EQ(n_bad.load(), 0) << "a hook ran on the wrong thread, unpaired, or with mp->p not the P";
}

// A blocking call gives the P up (release) and, when it is still there on
// return, takes it back (acquire): one pair on the goroutine's M.
TEST(MpHooks, BlockingCallReleasesAndReacquiresThePOnItsM) {
  reset();
  ASSERT_EQ(gmp::start(procs(1)).message(), "");
  std::atomic<int> acq_before{-1}, rel_before{-1}, acq_after{-1}, rel_after{-1};
  std::atomic<bool> done{false};
  gmp::go([&] {
    acq_before.store(n_acquire.load());
    rel_before.store(n_release.load());
    gmp::blocking([&] {
      acq_after.store(n_acquire.load());  // inside: released, not yet back
      rel_after.store(n_release.load());
      return 0;
    });
    done.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return done.load(); }));
  EXPECT_EQ(rel_after.load(), rel_before.load() + 1);
  EXPECT_EQ(acq_after.load(), acq_before.load());
  gmp::stop();
  EXPECT_EQ(n_acquire.load(), n_release.load());
  EXPECT_EQ(n_bad.load(), 0);
}

// Work for an idle P starts its parked M: the wake hook runs for it.
TEST(MpHooks, StartingAParkedMRunsTheWakeHook) {
  reset();
  ASSERT_EQ(gmp::start(procs(2)).message(), "");
  auto parked = [] {
    gmp::detail::LockGuard lk(gmp::detail::sched.lock);
    return gmp::detail::sched.npidle.load() == 2 && gmp::detail::sched.midle != nullptr;
  };
  ASSERT_TRUE(wait_until(parked));
  const int before = n_wake.load();
  std::atomic<bool> ran{false};
  gmp::go([&] { ran.store(true); });
  ASSERT_TRUE(wait_until([&] { return ran.load(); }));
  EXPECT_GT(n_wake.load(), before);
  gmp::stop();
  EXPECT_EQ(n_bad.load(), 0);
}

}  // namespace
