// Attaching by pid raises the probes' semaphores in that process only, and
// detaching puts them back to zero: the target runs exactly as before.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <vector>
#include <string>
#include <thread>

#include "gmptrace/elf_probes.hpp"

namespace {

const std::string kTrace = std::string(GMP_BIN_DIR) + "/gmptrace";
const std::string kRun = std::string(GMP_BIN_DIR) + "/gmprun";

pid_t spawn(const std::vector<std::string>& args) {
  pid_t p = fork();
  if (p == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return p;
}

// The semaphore of gmp:<probe> in process pid, or -1 when it cannot be read.
int semaphore(pid_t pid, const gmp::trace::ElfProbes& e, const std::string& probe) {
  std::uint64_t addr = e.symbol("gmp_" + probe + "_semaphore");
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::uint64_t base = 0;
  bool found = false;
  for (std::string line; std::getline(maps, line);) {
    if (line.find(kRun) == std::string::npos && line.find("gmprun") == std::string::npos) continue;
    std::string range, perms, off;
    std::istringstream in(line);
    in >> range >> perms >> off;
    base = std::stoull(range.substr(0, range.find('-')), nullptr, 16) - std::stoull(off, nullptr, 16);
    found = true;
    break;
  }
  if (!found || addr == 0) return -1;
  unsigned short v = 0;
  iovec l{&v, sizeof v}, r{reinterpret_cast<void*>(base + addr), sizeof v};
  return process_vm_readv(pid, &l, 1, &r, 1, 0) == sizeof v ? v : -1;
}

template <class F>
bool wait_until(F f, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

TEST(Semaphores, RaisedOnlyInTheTracedProcessAndDroppedOnDetach) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";
  auto e = gmp::trace::read_elf_probes(kRun);
  ASSERT_EQ(e.error, "");
  pid_t a = spawn({kRun, "--procs", "1", "stw", "--rate", "10", "--duration", "60s"});
  pid_t b = spawn({kRun, "--procs", "1", "stw", "--rate", "10", "--duration", "60s"});
  ASSERT_TRUE(wait_until([&] { return semaphore(a, e, "stw_end") == 0 && semaphore(b, e, "stw_end") == 0; },
                         std::chrono::seconds(30)));
  pid_t t = spawn({kTrace, "-p", std::to_string(a), "stw"});
  EXPECT_TRUE(wait_until([&] { return semaphore(a, e, "stw_end") == 1; }, std::chrono::seconds(60)))
      << "gmptrace did not raise stw_end's semaphore in the traced process";
  EXPECT_EQ(semaphore(b, e, "stw_end"), 0) << "the untraced process must keep its probes off";
  EXPECT_EQ(semaphore(a, e, "alloc_sample"), 0) << "only the probes of the chosen units";
  kill(t, SIGINT);
  int st = 0;
  waitpid(t, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  EXPECT_EQ(semaphore(a, e, "stw_end"), 0) << "detaching must leave the target as before";
  kill(a, SIGKILL);
  kill(b, SIGKILL);
  waitpid(a, nullptr, 0);
  waitpid(b, nullptr, 0);
}

}  // namespace
