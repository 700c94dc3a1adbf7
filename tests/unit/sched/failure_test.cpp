// When things go wrong (docs/FAILURES.md): the program ends when main
// returns, exit(n) exits n, deadlocks and crashes are reported with every
// goroutine's stack, fatal errors exit 70, and reports that must not fire
// do not. Each case runs in a death-test child (threadsafe style: a fresh
// process), so a hang is bounded by the child's own exit paths and a wrong
// exit is reported with what the child printed.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../wait_until.hpp"
#include "gmp/gmp.hpp"
#include "sched/deadlock.hpp"

namespace {

using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

gmp::Config two_p() { return {.procs = 2, .pin = false}; }

// Runs main_fn under gmp::run and exits with what it returned, saying so on
// stderr (a death test sees stderr only). Reaching the line proves that
// gmp::run returned rather than exiting the process itself.
[[noreturn]] void run_and_exit(gmp::Config cfg, std::function<int()> main_fn) {
  alarm(60);  // a hang ends the child (SIGALRM), failing the test with its output
  int rc = gmp::run(cfg, std::move(main_fn));
  std::fprintf(stderr, "gmp::run returned %d\n", rc);
  std::fflush(stderr);
  std::_Exit(rc);
}

class Failure : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// ---- 1. main returns: the program ends ---------------------------------------

TEST_F(Failure, MainReturnsWhileAGoroutineLoopsOnPreemptPoints) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::go([] {
                               for (;;) gmp::preempt_point();
                             });
                             gmp::sleep_for(20ms);
                             return 7;
                           }),
              testing::ExitedWithCode(7), "gmp::run returned 7");
}

TEST_F(Failure, MainReturnsWhileAGoroutineLoopsOnNonBlockingChannelOps) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::go([] {
                               gmp::Chan<int> c(4);
                               for (;;) {
                                 c.try_send(1);
                                 (void)c.try_recv();
                               }
                             });
                             gmp::sleep_for(20ms);
                             return 7;
                           }),
              testing::ExitedWithCode(7), "gmp::run returned 7");
}

// These cannot be stopped: the process exits with main's status instead.
TEST_F(Failure, MainReturnsWhileAGoroutineLoopsWithoutASafePoint) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::go([] {
                               for (;;) asm volatile("" ::: "memory");
                             });
                             gmp::sleep_for(20ms);
                             return 7;
                           }),
              testing::ExitedWithCode(7), testing::Not(testing::HasSubstr("returned")));
}

TEST_F(Failure, MainReturnsWhileAGoroutineIsInABlockingRead) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             int fd[2];
                             if (pipe(fd) != 0) return 1;
                             gmp::go([fd] {
                               char b;
                               gmp::blocking([&] { return ::read(fd[0], &b, 1); });
                             });
                             gmp::sleep_for(20ms);
                             return 7;
                           }),
              testing::ExitedWithCode(7), "");
}

TEST_F(Failure, MainReturnsWhileAGoroutineIsInARawRead) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             int fd[2];
                             if (pipe(fd) != 0) return 1;
                             gmp::go([fd] {
                               char b;
                               (void)!::read(fd[0], &b, 1);
                             });
                             gmp::sleep_for(20ms);
                             return 7;
                           }),
              testing::ExitedWithCode(7), "");
}

// ---- 2. exit(n) from anywhere ------------------------------------------------

TEST_F(Failure, ExitFromAGoroutineExitsWithItsStatus) {
  EXPECT_EXIT(gmp::run(two_p(),
                       [] {
                         gmp::go([] {
                           std::fputs("buffered before exit\n", stderr);
                           std::exit(5);
                         });
                         gmp::Chan<int> never;
                         never.recv();
                         return 0;
                       }),
              testing::ExitedWithCode(5), "buffered before exit");
}

TEST_F(Failure, ExitFromAPlainThreadWhileTheRuntimeRuns) {
  EXPECT_EXIT(
      {
        ASSERT_EQ(gmp::start(two_p()).message(), "");
        gmp::go([] {
          for (;;) gmp::sleep_for(1ms);
        });
        std::exit(3);
      },
      testing::ExitedWithCode(3), "");
}

