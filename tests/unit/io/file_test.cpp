// File operations, deadlines, cancellation and gmp::blocking hand-off, under
// both backends.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "io_fixture.hpp"
#include "sched/sched.hpp"

namespace {

using namespace std::chrono_literals;
using gmp_io_test::count_fds;

class FileIo : public gmp_io_test::IoBackend {
 protected:
  std::string tmp_path(const char* name) {
    return std::string(testing::TempDir()) + "gmp_io_" + name + "_" + std::to_string(getpid());
  }
};
GMP_IO_INSTANTIATE(FileIo);

TEST_P(FileIo, WriteReadFsyncStatxRoundTrip) {
  std::string path = tmp_path("rt");
  int before = count_fds();
  int rc = run([&] {
    auto fd = gmp::io::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    EXPECT_TRUE(fd.ok()) << fd.error().message();
    if (!fd) return 1;
    std::string data(100000, 'x');
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>('a' + i % 26);
    auto w = gmp::io::pwrite(*fd, data.data(), data.size(), 0);
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(w.value(), data.size());
    EXPECT_TRUE(gmp::io::fsync(*fd).ok());
    EXPECT_TRUE(gmp::io::fsync(*fd, true).ok());
    struct statx st {};
    auto s = gmp::io::statx(AT_FDCWD, path.c_str(), 0, STATX_SIZE, &st);
    EXPECT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(st.stx_size, data.size());
    std::string back(data.size(), '\0');
    size_t got = 0;
    while (got < back.size()) {
      auto r = gmp::io::pread(*fd, back.data() + got, back.size() - got, static_cast<off_t>(got));
      EXPECT_TRUE(r.ok());
      if (!r || r.value() == 0) break;
      got += r.value();
    }
    EXPECT_EQ(back, data);
    // readv/writev at the current offset.
    EXPECT_EQ(lseek(*fd, 0, SEEK_SET), 0);
    char a[3], b[4];
    iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    auto rv = gmp::io::readv(*fd, iov, 2);
    EXPECT_TRUE(rv.ok());
    EXPECT_EQ(rv.value(), 7u);
    EXPECT_EQ(std::string(a, 3) + std::string(b, 4), "abcdefg");
    char z[2] = {'Z', 'Z'};
    iovec wv[1] = {{z, 2}};
    EXPECT_TRUE(gmp::io::writev(*fd, wv, 1).ok());
    EXPECT_TRUE(gmp::io::close(*fd).ok());
    return 0;
  });
  EXPECT_EQ(rc, 0);
  unlink(path.c_str());
  EXPECT_EQ(count_fds(), before);
}

TEST_P(FileIo, ErrorsCarryErrnoAndOperation) {
  run([&] {
    auto fd = gmp::io::open("/nonexistent/dir/file", O_RDONLY);
    EXPECT_FALSE(fd.ok());
    EXPECT_EQ(fd.err(), ENOENT);
    EXPECT_EQ(fd.error().op, gmp::io::Op::kOpenat);
    EXPECT_NE(fd.error().message().find("openat"), std::string::npos);
    auto c = gmp::io::close(987654);
    EXPECT_EQ(c.err(), EBADF);
    char buf[4];
    auto r = gmp::io::read(987654, buf, 4);
    EXPECT_EQ(r.err(), EBADF);
    struct statx st {};
    EXPECT_EQ(gmp::io::statx(AT_FDCWD, "/nonexistent", 0, STATX_SIZE, &st).err(), ENOENT);
    EXPECT_EQ(gmp::io::open("/", O_WRONLY).err(), EISDIR);
    return 0;
  });
}

TEST_P(FileIo, PipeReadDeadlineFires) {
  int before = count_fds();
  run([&] {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    char buf[8];
    auto t0 = std::chrono::steady_clock::now();
    auto r = gmp::io::read(p[0], buf, sizeof buf, {gmp::io::after(30ms), nullptr});
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.err(), ETIMEDOUT);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 29ms);
    // The pipe still works after the cancelled read.
    EXPECT_EQ(::write(p[1], "hi", 2), 2);
    auto r2 = gmp::io::read(p[0], buf, sizeof buf, {gmp::io::after(5s), nullptr});
    EXPECT_TRUE(r2.ok());
    EXPECT_EQ(r2.value(), 2u);
    (void)gmp::io::close(p[0]);
    (void)gmp::io::close(p[1]);
    return 0;
  });
  EXPECT_EQ(count_fds(), before);
}

