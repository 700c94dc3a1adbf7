// The http built-in: its request parser on malformed and oversized input
// (fuzz-style), and the server end to end over loopback (keep-alive,
// pipelining, 400/431, the summary line), under both I/O backends.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "free_port.hpp"
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

// The parser is part of gmprun, not of the library: compile it in here.
#include "../../tools/gmprun/workloads/http_parser.cpp"

namespace {

namespace http = gmp::tools::http;
using http::ParseStatus;

ParseStatus parse(const std::string& s, http::Request* r = nullptr, std::size_t* used = nullptr) {
  http::Request req;
  std::size_t u = 0;
  ParseStatus st = http::parse_request(s, r ? r : &req, used ? used : &u);
  return st;
}

TEST(HttpParser, ValidRequests) {
  http::Request r;
  std::size_t used = 0;
  std::string a = "GET /json?x=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_EQ(parse(a, &r, &used), ParseStatus::kDone);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/json?x=1");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(used, a.size());
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", &r), ParseStatus::kDone);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r), ParseStatus::kDone);
  EXPECT_FALSE(r.keep_alive);
  std::string body = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET";
  ASSERT_EQ(parse(body, &r, &used), ParseStatus::kDone);
  EXPECT_EQ(used, body.size() - 3);  // pipelined bytes stay
}

TEST(HttpParser, IncompleteUntilTheEnd) {
  std::string a = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::size_t i = 0; i < a.size(); i++) EXPECT_EQ(parse(a.substr(0, i)), ParseStatus::kIncomplete) << i;
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"), ParseStatus::kIncomplete);
}

TEST(HttpParser, MalformedIsRejected) {
  const char* bad[] = {
      "GARBAGE\r\n\r\n",
      " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
      "GET noslash HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",                                   // no Host on 1.1
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",             // two Hosts
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",                       // space before colon
      "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",             // obs-fold
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",                    // control byte
      "GET / HTTP/1.1\nHost: a\n\n",                              // bare LF
      "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
      "\r\n GET / HTTP/1.1\r\nHost: a\r\n\r\n",                // a space after the skipped CRLF
  };
  for (const char* b : bad) EXPECT_EQ(parse(b), ParseStatus::kBad) << b;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), ParseStatus::kUnsupported);
}

TEST(HttpParser, LimitsGive431) {
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(http::kMaxHeaderBytes, 'a');
  EXPECT_EQ(parse(big), ParseStatus::kTooLarge);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < http::kMaxHeaders + 1; i++) many += "X" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse(many + "\r\n"), ParseStatus::kTooLarge);
}

// RFC 9112 2.2: empty lines before the request line are ignored; they are
// consumed with the request and count towards the head limit.
TEST(HttpParser, LeadingEmptyLinesAreSkipped) {
  http::Request r;
  std::size_t used = 0;
  std::string a = "\r\n\r\nGET /json HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(parse(a, &r, &used), ParseStatus::kDone);
  EXPECT_EQ(r.target, "/json");
  EXPECT_EQ(used, a.size());
  EXPECT_EQ(parse("\r\n\r\n"), ParseStatus::kIncomplete);
  std::string flood;
  for (std::size_t i = 0; i < http::kMaxHeaderBytes / 2; i++) flood += "\r\n";
  EXPECT_EQ(parse(flood), ParseStatus::kTooLarge);
}

TEST(HttpParser, OversizedBodyIs413NotA431) {
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"), ParseStatus::kBodyTooLarge);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            ParseStatus::kBodyTooLarge);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"), ParseStatus::kBodyTooLarge);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n"), ParseStatus::kIncomplete);
}

TEST(HttpParser, RandomInputNeverCrashesOrOverreads) {
  std::mt19937 rng(12345);
  const std::string seed = "GET /json HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy";
  const char alphabet[] = "GETPOST /:\r\n HTTP/1.01Hostx\t\x01\x7f\xff-0123456789";
  for (int iter = 0; iter < 200000; iter++) {
    std::string s = seed;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; e++) {
      std::size_t pos = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 3) {
        case 0: if (!s.empty()) s[pos] = alphabet[rng() % (sizeof alphabet - 1)]; break;
        case 1: s.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
        default: if (!s.empty()) s.erase(pos, 1 + rng() % 4); break;
      }
    }
    // Exactly-sized heap copy: ASan catches any read past the end.
    std::string copy(s);
    http::Request r;
    std::size_t used = 0;
    ParseStatus st = http::parse_request(copy, &r, &used);
    if (st == ParseStatus::kDone) {
      ASSERT_LE(used, copy.size());
    }
  }
}

