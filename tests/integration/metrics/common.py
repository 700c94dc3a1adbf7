"""Helpers shared by the metrics end-to-end tests: start gmprun or gmptrace
with a metrics endpoint, find free loopback ports, stop every child for
sure."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


class Children:
    """Every process started through here is stopped at exit (SIGTERM,
    then SIGKILL after a bound), whatever happened."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        log("+", " ".join(args))
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 10
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


class Checks:
    """check(ok, what) logs every check and keeps the failed ones;
    verdict() prints them and gives the script's exit status."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        log(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)

    def verdict(self):
        if self.failures:
            print("%d check(s) failed:\n  %s" % (len(self.failures), "\n  ".join(self.failures)), file=sys.stderr)
            return 1
        log("all checks passed")
        return 0


def start_serving(children, args, errfile, pattern, what, timeout=60):
    """Starts ARGS with stderr to errfile; returns (proc, address) once
    stderr matches pattern (its group 1 is the address)."""
    err = open(errfile, "w+")
    p = children.start(args, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + timeout
    while time.time() < deadline:
        err.seek(0)
        m = re.search(pattern, err.read())
        if m:
            return p, m.group(1)
        if p.poll() is not None:
            err.seek(0)
            raise RuntimeError("%s exited %s before serving metrics:\n%s" % (what, p.returncode, err.read()))
        time.sleep(0.1)
    raise RuntimeError("%s did not print its metrics address within %ds" % (what, timeout))


def start_gmprun(children, gmprun, workload_args, errfile, timeout=60):
    """Starts gmprun --metrics-addr 127.0.0.1:0 WORKLOAD…; returns (proc,
    address) once the banner names the endpoint."""
    return start_serving(children, [gmprun, "--no-pin", "--metrics-addr", "127.0.0.1:0"] + workload_args, errfile,
                         r"metrics\s+http://([0-9.]+:[0-9]+)/metrics", "gmprun", timeout)


def start_gmptrace(children, gmptrace, args, errfile, timeout=60):
    """Starts gmptrace --metrics-addr 127.0.0.1:0 ARGS…; returns (proc,
    address) once it is attached and says where it serves."""
    return start_serving(children, [gmptrace, "--metrics-addr", "127.0.0.1:0"] + args, errfile,
                         r"metrics on http://([0-9.]+:[0-9]+)/metrics", "gmptrace", timeout)