TEST_P(FileIo, CancelTokenFromAnotherGoroutine) {
  run([&] {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    gmp::io::CancelToken tok;
    std::atomic<int> err{0};
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      char buf[8];
      auto r = gmp::io::read(p[0], buf, sizeof buf, {gmp::io::kNoDeadline, &tok});
      err = r.err();
      wg.done();
    });
    (void)gmp::io::sleep_until(gmp::io::after(20ms));
    tok.cancel();
    wg.wait();
    EXPECT_EQ(err.load(), ECANCELED);
    // Sticky: a new operation with the token fails at once.
    char b;
    EXPECT_EQ(gmp::io::read(p[0], &b, 1, {gmp::io::kNoDeadline, &tok}).err(), ECANCELED);
    (void)gmp::io::close(p[0]);
    (void)gmp::io::close(p[1]);
    return 0;
  });
}

TEST_P(FileIo, SleepAndPoll) {
  run([&] {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(gmp::io::sleep_until(gmp::io::after(10ms)).ok());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 10ms);
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    EXPECT_EQ(gmp::io::poll(p[0], POLLIN, {gmp::io::after(10ms), nullptr}).err(), ETIMEDOUT);
    EXPECT_EQ(::write(p[1], "x", 1), 1);
    auto r = gmp::io::poll(p[0], POLLIN, {gmp::io::after(5s), nullptr});
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.value() & POLLIN);
    (void)gmp::io::close(p[0]);
    (void)gmp::io::close(p[1]);
    return 0;
  });
}