// ---- end to end ----------------------------------------------------------------

struct Server {
  pid_t pid = -1;
  int out_fd = -1;
  int port = 0;
};

Server start_server(const char* env_io) {
  Server s;
  int port = free_loopback_port();
  int p[2];
  if (pipe(p) != 0) return s;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    if (env_io != nullptr) setenv("GMP_IO", env_io, 1);
    std::string bin = std::string(GMP_BIN_DIR) + "/gmprun";
    std::string ports = std::to_string(port);
    execl(bin.c_str(), bin.c_str(), "--quiet", "--procs", "2", "--no-pin", "http", "--port", ports.c_str(),
          "--duration", "20s", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(p[1]);
  s.pid = pid;
  s.out_fd = p[0];
  s.port = port;
  return s;
}

// Sends req, reads until the server closes or `want` responses arrived.
std::string exchange(int fd, const std::string& req, int want) {
  EXPECT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  for (;;) {
    int n = 0;
    for (std::size_t i = 0; (i = got.find("HTTP/1.1 ", i)) != std::string::npos; i++) n++;
    if (n >= want && got.size() > 4 && got.find("\r\n\r\n", got.rfind("HTTP/1.1 ")) != std::string::npos) {
      std::size_t last = got.rfind("HTTP/1.1 ");
      std::size_t hdr_end = got.find("\r\n\r\n", last);
      std::size_t cl = got.find("Content-Length: ", last);
      if (cl != std::string::npos && cl < hdr_end) {
        std::size_t len = std::stoul(got.substr(cl + 16));
        if (got.size() >= hdr_end + 4 + len) break;
      }
    }
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  return got;
}

class HttpServer : public testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Backends, HttpServer, testing::Values("io_uring", "blocking"));

TEST_P(HttpServer, KeepAlivePipeliningAndErrors) {
  Server s = start_server(std::string(GetParam()) == "blocking" ? "blocking" : nullptr);
  ASSERT_GT(s.pid, 0);
  int fd = dial_loopback(s.port);
  ASSERT_GE(fd, 0) << "server did not listen";
  std::string r1 = exchange(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1);
  EXPECT_NE(r1.find("200 OK"), std::string::npos);
  EXPECT_NE(r1.find("Hello, World!"), std::string::npos);
  std::string pipelined;
  for (int i = 0; i < 16; i++) pipelined += (i % 2 ? "GET /json HTTP/1.1\r\nHost: a\r\n\r\n" : "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r2 = exchange(fd, pipelined, 16);
  int oks = 0;
  for (std::size_t i = 0; (i = r2.find("200 OK", i)) != std::string::npos; i++) oks++;
  EXPECT_EQ(oks, 16);
  EXPECT_NE(r2.find("{\"message\":\"Hello, World!\"}"), std::string::npos);
  std::string r3 = exchange(fd, "BAD REQUEST\r\n\r\n", 1);
  EXPECT_NE(r3.find("400 Bad Request"), std::string::npos);
  close(fd);
  int fd2 = dial_loopback(s.port);
  std::string r4 = exchange(fd2, "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", 1);
  EXPECT_NE(r4.find("431"), std::string::npos);
  close(fd2);
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  char out[4096];
  ssize_t n = read(s.out_fd, out, sizeof out - 1);
  close(s.out_fd);
  std::string line(out, n > 0 ? static_cast<std::size_t>(n) : 0);
  EXPECT_NE(line.find("workload=http"), std::string::npos) << line;
  EXPECT_NE(line.find("requests=17"), std::string::npos) << line;
  EXPECT_NE(line.find("connections=2"), std::string::npos) << line;
}

}  // namespace
