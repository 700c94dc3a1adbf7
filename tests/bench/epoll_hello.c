#define _GNU_SOURCE
/* epoll_hello.c — the classic design's ceiling: a minimal single-threaded
 * epoll loop (level-triggered, non-blocking sockets) answering every complete
 * "\r\n\r\n"-terminated request in a read with the same plaintext response
 * as `gmprun http` (pipelining included). No parsing beyond that: it is the
 * upper bound, not a server.   cc -O2 -o epoll_hello epoll_hello.c
 * usage: epoll_hello [port]  (default 8082, listens on 127.0.0.1) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char kResp[] =
    "HTTP/1.1 200 OK\r\nServer: epoll\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8082;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (struct sockaddr*)&a, sizeof a) < 0 || listen(l, 1024) < 0) {
    perror("epoll_hello: bind/listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  struct epoll_event evs[256];
  static char buf[65536], out[65536 * 2];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) {
        close(fd);
        continue;
      }
      size_t o = 0;
      for (ssize_t k = 3; k < r; k++) {
        if (buf[k] == '\n' && buf[k - 1] == '\r' && buf[k - 2] == '\n' && buf[k - 3] == '\r') {
          memcpy(out + o, kResp, sizeof kResp - 1);
          o += sizeof kResp - 1;
        }
      }
      if (o > 0 && write(fd, out, o) < 0) close(fd);
    }
  }
}