TEST_P(FileIo, ManyGoroutinesDoIoConcurrently) {
  std::string path = tmp_path("many");
  int before = count_fds();
  run([&] {
    auto fd = gmp::io::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    EXPECT_TRUE(fd.ok());
    constexpr int kN = 200;
    gmp::WaitGroup wg;
    wg.add(kN);
    std::atomic<int> bad{0};
    for (int i = 0; i < kN; i++) {
      gmp::go([&, i] {
        char buf[64];
        std::memset(buf, 'A' + i % 26, sizeof buf);
        if (!gmp::io::pwrite(*fd, buf, sizeof buf, i * 64).ok()) bad++;
        char back[64];
        auto r = gmp::io::pread(*fd, back, sizeof back, i * 64);
        if (!r || r.value() != 64 || std::memcmp(buf, back, 64) != 0) bad++;
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(bad.load(), 0);
    (void)gmp::io::close(*fd);
    return 0;
  });
  unlink(path.c_str());
  EXPECT_EQ(count_fds(), before);
}

TEST_P(FileIo, PlainThreadCallsWork) {
  // Outside the runtime every call is the plain system call.
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_TRUE(gmp::io::write(p[1], "ok", 2).ok());
  char buf[2];
  auto r = gmp::io::read(p[0], buf, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 2u);
  EXPECT_EQ(gmp::io::read(p[0], buf, 2, {gmp::io::after(5ms), nullptr}).err(), ETIMEDOUT);
  (void)gmp::io::close(p[0]);
  (void)gmp::io::close(p[1]);
}

// A goroutine stuck in a long gmp::blocking call must not stop the other
// goroutines queued on its P: sysmon hands the P to another M.
TEST_P(FileIo, BlockingCallHandsOffItsP) {
  std::atomic<bool> release{false};
  std::atomic<int> others{0};
  gmp::Config c = cfg();
  c.procs = 1;
  int rc = gmp::run(c, [&] {
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      gmp::blocking([&] {
        // Blocks its M (not a runtime wait) until the other goroutines ran.
        while (!release.load()) usleep(1000);
        return 0;
      });
      wg.done();
    });
    gmp::yield();  // let it start and block
    constexpr int kN = 50;
    gmp::WaitGroup wg2;
    wg2.add(kN);
    for (int i = 0; i < kN; i++) {
      gmp::go([&] {
        others++;
        wg2.done();
      });
    }
    wg2.wait();  // only completes if the P was handed off
    release = true;
    wg.wait();
    return others.load() == kN ? 0 : 1;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_GE(gmp::io::io_stats().handoffs, 1u);
}

// An operation prepared by a goroutine is submitted even while another
// goroutine keeps its P busy and never parks: the ring reports its SQEs as
// due after the batching delay, so sysmon asks the busy one to poll (the
// stw workload's io ping-pong made ~1 round trip in 5 s before).
TEST_P(FileIo, OperationIsSubmittedWhileABusyGoroutineHoldsTheP) {
  gmp::Config c = cfg();
  c.procs = 1;
  std::atomic<int> trips{0};
  std::atomic<bool> gave_up{false};
  int rc = gmp::run(c, [&] {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    gmp::WaitGroup wg;
    wg.add(2);
    gmp::go([&] {  // busy: safe points, never parks
      auto until = std::chrono::steady_clock::now() + 20s;  // a bound, not a timing
      while (trips.load() < 20) {
        if (std::chrono::steady_clock::now() > until) {
          gave_up = true;
          break;
        }
        gmp::preempt_point();
      }
      wg.done();
    });
    gmp::go([&] {
      char b = 'x';
      for (int i = 0; i < 20 && !gave_up.load(); i++) {
        if (!gmp::io::write(p[1], &b, 1).ok()) break;
        if (!gmp::io::read(p[0], &b, 1).ok()) break;
        trips++;
      }
      wg.done();
    });
    wg.wait();
    (void)gmp::io::close(p[0]);
    (void)gmp::io::close(p[1]);
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(trips.load(), 20);
  EXPECT_FALSE(gave_up.load());
}

TEST_P(FileIo, BlockingFastPathKeepsP) {
  run([&] {
    long sum = 0;
    for (int i = 0; i < 1000; i++) sum += gmp::blocking([i] { return i; });
    EXPECT_EQ(sum, 999L * 1000 / 2);
    EXPECT_EQ(gmp::blocking([] { return std::string("v"); }), "v");
    return 0;
  });
}

// COOP_TASKRUN is the default where the kernel has it; GMP_IO_COOP=0 turns
// it off. Either way a completion submitted on one P and reaped after the
// goroutine that waits for it was readied elsewhere arrives.
class TaskWork : public testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Coop, TaskWork, testing::Values("default", "0"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param) == "0" ? std::string("off") : std::string("default");
                         });

TEST_P(TaskWork, ModeFollowsGmpIoCoopAndIoWorks) {
  const bool off = std::string(GetParam()) == "0";
  if (off) setenv("GMP_IO_COOP", "0", 1); else unsetenv("GMP_IO_COOP");
  ASSERT_EQ(gmp::io::set_backend("io_uring").message(), "");
  gmp::Config c;
  c.procs = 2;
  c.pin = false;
  std::string desc;
  int got = 0;
  gmp::run(c, [&]() -> int {
    desc = gmp::io::backend_description();
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    gmp::WaitGroup wg;
    std::atomic<int> sum{0};
    for (int i = 0; i < 50; i++) {
      wg.add(1);
      gmp::go([&] {
        char b = 0;
        auto r = gmp::io::read(p[0], &b, 1, {gmp::io::after(10s), nullptr});
        if (r.ok() && r.value() == 1) sum.fetch_add(b);
        wg.done();
      });
    }
    for (int i = 0; i < 50; i++) {
      char b = 1;
      EXPECT_TRUE(gmp::io::write(p[1], &b, 1).ok());
      if (i % 7 == 0) gmp::yield();
    }
    wg.wait();
    got = sum.load();
    (void)gmp::io::close(p[0]);
    (void)gmp::io::close(p[1]);
    return 0;
  });
  unsetenv("GMP_IO_COOP");
  EXPECT_EQ(got, 50);
  if (!gmp::io::uring_enabled() && desc.find("io_uring,") == std::string::npos) GTEST_SKIP() << desc;
  const bool kernel_has = desc.find("coop-taskrun") < desc.find("using:");
  if (off || !kernel_has) {
    EXPECT_NE(desc.find("using: default task work"), std::string::npos) << desc;
  } else {
    EXPECT_NE(desc.find("using: coop-taskrun"), std::string::npos) << desc;
  }
}

}  // namespace
