#!/usr/bin/env python3
"""End to end with a real Prometheus: two gmprun processes (a fleet of two
instances) serve /metrics while workloads run; promtool checks both
expositions; a Prometheus server on loopback (its own temp dir, a free port)
scrapes them every second; then its HTTP API must show

  - a series for every metric of the catalog, from both instances;
  - counters that increase;
  - histogram_quantile over the stop-the-world and allocation histograms
    giving sane values (finite, above 0, below a second, stopping <= total);
  - data for every PromQL query of the Grafana dashboard.

usage: prometheus_test.py GMPRUN DASHBOARD_JSON
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
from common import Children, free_port, http_get, log, start_gmprun  # noqa: E402

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
    failures = []

    def check(ok, what):
        log(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="gmp-prom-") as tmp, Children() as kids:
        # Instance a: stop-the-world 50/s under busy (pool churn), io and
        # blocking goroutines, timer-driven; instance b: the pool under
        # cross-P load.
        _, a = start_gmprun(kids, gmprun, ["--procs", "2", "stw", "--rate", "50", "--busy", "1", "--duration", "120s"],
                            os.path.join(tmp, "a.err"))
        _, b = start_gmprun(kids, gmprun, ["--procs", "2", "alloc-storm", "--gs", "1", "--duration", "120s"],
                            os.path.join(tmp, "b.err"))

        # promtool on both expositions.
        catalog = {}
        for addr in (a, b):
            _, text = http_get("http://%s/metrics" % addr)
            pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
            check(pt.returncode == 0, "promtool check metrics on %s %s" % (addr, (pt.stdout + pt.stderr).strip()))
            for line in text.splitlines():
                if line.startswith("# TYPE gmp_"):
                    _, _, name, kind = line.split()
                    catalog[name] = kind

        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: gmprt\n    static_configs:\n"
                    "      - targets: ['%s', '%s']\n" % (a, b))
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
        while time.time() < deadline:
            up = values(query(base, 'up{job="gmprt"}'))
            if len(up) == 2 and all(v == 1 for v in up):
                break
            time.sleep(0.5)
        check(len(up) == 2 and all(v == 1 for v in up), "both instances up (%s)" % up)
        time.sleep(17)

        # Every metric of the catalog has series, from both instances.
        names = {r["metric"]["__name__"] for r in query(base, 'group by (__name__) ({__name__=~"gmp_.+"})')}
        for name, kind in sorted(catalog.items()):
            want = name + "_bucket" if kind == "histogram" else name
            if want not in names:
                check(False, "series for %s" % want)
                continue
            n = len(query(base, 'group by (instance) ({__name__="%s"})' % want))
            check(n == 2, "%s from both instances (%d)" % (want, n))

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
            e = expr.replace("$__rate_interval", RATE).replace("$instance", ".*")
            res = query(base, e)
            check(len(res) > 0, "dashboard '%s' returns data: %s" % (title, expr))
            if title in first:
                v = [x for x in values(res) if math.isfinite(x)]
                check(len(v) > 0, "dashboard '%s' has a finite value (%s)" % (title, values(res)))

    if failures:
        print("%d check(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)), file=sys.stderr)
        return 1
    log("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
