#!/usr/bin/env python3
"""End to end with a real Prometheus: two gmprun processes (a fleet of two
instances) serve /metrics while workloads run, and gmptrace, attached to the
first, serves its BPF maps and health (as root; without root the tracer's
part is skipped with the reason, and so are the dashboard's tracer
queries); promtool checks every exposition; a Prometheus server on loopback
(its own temp dir, a free port) scrapes them every second; then its HTTP
API must show

  - a series for every metric of the catalog, from both instances;
  - counters that increase;
  - histogram_quantile over the stop-the-world and allocation histograms
    giving sane values (finite, above 0, below a second, stopping <= total);
  - data for every PromQL query of the Grafana dashboard;
  - from gmptrace: a series for every family it served, pause counts that
    increase, its pause p95 sane, every program's attached state (the
    cache-miss program 0 with its reason where there is no PMU), ring
    losses, and BPF run time (it runs with --bpf-stats).

usage: prometheus_test.py GMPRUN DASHBOARD_JSON [GMPTRACE]
Exit 0 on success, 1 with the reasons on failure."""
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, Children, free_port, http_get, log, start_gmprun, start_gmptrace  # noqa: E402

RATE = "15s"  # the dashboard's $__rate_interval, at a 1 s scrape interval


def query(base, expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    _, body = http_get(url)
    doc = json.loads(body)
    if doc.get("status") != "success":
        raise RuntimeError("query failed: %s: %s" % (expr, body[:300]))
    return doc["data"]["result"]


def values(result):
    return [float(r["value"][1]) for r in result]


def main():
    gmprun, dashboard = sys.argv[1], sys.argv[2]
    gmptrace = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    check = Checks()
    tracing = gmptrace is not None and os.geteuid() == 0
    if gmptrace is None:
        log("skip the tracer's part: no GMPTRACE given")
    elif not tracing:
        log("skip the tracer's part: gmptrace needs root to load BPF programs")

    with tempfile.TemporaryDirectory(prefix="gmp-prom-") as tmp, Children() as kids:
        # Instance a: stop-the-world 50/s under busy (pool churn), io and
        # blocking goroutines, timer-driven; instance b: the pool under
        # cross-P load.
        pa, a = start_gmprun(kids, gmprun, ["--procs", "2", "stw", "--rate", "50", "--busy", "1", "--duration", "120s"],
                             os.path.join(tmp, "a.err"))
        _, b = start_gmprun(kids, gmprun, ["--procs", "2", "alloc-storm", "--gs", "1", "--duration", "120s"],
                            os.path.join(tmp, "b.err"))

        targets = [a, b]
        tracer = None
        if tracing:
            # syscalls and io on top of the default set: the per-M and per-P views of the dashboard.
            _, tracer = start_gmptrace(kids, gmptrace, ["--bpf-stats", "-p", str(pa.pid), "alloc", "stw", "runq",
                                                        "offcpu", "syscalls", "io", "cache"], os.path.join(tmp, "trace.err"))
            targets.append(tracer)

        # promtool on every exposition.
        catalog = {}
        traced = {}
        for addr in targets:
            _, text = http_get("http://%s/metrics" % addr)
            pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
            check(pt.returncode == 0, "promtool check metrics on %s %s" % (addr, (pt.stdout + pt.stderr).strip()))
            for line in text.splitlines():
                if line.startswith("# TYPE gmp_") and addr != tracer:
                    _, _, name, kind = line.split()
                    catalog[name] = kind
                elif line.startswith("# TYPE gmptrace_"):
                    _, _, name, kind = line.split()
                    traced[name] = kind
        if tracing:
            _, text = http_get("http://%s/metrics" % tracer)
            check(len(traced) >= 25, "gmptrace serves %d families" % len(traced))
            for want in ["gmptrace_stw_total_seconds", "gmptrace_alloc_latency_seconds", "gmptrace_runq_delay_seconds",
                         "gmptrace_offcpu_seconds_total", "gmptrace_syscalls_total", "gmptrace_program_attached",
                         "gmptrace_ring_lost_events_total", "gmptrace_program_run_seconds_total",
                         "gmptrace_io_latency_seconds", "gmptrace_p_io_submits_total"]:
                check(want in traced, "gmptrace serves %s" % want)
            nopmu = [l for l in text.splitlines() if l.startswith("gmptrace_program_attached{") and "cache-misses" in l]
            check(len(nopmu) == 1, "the cache-miss program has its attached state (%s)" % nopmu)
            if nopmu and nopmu[0].endswith(" 0"):
                check('reason="' in nopmu[0] and 'reason=""' not in nopmu[0],
                      "the cache-miss program, not attached, says why (%s)" % nopmu[0])
            status, _ = http_get("http://%s/readyz" % tracer)
            check(status == 200, "gmptrace /readyz is 200 once attached")

        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: gmprt\n    static_configs:\n"
                    "      - targets: ['%s', '%s']\n" % (a, b))
            if tracing:
                f.write("  - job_name: gmptrace\n    static_configs:\n      - targets: ['%s']\n" % tracer)
        base = None
        for attempt in range(3):  # a free port can be taken between the probe and the bind
            port = free_port()
            perr = open(os.path.join(tmp, "prometheus.%d.err" % attempt), "w+")
            prom = kids.start(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                               "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                              stdout=subprocess.DEVNULL, stderr=perr)
            deadline = time.time() + 60
            while time.time() < deadline and prom.poll() is None:
                try:
                    if http_get("http://127.0.0.1:%d/-/ready" % port, timeout=2)[0] == 200:
                        base = "http://127.0.0.1:%d" % port
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            if base:
                break
            perr.seek(0)
            log("prometheus did not become ready:", perr.read()[-2000:])
        if not base:
            print("FAIL: could not start prometheus", file=sys.stderr)
            return 1

        # Both targets up, then enough scrapes for rates over RATE.
        deadline = time.time() + 60
        tup = [1.0]
        while time.time() < deadline:
            up = values(query(base, 'up{job="gmprt"}'))
            if tracing:
                tup = values(query(base, 'up{job="gmptrace"}'))
            if len(up) == 2 and all(v == 1 for v in up) and tup == [1.0]:
                break
            time.sleep(0.5)
        check(len(up) == 2 and all(v == 1 for v in up), "both instances up (%s)" % up)
        if tracing:
            check(tup == [1.0], "gmptrace up (%s)" % tup)
        time.sleep(17)

        # Every metric of the catalog has series, from both instances.
        names = {r["metric"]["__name__"] for r in query(base, 'group by (__name__) ({__name__=~"gmp_.+"})')}
        for name, kind in sorted(catalog.items()):
            want = name + "_bucket" if kind == "histogram" else name
            if want not in names:
                check(False, "series for %s" % want)
                continue
            n = len(query(base, 'group by (instance) ({__name__="%s", job="gmprt"})' % want))
            check(n == 2, "%s from both instances (%d)" % (want, n))

        # Every family gmptrace served has series; its counters increase; its
        # pause quantile is sane.
        for name, kind in sorted(traced.items()):
            want = name + "_bucket" if kind == "histogram" else name
            check(want in names or len(query(base, want)) > 0, "series for %s (gmptrace)" % want)
        if tracing:
            v = values(query(base, 'sum(increase(gmptrace_stw_pauses_total[%s]))' % RATE))
            check(len(v) == 1 and v[0] > 0, "gmptrace's pause count increases (%s)" % v)
            v = values(query(base, 'sum(increase(gmptrace_program_runs_total[%s]))' % RATE))
            check(len(v) == 1 and v[0] > 0, "gmptrace's programs run (%s)" % v)
            tq = values(query(base, 'histogram_quantile(0.95, sum by (le) (rate(gmptrace_stw_total_seconds_bucket[%s])))' % RATE))
            check(len(tq) == 1 and math.isfinite(tq[0]) and 0 < tq[0] < 1, "gmptrace pause p95 %s s is in (0, 1 s)" % tq)

        # Counters increase.
        for expr in ['sum by (instance) (increase(gmp_pool_hits_total[%s]))' % RATE,
                     'sum by (instance) (increase(gmp_sched_p_busy_seconds_total[%s]))' % RATE]:
            v = values(query(base, expr))
            check(len(v) == 2 and all(x > 0 for x in v), "%s > 0 on both (%s)" % (expr, v))
        for expr in ['sum(increase(gmp_sched_context_switches_total[%s]))' % RATE,
                     'sum(increase(gmp_sched_pauses_total_seconds_count[%s]))' % RATE,
                     'sum(increase(gmp_timers_fired_total[%s]))' % RATE,
                     'sum(increase(gmp_alloc_latency_seconds_count[%s]))' % RATE]:
            v = values(query(base, expr))
            check(len(v) == 1 and v[0] > 0, "%s > 0 (%s)" % (expr, v))

        # Quantiles from the histograms are sane.
        def q(expr):
            v = values(query(base, expr))
            return v[0] if len(v) == 1 else float("nan")
        total95 = q('histogram_quantile(0.95, sum by (le) (rate(gmp_sched_pauses_total_seconds_bucket[%s])))' % RATE)
        stop95 = q('histogram_quantile(0.95, sum by (le) (rate(gmp_sched_pauses_stopping_seconds_bucket[%s])))' % RATE)
        alloc99 = q('histogram_quantile(0.99, sum by (le) (rate(gmp_alloc_latency_seconds_bucket[%s])))' % RATE)
        alloc50 = q('histogram_quantile(0.5, sum by (le) (rate(gmp_alloc_latency_seconds_bucket[%s])))' % RATE)
        check(math.isfinite(total95) and 0 < total95 < 1, "pause p95 %.6f s is in (0, 1 s)" % total95)
        check(math.isfinite(stop95) and 0 < stop95 <= total95, "time-to-stop p95 %.6f s is in (0, pause p95]" % stop95)
        check(math.isfinite(alloc99) and 0 < alloc99 < 0.1, "allocation p99 %.9f s is in (0, 100 ms)" % alloc99)
        check(0 < alloc50 <= alloc99, "allocation p50 %.9f s <= p99" % alloc50)

        # Every dashboard query returns data.
        with open(dashboard) as f:
            dash = json.load(f)
        exprs = []
        for p in dash["panels"]:
            for t in p.get("targets", []):
                exprs.append((p["title"], t["expr"]))
        check(len(exprs) >= 20, "the dashboard has %d queries" % len(exprs))
        first = [p["title"] for p in dash["panels"] if p["type"] != "row"][:3]
        check(first == ["Allocation latency p99", "Pool hit rate", "Stop-the-world pause p95"],
              "the dashboard's first row leads with the latency board (%s)" % first)
        for title, expr in exprs:
            if "$tracer" in expr and not tracing:
                log("skip (no tracer) dashboard '%s'" % title)
                continue
            e = expr.replace("$__rate_interval", RATE).replace("$instance", ".*").replace("$tracer", ".*")
            res = query(base, e)
            check(len(res) > 0, "dashboard '%s' returns data: %s" % (title, expr))
            if title in first:
                v = [x for x in values(res) if math.isfinite(x)]
                check(len(v) > 0, "dashboard '%s' has a finite value (%s)" % (title, values(res)))

    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
