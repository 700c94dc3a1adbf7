#!/usr/bin/env python3
"""scrape-every.py PORT [SECONDS]: GET http://127.0.0.1:PORT/metrics every
SECONDS (default 1) until killed, reading each response to its end, from one
long-lived process as Prometheus does. The scrape-cost benchmarks
(scripts/bench-scrape.sh, scripts/bench_suite.py) run it on the load's CPU:
a curl per scrape would spend ~20 ms of that CPU each time (exec, dynamic
linking), which the benchmark would then charge to the server. This costs
~0.2 ms a scrape. Exit status 2 on bad usage."""
import socket
import sys
import time


def main():
    try:
        port = int(sys.argv[1])
        every = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
        if not 0 < port < 65536 or every <= 0:
            raise ValueError
    except (IndexError, ValueError):
        print("usage: scrape-every.py PORT [SECONDS] (PORT 1..65535, SECONDS > 0)", file=sys.stderr)
        sys.exit(2)
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while True:
        t = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(req)
                while s.recv(65536):
                    pass
        except OSError:
            pass  # not up yet, or gone: the benchmark decides what that means
        time.sleep(max(0.0, every - (time.monotonic() - t)))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
