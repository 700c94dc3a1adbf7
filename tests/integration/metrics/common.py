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


def start_gmprun(children, gmprun, workload_args, errfile, timeout=60):
    """Starts gmprun --metrics-addr 127.0.0.1:0 WORKLOAD…; returns (proc,
    address) once the banner names the endpoint."""
    err = open(errfile, "w+")
    p = children.start([gmprun, "--no-pin", "--metrics-addr", "127.0.0.1:0"] + workload_args,
                       stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + timeout
    while time.time() < deadline:
        err.seek(0)
        m = re.search(r"metrics\s+http://([0-9.]+:[0-9]+)/metrics", err.read())
        if m:
            return p, m.group(1)
        if p.poll() is not None:
            err.seek(0)
            raise RuntimeError("gmprun exited %s before serving metrics:\n%s" % (p.returncode, err.read()))
        time.sleep(0.1)
    raise RuntimeError("gmprun did not print its metrics address within %ds" % timeout)


def start_gmptrace(children, gmptrace, args, errfile, timeout=60):
    """Starts gmptrace --metrics-addr 127.0.0.1:0 ARGS…; returns (proc,
    address) once it is attached and says where it serves."""
    err = open(errfile, "w+")
    p = children.start([gmptrace, "--metrics-addr", "127.0.0.1:0"] + args,
                       stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + timeout
    while time.time() < deadline:
        err.seek(0)
        m = re.search(r"metrics on http://([0-9.]+:[0-9]+)/metrics", err.read())
        if m:
            return p, m.group(1)
        if p.poll() is not None:
            err.seek(0)
            raise RuntimeError("gmptrace exited %s before serving metrics:\n%s" % (p.returncode, err.read()))
        time.sleep(0.1)
    raise RuntimeError("gmptrace did not print its metrics address within %ds" % timeout)
