#!/usr/bin/env python3
"""The side-by-side benchmark suite: every area against its named peers, in
one run, written as docs/BENCHMARKS.md (tables) and docs/bench/*.svg (charts).

Run it through scripts/bench-suite.sh (which builds what it needs); by hand:

    scripts/bench_suite.py --build build [--reps 3] [--areas sched,chan,...]
                           [--out docs/BENCHMARKS.md] [--quick]

Each case runs ours and each peer alternately, --reps times; a table cell is
the median and the range (min-max) of the runs. The ratio column says how
many times better ours is than the best peer (peer time / our time, or our
rate / peer rate), so > 1 is better, and the goal is the issue's target for
that ratio or figure. Cases that cannot run here (no root for the tracer, no
wrk) are listed with the reason instead of a figure. Exit status: 0 when the
page was written (missed goals are reported on the page, not as a failure),
1 when a benchmark failed to run, 2 on bad usage.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AREAS = ["sched", "chan", "alloc", "stw", "net", "observe", "orders"]
TITLES = {
    "sched": "Scheduler: gmprun built-ins against Go 1.19",
    "chan": "Channels, select, mutex, timers",
    "alloc": "Allocators: the pool against glibc, jemalloc, tcmalloc, mimalloc",
    "stw": "Stop-the-world pauses against Go's GC pauses",
    "net": "Network servers under wrk, one core",
    "observe": "Cost of being observed: probes, tracer, metrics scrapes",
    "orders": "Orders: the flagship pipeline against its Go twin",
}


class Failed(Exception):
    pass


def log(msg):
    print(f"bench-suite: {msg}", file=sys.stderr, flush=True)


def run(cmd, timeout=300, env=None, cwd=None):
    """Runs cmd (a list), returns stdout+stderr; raises Failed on a non-zero exit."""
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           env=e, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise Failed(f"{' '.join(map(str, cmd))}: still running after {timeout} s")
    if p.returncode != 0:
        tail = "\n".join(p.stdout.strip().splitlines()[-5:])
        raise Failed(f"{' '.join(map(str, cmd))}: exit {p.returncode}\n{tail}")
    return p.stdout


def summary(text, prefix="summary workload="):
    """The key=value fields of the last line starting with prefix."""
    line = None
    for ln in text.splitlines():
        if ln.startswith(prefix):
            line = ln
    if line is None:
        raise Failed(f"no '{prefix.strip()}' line in:\n" + "\n".join(text.splitlines()[-5:]))
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def num(d, key):
    try:
        return float(d[key])
    except (KeyError, ValueError):
        raise Failed(f"no numeric field {key} in {d}")


def go_bench(text):
    """{(name, procs): {unit: [values]}} from `go test -bench` output."""
    out = {}
    for ln in text.splitlines():
        m = re.match(r"^Benchmark(\S+?)(?:-(\d+))?\s+\d+\s+(.*)$", ln)
        if not m:
            continue
        f = m.group(3).split()
        d = out.setdefault((m.group(1), int(m.group(2) or 1)), {})
        for v, unit in zip(f[0::2], f[1::2]):
            try:
                d.setdefault(unit, []).append(float(v))
            except ValueError:
                pass
    return out


def go_values(parsed, name, unit):
    """A benchmark's values in one unit, whatever GOMAXPROCS suffix it ran under
    (a benchmark that sets GOMAXPROCS itself is named after the process's)."""
    out = []
    for (k, _), v in parsed.items():
        if k == name:
            out += v.get(unit, [])
    return out


def gmpbench(build, regex, reps, min_time, counter="real_time"):
    """{name: [values per repetition]} of a counter from gmpbench's JSON."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        run([str(build / "bin/gmpbench"), f"--benchmark_filter={regex}", f"--benchmark_repetitions={reps}",
             f"--benchmark_min_time={min_time}", "--benchmark_enable_random_interleaving=true",
             f"--benchmark_out={f.name}", "--benchmark_out_format=json"], timeout=900)
        data = json.load(open(f.name))
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if b.get("error_occurred"):
            raise Failed(f"gmpbench {b['name']}: {b.get('error_message')}")
        name = re.sub(r"/(manual_time|iterations:\d+)", "", b["run_name"])
        key = counter if isinstance(counter, str) else counter.get(name, "real_time")
        if key in b:
            out.setdefault(name, []).append(float(b[key]))
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, secs=20):
    deadline = time.time() + secs
    while time.time() < deadline:
        if proc.poll() is not None:
            raise Failed(f"server exited (status {proc.returncode}) before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Failed(f"nothing listens on {port} after {secs} s")


def stop(proc, sig=2):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(port, secs, conns=64, cpu="1"):
    out = run(["taskset", "-c", cpu, "wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency",
               f"http://127.0.0.1:{port}/"], timeout=secs + 60)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99 = float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)] if m else None
    return rps, p99


class Case:
    """One row: our values and each peer's, with how to compare them."""

    def __init__(self, area, name, unit, lower_better=True, goal=None, goal_kind="ratio", note=""):
        self.area, self.name, self.unit = area, name, unit
        self.lower_better = lower_better
        self.goal, self.goal_kind = goal, goal_kind  # goal_kind: "ratio" (vs best peer) or "value"
        self.note = note
        self.ours = []
        self.peers = {}  # name -> [values]
        self.skipped = None

    def peer(self, name):
        return self.peers.setdefault(name, [])

    def med(self, v):
        return statistics.median(v) if v else None

    def ratio(self):
        o = self.med(self.ours)
        ps = [self.med(v) for v in self.peers.values() if v]
        if o is None or not ps or o == 0:
            return None, None
        if self.lower_better:
            best = min(ps)
            return best / o, best
        best = max(ps)
        return (o / best if best else None), best

    def verdict(self):
        if self.goal is None or not self.ours:
            return ""
        if self.goal_kind == "ratio":
            r, _ = self.ratio()
            if r is None:
                return ""
            return "met" if r >= self.goal else "missed"
        o = self.med(self.ours)
        ok = o <= self.goal if self.lower_better else o >= self.goal
        return "met" if ok else "missed"


def fmt(x):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}".replace(",", " ")
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cell(v):
    if not v:
        return "–"
    if len(v) == 1:
        return fmt(v[0])
    return f"{fmt(statistics.median(v))} ({fmt(min(v))}–{fmt(max(v))})"


