// server_process.hpp — a server process for the integration tests: gmprun
// (or anything else) started with fork/exec, its stdout and stderr into a
// pipe, stopped with SIGTERM; what it printed is returned whole.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace gmp_it {

struct Server {
  pid_t pid = -1;
  int out_fd = -1;
  int port = 0;
};

// Starts args (args[0]: the program's path) listening on `port`, with
// prepare() run in the child before exec (a false return exits it with 126).
template <class Prepare>
Server spawn_server(std::vector<std::string> args, int port, Prepare prepare) {
  Server s;
  s.port = port;
  int p[2];
  if (pipe(p) != 0) return s;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    close(p[0]);
    if (!prepare()) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(p[1]);
  s.pid = pid;
  s.out_fd = p[0];
  return s;
}

inline Server spawn_server(std::vector<std::string> args, int port) {
  return spawn_server(std::move(args), port, [] { return true; });
}

// SIGTERM, wait, and everything it printed; the server must exit 0.
inline std::string stop_server(Server& s) {
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(s.out_fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(s.out_fd);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << out;
  return out;
}

}  // namespace gmp_it