// ---- 5. deadlock ---------------------------------------------------------------

__attribute__((noinline)) void waits_forever_here(gmp::Chan<int> c) { (void)c.recv(); }

TEST_F(Failure, AllGoroutinesAsleepIsADeadlockWithStacks) {
  if (kTsan) GTEST_SKIP() << "TSan's own background thread counts as a thread that could wake a goroutine";
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::Chan<int> c;
                             gmp::WaitGroup wg;
                             wg.add(1);
                             gmp::go([&wg] { wg.wait(); });
                             waits_forever_here(c);
                             return 0;
                           }),
              testing::ExitedWithCode(70),
              "fatal error: all goroutines are asleep - deadlock!(.|\n)*"
              "goroutine 1 \\[waiting: chan receive(.|\n)*waits_forever_here(.|\n)*wait group");
}

TEST_F(Failure, GoroutinesWaitingOnAMutexAndAChannelAreADeadlock) {
  if (kTsan) GTEST_SKIP() << "TSan's own background thread counts as a thread that could wake a goroutine";
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::Mutex mu;
                             mu.lock();
                             gmp::go([&mu] { mu.lock(); });
                             gmp::sleep_for(5ms);
                             gmp::Chan<int> c;
                             c.recv();
                             return 0;
                           }),
              testing::ExitedWithCode(70), "all goroutines are asleep(.|\n)*mutex");
}

// Must not fire: each waits ~400 ms (four confirmation periods) on
// something that will wake it.
TEST_F(Failure, NoDeadlockWhileATimerIsPending) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::Chan<int> c(1);
                             gmp::go([c] {
                               gmp::sleep_for(400ms);
                               c.send(1);
                             });
                             return c.recv().value_or(0) == 1 ? 0 : 1;
                           }),
              testing::ExitedWithCode(0), "gmp::run returned 0");
}

TEST_F(Failure, NoDeadlockWhileIoIsInFlight) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             // A child process writes the pipe later: no
                             // thread of ours can wake the reader.
                             FILE* p = popen("sleep 0.4; echo x", "r");
                             if (p == nullptr) return 1;
                             char b = 0;
                             auto r = gmp::io::read(fileno(p), &b, 1);
                             const bool ok = r.ok() && r.value() == 1;
                             pclose(p);
                             return ok && b == 'x' ? 0 : 1;
                           }),
              testing::ExitedWithCode(0), "gmp::run returned 0");
}

TEST_F(Failure, NoDeadlockWhileInABlockingCall) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::Chan<int> c(1);
                             gmp::go([c] {
                               gmp::blocking([] { return ::usleep(400'000); });
                               c.send(1);
                             });
                             return c.recv().value_or(0) == 1 ? 0 : 1;
                           }),
              testing::ExitedWithCode(0), "gmp::run returned 0");
}

TEST_F(Failure, NoDeadlockWhileAPlainThreadWillSend) {
  EXPECT_EXIT(run_and_exit(two_p(),
                           [] {
                             gmp::Chan<int> c;
                             std::thread t([c] {
                               std::this_thread::sleep_for(400ms);
                               c.send(1);
                             });
                             int v = c.recv().value_or(0);
                             gmp::blocking([&] {
                               t.join();
                               return 0;
                             });
                             return v == 1 ? 0 : 1;
                           }),
              testing::ExitedWithCode(0), "gmp::run returned 0");
}