# ---- the areas ---------------------------------------------------------------


class Suite:
    def __init__(self, args):
        self.a = args
        self.build = Path(args.build).resolve()
        self.reps = args.reps
        self.cases = []
        self.notes = {}  # area -> [lines]
        self.tmp = Path(tempfile.mkdtemp(prefix="gmp-bench-"))
        self.gmprun = str(self.build / "bin/gmprun")
        self._go = {}

    def case(self, *a, **k):
        c = Case(*a, **k)
        self.cases.append(c)
        return c

    def note(self, area, text):
        self.notes.setdefault(area, []).append(text)

    def go_build(self, name):
        if name not in self._go:
            out = self.tmp / f"go-{name}"
            run(["go", "build", "-o", str(out), "."], cwd=ROOT / "tests/bench/go" / name, timeout=300,
                env={"GOFLAGS": "-mod=mod", "GO111MODULE": "on", "GOPROXY": "off"})
            self._go[name] = str(out)
        return self._go[name]

    def go_test(self, name, regex, benchtime, cpu=None):
        cmd = ["go", "test", "-run", "^$", "-bench", regex, "-benchtime", benchtime, "-count", str(self.reps)]
        if cpu:
            cmd += ["-cpu", cpu]
        return go_bench(run(cmd, cwd=ROOT / "tests/bench/go" / name, timeout=900,
                            env={"GOFLAGS": "-mod=mod", "GO111MODULE": "on", "GOPROXY": "off"}))

    # -- scheduler: the shapes users write, 1 and 2+ Ps
    def sched(self):
        q = self.a.quick
        procs = [1, 2] if q else [1, 2, 4]
        burst = self.go_build("burst")
        park = self.go_build("park")
        for p in procs:
            sk = self.case("sched", f"skynet 1M, {p} P", "ms", goal=3.0)
            sp = self.case("sched", f"spawn+join burst 1M, {p} P", "ns/goroutine", goal=3.0 if p > 1 else 2.0)
            for _ in range(self.reps):
                sk.ours.append(num(summary(run([self.gmprun, "--procs", str(p), "--quiet", "skynet"])), "best_ms"))
                sk.peer("Go").append(num(summary(run([burst, "-workload", "skynet", "-procs", str(p)])), "best_ms"))
                sp.ours.append(num(summary(run([self.gmprun, "--procs", str(p), "--quiet", "spawn"])), "ns_per_op"))
                sp.peer("Go").append(num(summary(run([burst, "-workload", "spawn", "-procs", str(p)])), "ns_per_op"))
        n = "100000" if not q else "30000"
        for p in (1, 2):
            pk = self.case("sched", f"spawn+park {int(n) // 1000}k on a channel, {p} P", "ns/goroutine", goal=2.0)
            wk = self.case("sched", f"wake+finish {int(n) // 1000}k parked, {p} P", "ns/goroutine", goal=2.0)
            rss = self.case("sched", f"RSS per parked goroutine, {p} P", "bytes", goal=0.5)
            for _ in range(self.reps):
                o = summary(run([self.gmprun, "--procs", str(p), "--quiet", "park", "--count", n], timeout=600))
                g = summary(run([park, "-count", n, "-procs", str(p)], timeout=600))
                for c, k in ((pk, "park_ns_per_g"), (wk, "wake_ns_per_g"), (rss, "rss_bytes_per_g")):
                    c.ours.append(num(o, k))
                    c.peer("Go").append(num(g, k))
        touch = self.tmp / "page_touch"
        run(["cc", "-O2", "-o", str(touch), str(ROOT / "tests/bench/page_touch.c")])
        ft = self.case("sched", "floor: first touch of a fresh 4 KiB page", "ns",
                       note="no peer: what the machine charges for a new page (tests/bench/page_touch.c); a new "
                            "parked goroutine needs about one (its stack's top page), a Go one about 0.7 "
                            "(2 KiB stacks), so on a machine where this is several µs, spawn+park is bound by it")
        for _ in range(self.reps):
            ft.ours.append(num(summary(run([str(touch), "30000"])), "first_touch_ns"))
        for p in (1, 2):
            pp = self.case("sched", f"channel ping-pong, {p} P", "ns/round trip", goal=4.0 if p == 1 else None)
            for _ in range(self.reps):
                pp.ours.append(num(summary(run([self.gmprun, "--procs", str(p), "--quiet", "pingpong", "--count",
                                                "500000"])), "ns_per_roundtrip"))
            go = self.go_test("chan", f"^BenchmarkChanPingPong{p}P$", "0.5s")
            pp.peer("Go").extend(go_values(go, f"ChanPingPong{p}P", "ns/op"))
        gb = gmpbench(self.build, "^BM_Gmp(YieldPair|WakeCrossP)", self.reps, 0.3,
                      counter={"BM_GmpWakeCrossP/spinning": "p50_ns", "BM_GmpWakeCrossP/parked": "p50_ns",
                               "BM_GmpYieldPair": "ns_per_op"})
        go = self.go_test("sched", "^Benchmark(YieldPair|WakeCrossP)", "0.3s")
        y = self.case("sched", "yield between two goroutines, 1 P", "ns/switch", goal=3.0)
        y.ours = gb.get("BM_GmpYieldPair", [])
        y.peer("Go").extend(go_values(go, "YieldPair", "ns/op"))
        for mode in ("spinning", "parked"):
            w = self.case("sched", f"cross-P wake p50, target {mode}", "ns")
            w.ours = gb.get(f"BM_GmpWakeCrossP/{mode}", [])
            w.peer("Go").extend(go_values(go, f"WakeCrossP/{mode}", "p50_ns"))

    # -- channels and timers (gmpbench against go test)
    def chan(self):
        names = ["BM_GmpChanProdCons/0", "BM_GmpChanProdCons/10", "BM_GmpChanProdCons/100", "BM_GmpSelect/2",
                 "BM_GmpSelect/4", "BM_GmpMutexContended"]
        counters = {n: "ns_per_op" for n in names}
        counters["BM_GmpSleep1ms"] = "p99_overshoot_ns"
        gb = gmpbench(self.build, "^BM_Gmp(ChanProdCons|Select|MutexContended|Sleep1ms)", self.reps, 0.3,
                      counter=counters)
        go = go_bench(run(["go", "test", "-run", "^$", "-bench", "^Benchmark(ChanProdCons|Select|MutexContended|Sleep1ms)",
                           "-benchtime", "0.3s", "-count", str(self.reps)], cwd=ROOT / "tests/bench/go/chan",
                          timeout=900, env={"GOFLAGS": "-mod=mod", "GO111MODULE": "on", "GOPROXY": "off"}))

        rows = [("producer/consumer, unbuffered", "BM_GmpChanProdCons/0", "ChanProdCons0", "ns/op"),
                ("producer/consumer, buffer 10", "BM_GmpChanProdCons/10", "ChanProdCons10", "ns/op"),
                ("producer/consumer, buffer 100", "BM_GmpChanProdCons/100", "ChanProdCons100", "ns/op"),
                ("select over 2 channels", "BM_GmpSelect/2", "Select2", "ns/op"),
                ("select over 4 channels", "BM_GmpSelect/4", "Select4", "ns/op"),
                ("mutex, contended", "BM_GmpMutexContended", "MutexContended", "ns/op"),
                ("sleep 1 ms: overshoot p99", "BM_GmpSleep1ms", "Sleep1ms", "p99_overshoot_ns")]
        for label, ours, peer, unit in rows:
            c = self.case("chan", label, "ns", goal=1.0)
            c.ours = gb.get(ours, [])
            c.peer("Go").extend(go_values(go, peer, unit))

    # -- allocators
    def alloc(self):
        peers = ["glibc", "jemalloc", "tcmalloc", "mimalloc"]
        gb = gmpbench(self.build, "^alloc/(pair|batch1024)/(16|64|256|mixed)/(pool-inline|" + "|".join(peers) + ")$",
                      self.reps, 0.1)
        for shape, label in (("pair", "malloc+free pair"), ("batch1024", "batch of 1024 mallocs, then frees")):
            for size in ("16", "64", "256", "mixed"):
                unit = "ns/pair" if shape == "pair" else "ns/batch"
                c = self.case("alloc", f"{label}, {size} B" if size != "mixed" else f"{label}, mixed sizes", unit,
                              goal=2.0)
                c.ours = gb.get(f"alloc/{shape}/{size}/pool-inline", [])
                for p in peers:
                    c.peer(p).extend(gb.get(f"alloc/{shape}/{size}/{p}", []))
        st = self.case("alloc", "alloc-storm sampled latency p99, 2 P", "ns", goal=None)
        for _ in range(self.reps):
            st.ours.append(num(summary(run([self.gmprun, "--procs", "2", "--quiet", "alloc-storm", "--duration", "2s"])),
                               "p99_ns"))
        st.note = "no peer: the pool's own sampled latency"

    # -- stop-the-world
    def stw(self):
        gostw = self.go_build("stw")
        dur = "3s" if not self.a.quick else "2s"
        tot = self.case("stw", "user stop, total pause p99 (200/s, 2 P)", "µs", goal=10.0,
                        note="Go: its GC pause at the same rate")
        mx = self.case("stw", "user stop, total pause max", "µs")
        sw = self.case("stw", "pause the runtime takes for itself (pool sweep)", "µs", goal=20.0, goal_kind="value",
                       note="Go: its GC pause p99; ours: the pool sweep hands off to each P and stops nobody")
        ho = self.case("stw", "pool sweep hand-off: the caller's wait p99 (not a pause)", "µs")
        for _ in range(self.reps):
            o = summary(run([self.gmprun, "--procs", "2", "--quiet", "stw", "--rate", "200", "--duration", dur]))
            g = summary(run([gostw, "-rate", "200", "-duration", dur], env={"GOMAXPROCS": "2"}))
            tot.ours.append(num(o, "user_total_p99_us"))
            mx.ours.append(num(o, "user_total_max_us"))
            sw.ours.append(num(o, "pool_sweep_pause_us"))
            ho.ours.append(num(o, "pool_sweep_handoff_p99_us"))
            for c, k in ((tot, "pause_p99_us"), (mx, "pause_max_us"), (sw, "pause_p99_us")):
                if k in g:
                    c.peer("Go GC").append(num(g, k))

    # -- http and echo on one core
    def net(self):
        if not shutil.which("wrk"):
            c = self.case("net", "http hello under wrk", "requests/s", lower_better=False)
            c.skipped = "wrk is not installed (scripts/install-deps.sh)"
            return
        secs = 3 if not self.a.quick else 2
        gohttp = self.go_build("http_hello")
        epoll = self.tmp / "epoll_hello"
        run(["cc", "-O2", "-o", str(epoll), str(ROOT / "tests/bench/epoll_hello.c")])
        rps = self.case("net", "http hello, 64 connections, one core", "requests/s", lower_better=False, goal=1.0,
                        note="goal: at least the bare epoll C loop")
        lat = self.case("net", "http hello, p99 latency", "µs")
        for _ in range(self.reps):
            for who, cmd in (("ours", lambda port: ["taskset", "-c", "0", self.gmprun, "--quiet", "--procs", "1",
                                                     "--cpus", "0", "http", "--port", str(port)]),
                             ("Go", lambda port: ["taskset", "-c", "0", gohttp, "-addr", f"127.0.0.1:{port}"]),
                             ("epoll C", lambda port: ["taskset", "-c", "0", str(epoll), str(port)])):
                port = free_port()
                env = dict(os.environ, GOMAXPROCS="1")
                proc = subprocess.Popen(cmd(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                try:
                    wait_port(port, proc)
                    r, p99 = wrk(port, secs)
                finally:
                    stop(proc)
                (rps.ours if who == "ours" else rps.peer(who)).append(r)
                if p99 is not None:
                    (lat.ours if who == "ours" else lat.peer(who)).append(p99)

    # -- observation costs
    def observe_scrapes(self):
        """What a /metrics scrape every second costs, as paired runs (the
        order alternating): the scraper (scripts/scrape-every.py, one
        long-lived process on CPU 1, as Prometheus is) runs through the
        scraped runs and is paused (SIGSTOP) through the others."""
        scraper = None

        def scraper_on(port):
            nonlocal scraper
            if scraper is not None:
                stop(scraper, signal.SIGKILL)
            scraper = subprocess.Popen(["taskset", "-c", "1", sys.executable, str(ROOT / "scripts/scrape-every.py"),
                                        str(port)], stdout=subprocess.DEVNULL)
            time.sleep(0.3)
            scraper.send_signal(signal.SIGSTOP)  # until a scraped run

        def paired(case, measure):
            """measure(scraped) per run; the scraper runs only through the scraped ones."""
            for i in range(self.reps):
                for scraped in ((False, True) if i % 2 == 0 else (True, False)):
                    if scraped:
                        scraper.send_signal(signal.SIGCONT)
                    try:
                        v = measure(scraped)
                    finally:
                        if scraped:
                            scraper.send_signal(signal.SIGSTOP)
                    (case.ours if scraped else case.peer("unscraped")).append(v)

        count = "24000000" if not self.a.quick else "6000000"  # ~2 s (0.5 s) at ~80 ns a round trip
        pp = self.case("observe", "ping-pong, /metrics scraped every second", "ns/round trip", goal=0.99,
                       note="peer: the same count without an endpoint, runs paired; goal: within 1 %")
        port = free_port()
        try:
            scraper_on(port)
            paired(pp, lambda scraped: num(summary(run(
                ["taskset", "-c", "0", self.gmprun, "--quiet", "--procs", "1", "--cpus", "0"] +
                (["--metrics-addr", str(port)] if scraped else []) + ["pingpong", "--count", count])),
                "ns_per_roundtrip"))
            if not shutil.which("wrk"):
                self.case("observe", "http hello, /metrics scraped every second", "requests/s").skipped = \
                    "wrk not installed"
                return
            secs = 3 if not self.a.quick else 1
            h = self.case("observe", "http hello, /metrics scraped every second", "requests/s", lower_better=False,
                          goal=0.98, note="peer: the same server between scrapes, runs paired; goal: within 2 %")
            hp, mp = free_port(), free_port()
            srv = subprocess.Popen(["taskset", "-c", "0", self.gmprun, "--quiet", "--procs", "1", "--cpus", "0",
                                    "--metrics-addr", str(mp), "http", "--port", str(hp)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(hp, srv)
                wait_port(mp, srv)
                scraper_on(mp)
                paired(h, lambda scraped: wrk(hp, secs)[0])
            finally:
                stop(srv)
        finally:
            if scraper is not None:
                scraper.send_signal(signal.SIGCONT)
                stop(scraper, signal.SIGKILL)

    def observe(self):
        pp_cmd = ["--procs", "1", "--quiet", "pingpong", "--count", "500000", "--repeat", "3"]
        self.observe_scrapes()
        tr = self.case("observe", "ping-pong under gmptrace (default programs)", "ns/round trip", goal=0.5,
                       note="peer: untraced; the ratio is untraced ÷ traced")
        if os.geteuid() != 0:
            tr.skipped = "not root: gmptrace loads BPF programs"
            return
        for _ in range(self.reps):
            tr.peer("untraced").append(num(summary(run([self.gmprun] + pp_cmd)), "ns_per_roundtrip"))
            out = run([str(self.build / "bin/gmptrace"), "--", self.gmprun] + pp_cmd, timeout=300)
            tr.ours.append(num(summary(out), "ns_per_roundtrip"))

    # -- orders
    def orders(self):
        gorders = self.go_build("orders")
        dur = "3s" if not self.a.quick else "2s"
        keys = [("lat_p50_us", "p50 end to end"), ("lat_p99_us", "p99 end to end"),
                ("lat_p999_us", "p99.9 end to end"), ("lat_max_us", "max end to end")]
        goals = {"lat_p99_us": 4.0}
        for procs in (1, 2):  # the pipeline on one P, and spread over two
            cs = {k: self.case("orders", f"127k orders/s, {procs} P: {label}", "µs", goal=goals.get(k))
                  for k, label in keys}
            rate = self.case("orders", f"127k orders/s, {procs} P: orders/s achieved", "orders/s",
                             lower_better=False)
            for _ in range(self.reps):
                o = summary(run([self.gmprun, "--quiet", "--procs", str(procs), "orders", "--rate", "127000",
                                 "--duration", dur], timeout=120))
                g = summary(run([gorders, "-procs", str(procs), "-rate", "127000", "-duration", dur], timeout=120))
                if o.get("check") != "true":
                    raise Failed(f"gmprun orders: its exit checks failed: {o}")
                for k, c in cs.items():
                    c.ours.append(num(o, k))
                    c.peer("Go twin").append(num(g, k))
                rate.ours.append(num(o, "rate_achieved"))
                rate.peer("Go twin").append(num(g, "rate_achieved"))


# ---- the page -----------------------------------------------------------------

def svg_chart(cases, path):
    """Horizontal bars: ours ÷ best peer as an advantage (> 1: ours better), log scale."""
    rows = [(c, c.ratio()[0]) for c in cases if c.ratio()[0]]
    if not rows:
        return False
    w, lh, left, top = 760, 26, 330, 34
    h = top + lh * len(rows) + 30
    import math
    lo, hi = 0.25, 16.0
    for _, r in rows:
        lo, hi = min(lo, r / 1.5), max(hi, r * 1.5)
    span = math.log(hi) - math.log(lo)
    x = lambda v: left + (w - left - 20) * (math.log(v) - math.log(lo)) / span
    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
         f'<rect width="{w}" height="{h}" fill="white"/>',
         f'<text x="{left}" y="16" fill="#333">times better than the best peer, log scale (right of 1×: ours ahead; green: goal met, red: missed, dashed: goal)</text>']
    for t in (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64):
        if lo <= t <= hi:
            e.append(f'<line x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" y2="{h - 24}" '
                     f'stroke="{"#000" if t == 1 else "#ddd"}"/>')
            e.append(f'<text x="{x(t):.1f}" y="{h - 8}" text-anchor="middle" fill="#555">{t:g}×</text>')
    for i, (c, r) in enumerate(rows):
        y = top + i * lh
        v = c.verdict()
        color = {"met": "#2e7d32", "missed": "#c62828"}.get(v, "#1565c0")
        x0, x1 = sorted((x(1), x(r)))
        label = c.name if len(c.name) <= 48 else c.name[:46] + "…"
        e.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" fill="#222">{esc(label)}</text>')
        e.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="{lh - 8}" fill="{color}"/>')
        e.append(f'<text x="{x1 + 4:.1f}" y="{y + 16}" fill="#222">{r:.2f}×</text>')
        if c.goal and c.goal_kind == "ratio" and lo <= c.goal <= hi:
            e.append(f'<line x1="{x(c.goal):.1f}" y1="{y + 2}" x2="{x(c.goal):.1f}" y2="{y + lh - 2}" '
                     f'stroke="#000" stroke-width="2" stroke-dasharray="3,2"/>')
    e.append("</svg>")
    path.write_text("\n".join(e) + "\n")
    return True


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def page(suite, started, elapsed, cmdline, out_path):
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    go = subprocess.run(["go", "version"], stdout=subprocess.PIPE, text=True).stdout.split()[2:3]
    load = open("/proc/loadavg").read().split()[:3]
    busy = max(float(load[0]), getattr(suite, "load_at_start", 0.0))
    svgdir = out_path.parent / "bench"
    svgdir.mkdir(parents=True, exist_ok=True)
    L = ["# Benchmarks", "",
         "Every figure on this page comes from one run of the side-by-side suite; the "
         "story of how each was reached, and older measurements, are in "
         "[notes/benchmarks-history.md](notes/benchmarks-history.md). Definitions of each benchmark: "
         "[BENCH-DEFINITIONS.md](BENCH-DEFINITIONS.md).", "",
         f"- **Machine**: {cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}; {(go or ['go ?'])[0]}",
         f"- **When**: {started} (UTC), {elapsed / 60:.1f} minutes; load average at the end {' '.join(load)}",
         f"- **Command**: `{cmdline}`",
         *([f"- **Not a quiet machine**: the load average reached {busy:.1f} on {os.cpu_count()} CPUs during "
            "this run (other work beside it): ours and the peers shared the CPUs alike, but every figure is slower "
            "and every range wider than on an idle machine, and multi-P rows are not multi-CPU. Rerun on a quiet "
            "machine before quoting a figure."] if busy > (os.cpu_count() or 1) else []),
         f"- **How to read**: each cell is the median of {suite.reps} runs and their range; ours and the peers "
         "ran alternately. *× best peer* is how many times better ours is than the best peer (peer time ÷ "
         "ours, or our rate ÷ theirs): above 1 we are ahead. *Goal* is the target for that ratio "
         "(or, marked ≤, for the figure itself).", ""]
    for area in AREAS:
        cases = [c for c in suite.cases if c.area == area]
        if not cases:
            continue
        L += [f"## {TITLES[area]}", ""]
        if svg_chart([c for c in cases if not c.skipped], svgdir / f"{area}.svg"):
            L += [f"![{TITLES[area]}](bench/{area}.svg)", ""]
        peers = []
        for c in cases:
            for p in c.peers:
                if p not in peers:
                    peers.append(p)
        L.append("| case | unit | ours | " + " | ".join(peers) + " | × best peer | goal | |")
        L.append("|---|---|---|" + "---|" * len(peers) + "---|---|---|")
        for c in cases:
            if c.skipped:
                L.append(f"| {c.name} | {c.unit} | not run: {c.skipped} |" + " |" * len(peers) + " | | |")
                continue
            r, _ = c.ratio()
            goal = ""
            if c.goal is not None:
                goal = f"≥ {c.goal:g}×" if c.goal_kind == "ratio" else f"≤ {fmt(c.goal)}"
            L.append(f"| {c.name} | {c.unit} | {cell(c.ours)} | " + " | ".join(cell(c.peers.get(p)) for p in peers) +
                     f" | {'–' if r is None else f'{r:.2f}×'} | {goal} | {c.verdict()} |")
        notes = [c for c in cases if c.note]
        if notes or suite.notes.get(area):
            L.append("")
            for c in notes:
                L.append(f"- {c.name}: {c.note}.")
            for n in suite.notes.get(area, []):
                L.append(f"- {n}")
        L.append("")
    out_path.write_text("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory with bin/gmprun, gmpbench, gmptrace")
    ap.add_argument("--reps", type=int, default=3, help="runs of each case (default 3)")
    ap.add_argument("--areas", default=",".join(AREAS), help="comma-separated subset of: " + ", ".join(AREAS))
    ap.add_argument("--out", default=str(ROOT / "docs/BENCHMARKS.md"), help="the page to write")
    ap.add_argument("--quick", action="store_true", help="smaller counts and shorter runs (a smoke test)")
    a = ap.parse_args()
    areas = [x for x in a.areas.split(",") if x]
    bad = [x for x in areas if x not in AREAS]
    if bad or a.reps < 1:
        print(f"bench-suite: unknown area {', '.join(bad)}; use some of {', '.join(AREAS)}" if bad else
              "bench-suite: --reps must be at least 1", file=sys.stderr)
        return 2
    for tool in ("go", "taskset"):
        if not shutil.which(tool):
            print(f"bench-suite: {tool} not found (scripts/install-deps.sh)", file=sys.stderr)
            return 2
    s = Suite(a)
    if not Path(s.gmprun).exists():
        print(f"bench-suite: {s.gmprun} not built (scripts/bench-suite.sh builds it)", file=sys.stderr)
        return 2
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    s.load_at_start = float(open("/proc/loadavg").read().split()[0])
    t0 = time.time()
    try:
        for area in areas:
            log(f"{area} ({TITLES[area]}) ...")
            t = time.time()
            getattr(s, area)()
            log(f"{area} done in {time.time() - t:.0f} s")
    except Failed as e:
        print(f"bench-suite: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(s.tmp, ignore_errors=True)
    cmd = "scripts/bench-suite.sh" + ("" if a.reps == 3 else f" --reps {a.reps}") + (" --quick" if a.quick else "") + \
          ("" if areas == AREAS else f" --areas {','.join(areas)}")
    page(s, started, time.time() - t0, cmd, Path(a.out))
    log(f"wrote {a.out} in {(time.time() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
