// gmprun pingpong end to end: the summary line, 1 and 2 Ps, bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct Out {
  int status = -1;
  std::string text;
};

Out gmprun(const std::string& args) {
  std::string cmd = std::string(GMP_BIN_DIR) + "/gmprun " + args + " 2>&1";
  Out r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.text.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

TEST(Pingpong, OneP) {
  Out r = gmprun("--procs 1 pingpong --count 100000");
  EXPECT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("summary workload=pingpong ok=true"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("round_trips=100000 "), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("ns_per_roundtrip="), std::string::npos) << r.text;
}

TEST(Pingpong, TwoPsUnpinned) {
  Out r = gmprun("--quiet --procs 2 --no-pin pingpong --count 50000 --repeat 2");
  EXPECT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("ok=true"), std::string::npos) << r.text;
}

TEST(Pingpong, BadCountIsOneLineAndExit2) {
  Out r = gmprun("pingpong --count 0");
  EXPECT_EQ(r.status, 2) << r.text;
  EXPECT_NE(r.text.find("--count"), std::string::npos) << r.text;
}

}  // namespace