// Note [Deadlock]: a woken plain thread stops counting as asleep when it is
// woken, not when the kernel runs it again. Without that, a goroutine that
// wakes a thread and waits for its answer could be reported as a deadlock
// while the thread waits for a CPU. Here the thread is SCHED_IDLE and pinned
// beside a busy thread, so it runs milliseconds after its wake-up: the
// count is read long before.
TEST(Deadlock, AWokenPlainThreadIsNoLongerCountedAsWaiting) {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine)) cpu++;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  gmp::run(two_p(), [&] {
    const int base = gmp::detail::plain_waits();  // gmp::run's own thread
    EXPECT_GE(base, 1);
    std::atomic<bool> hog_on{true}, hog_ready{false};
    std::thread hog([&] {
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      hog_ready.store(true);
      while (hog_on.load(std::memory_order_relaxed)) {}
    });
    gmp::Chan<int> c;
    std::thread t([&] {
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      sched_param sp{};
      (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
      (void)c.recv();
    });
    while (!hog_ready.load() || gmp::detail::plain_waits() != base + 1) gmp::sleep_for(1ms);
    c.send(1);  // wakes t, which needs the hog's CPU
    EXPECT_EQ(gmp::detail::plain_waits(), base) << "the woken thread still counted as asleep";
    hog_on.store(false);
    gmp::blocking([&] {
      t.join();
      hog.join();
      return 0;
    });
    return 0;
  });
  EXPECT_EQ(gmp::detail::plain_waits(), 0);
}

// ---- 6. crash reports ------------------------------------------------------------

__attribute__((noinline)) void crashes_here(volatile int* p) { *p = 1; }
__attribute__((noinline)) int divides_here(volatile int d) { return 100 / d; }
__attribute__((noinline)) void parked_here(gmp::Chan<int> c) {
  (void)c.recv();
  (void)c.recv();  // not the same code as waits_forever_here (identical code folding)
}

TEST_F(Failure, SegvOnAGoroutinePrintsItsStackAndTheOthers) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer reports the fault itself";
  EXPECT_EXIT(gmp::run(two_p(),
                       [] {
                         gmp::Chan<int> c;
                         gmp::go([c] { parked_here(c); });
                         gmp::sleep_for(10ms);
                         volatile int* p = nullptr;
                         crashes_here(p);
                         return 0;
                       }),
              testing::KilledBySignal(SIGSEGV),
              "SIGSEGV: segmentation violation\nPC=0x[0-9a-f]+ m=[0-9]+ sigcode=[0-9]+ addr=\\(nil\\)(.|\n)*"
              "goroutine 1 \\[running, M [0-9]+, P [0-9]+\\]:(.|\n)*crashes_here(.|\n)*failure_test.cpp:[0-9]+(.|\n)*"
              "goroutine [0-9]+ \\[waiting: chan receive(.|\n)*parked_here");
}

TEST_F(Failure, SigfpeAndAbortAreReportedToo) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer reports the fault itself";
  EXPECT_EXIT(gmp::run(two_p(), [] { return divides_here(0); }), testing::KilledBySignal(SIGFPE),
              "SIGFPE: floating-point exception(.|\n)*goroutine 1 \\[running(.|\n)*divides_here");
  EXPECT_EXIT(gmp::run(two_p(),
                       [] {
                         std::abort();
                         return 0;
                       }),
              testing::KilledBySignal(SIGABRT), "SIGABRT: abort(.|\n)*goroutine 1 \\[running(.|\n)*abort");
}

// ---- 3. stops that a looping goroutine cannot freeze ---------------------------

// A goroutine that runs without a safe point until told to stop.
class Spinner {
 public:
  explicit Spinner(bool with_chan_ops) {
    gmp::go([this, with_chan_ops] {
      gmp::Chan<int> c(1);
      running_.store(true);
      while (!stop_.load(std::memory_order_relaxed)) {
        if (with_chan_ops) {
          c.try_send(1);
          (void)c.try_recv();
        }
      }
      done_.store(true);
    });
    EXPECT_TRUE(gmp::testing::wait_until([&] { return running_.load(); }));
  }
  ~Spinner() {
    stop_.store(true);
    EXPECT_TRUE(gmp::testing::wait_until([&] { return done_.load(); }));
  }

 private:
  std::atomic<bool> running_{false}, stop_{false}, done_{false};
};

// Without bounded stops these would wait for ever: a watchdog turns that
// into a failure with a message (and ends the binary: the stop cannot be
// undone).
class BoundedStop : public testing::Test {
 protected:
  void SetUp() override {
    watchdog_ = std::thread([this] {
      std::unique_lock<std::mutex> lk(mu_);
      if (!cv_.wait_for(lk, 60s, [this] { return done_; })) {
        std::fprintf(stderr, "BoundedStop: the test has not finished in 60 s: a stop waits for ever\n");
        std::_Exit(1);
      }
    });
    ASSERT_EQ(gmp::start({.procs = 2, .pin = false, .report_hogs = false}).message(), "");
  }
  void TearDown() override {
    gmp::stop();
    {
      std::lock_guard<std::mutex> lk(mu_);
      done_ = true;
    }
    cv_.notify_one();
    watchdog_.join();
  }

 private:
  std::thread watchdog_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

TEST_F(BoundedStop, DumpProceedsPastAGoroutineWithoutASafePoint) {
  Spinner spin(false);
  char path[] = "/tmp/gmp_dump_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  int n = gmp::stw::dump_goroutines(fd);
  EXPECT_GE(n, 1);
  std::string out(1 << 16, '\0');
  out.resize(static_cast<std::size_t>(pread(fd, out.data(), out.size(), 0)));
  close(fd);
  EXPECT_THAT(out, testing::HasSubstr("gave up after 1000 ms: goroutine"));
  EXPECT_THAT(out, testing::HasSubstr("has not reached a safe point; dumping without it"));
  EXPECT_THAT(out, testing::ContainsRegex("goroutine [0-9]+ \\[running"));
}

TEST_F(BoundedStop, SetProcsFailsWithTheGoroutineItWaitedFor) {
  Spinner spin(false);
  std::string err = gmp::set_procs(1).message();
  EXPECT_THAT(err, testing::MatchesRegex("set_procs: stop-the-world \\(procresize\\) gave up after 1000 ms: goroutine "
                                         "[0-9]+ on P [0-9] \\(M [0-9]+, running [0-9]+ ms\\) has not reached a safe point"));
  EXPECT_EQ(gmp::procs(), 2);
}

TEST_F(BoundedStop, NonBlockingChannelOpsAreSafePoints) {
  Spinner spin(true);
  EXPECT_EQ(gmp::set_procs(1).message(), "");
  EXPECT_EQ(gmp::procs(), 1);
}

// ---- 4. a raw blocking system call is reported -----------------------------------

TEST(RawBlockingCall, IsReportedAndItsPsQueueMoved) {
  ASSERT_EQ(gmp::start({.procs = 2, .pin = false, .hog_threshold = std::chrono::milliseconds(5)}).message(), "");
  const std::uint64_t hogs0 = gmp::sched_stats().hogs;
  int fd[2];
  ASSERT_EQ(pipe(fd), 0);
  std::atomic<int> ran{0};
  std::atomic<bool> blocked{false};
  // The reader spawns goroutines that yield onto its own P just before it
  // blocks: its P has a queue behind it (another P steals at most half of
  // it, and then has work of its own).
  std::atomic<bool> stop{false};
  gmp::go([&] {
    for (int i = 0; i < 6; i++) {
      gmp::go([&] {
        while (!stop.load()) {
          ran.fetch_add(1);
          gmp::yield();
        }
      });
    }
    blocked.store(true);
    char b;
    (void)!::read(fd[0], &b, 1);
  });
  EXPECT_TRUE(gmp::testing::wait_until([&] { return blocked.load(); }));
  EXPECT_TRUE(gmp::testing::wait_until([&] { return gmp::sched_stats().hogs > hogs0; }))
      << "sysmon never reported the goroutine blocked in read(2)";
  // The others still run.
  int before = ran.load();
  EXPECT_TRUE(gmp::testing::wait_until([&] { return ran.load() > before + 100; }));
  char b = 'x';
  ASSERT_EQ(::write(fd[1], &b, 1), 1);
  stop.store(true);
  gmp::stop();
  close(fd[0]);
  close(fd[1]);
}

// ---- 7. fatal runtime errors have one status ---------------------------------------

TEST_F(Failure, FatalErrorsExit70) {
  EXPECT_EXIT(gmp::run(two_p(),
                       [] {
                         gmp::Chan<int> c(1);
                         c.close();
                         c.send(1);
                         return 0;
                       }),
              testing::ExitedWithCode(70), "runtime: send on closed channel");
}

}  // namespace
