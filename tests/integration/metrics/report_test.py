#!/usr/bin/env python3
"""gmptrace --report FILE.html in a real browser (headless Chromium): gmptrace
traces gmprun stw (every unit a report draws: the defaults, syscalls and io)
and writes its report; then

  - the file is self-contained: no script, nothing fetched (no src= or
    href= to any URL, no @import, no url());
  - every chart is there and drew something: log2 histograms (among them
    the pause and allocation latencies), the pause timeline, per-M off-CPU
    and system-call bars, per-P io_uring bars, the pool tiers;
  - Chromium renders it with no console error, to a screenshot that is not
    blank.

The same renderer answers / of gmptrace --metrics-addr: that page is
checked to be a report too. Needs root (BPF): exits 77 (skipped) without.

usage: report_test.py GMPTRACE GMPRUN [OUT_DIR]   (report and screenshot kept in OUT_DIR)
Exit 0 on success, 1 with the reasons on failure, 77 when skipped."""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, Children, http_get, log, start_gmptrace  # noqa: E402
from live_page_test import chromium_binary, console_errors, decode_png, run_chromium  # noqa: E402

# chart -> at least this many bars / dots
CHARTS = {"hist": 1, "stw_timeline": 20, "offcpu_per_m": 2, "syscalls_per_m": 2, "syscall_time_per_m": 2,
          "pool_hit_rate": 1, "pool_tiers": 1, "io_per_p": 1}
WORKLOAD = ["--procs", "2", "stw", "--rate", "50", "--busy", "1"]
UNITS = ["alloc", "stw", "runq", "offcpu", "syscalls", "io", "cache"]


def main():
    gmptrace, gmprun = sys.argv[1], sys.argv[2]
    out_dir = sys.argv[3] if len(sys.argv) > 3 else None
    if os.geteuid() != 0:
        print("skip: gmptrace needs root to load BPF programs", file=sys.stderr)
        return 77
    chrome = chromium_binary()
    if chrome is None:
        print("FAIL: no chromium on PATH (scripts/install-deps.sh installs it)", file=sys.stderr)
        return 1
    check = Checks()

    with tempfile.TemporaryDirectory(prefix="gmp-report-") as tmp, Children() as kids:
        report = os.path.join(tmp, "report.html")
        r = subprocess.run([gmptrace, "--report", report] + UNITS + ["--", gmprun] + WORKLOAD + ["--duration", "3s"],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "gmptrace --report exits 0 (%d): %s" % (r.returncode, r.stderr[-500:]))
        check(os.path.exists(report), "the report is written")
        if not os.path.exists(report):
            print("FAIL: no report", file=sys.stderr)
            return 1
        html = open(report, encoding="utf-8").read()
        check("<script" not in html, "the report has no script")
        check(not re.search(r"(src|href)\s*=\s*\"?[a-z]+:", html, re.I) and "@import" not in html and "url(" not in html,
              "the report fetches nothing")
        points = collections.defaultdict(list)
        for chart, n in re.findall(r'data-chart="([a-z_]+)" data-points="(\d+)"', html):
            points[chart].append(int(n))
        for chart, least in CHARTS.items():
            check(chart in points and max(points[chart]) >= least,
                  "chart %s drew at least %d (%s)" % (chart, least, points.get(chart)))
        for name in ("stw_total{reason=user}", "alloc_latency{tier=", "offcpu_interval"):
            check(name in html, "a histogram of %s" % name)

        png = os.path.join(tmp, "report.png")
        c = run_chromium(chrome, "file://" + report, ["--screenshot=" + png, "--dump-dom"])
        check(c.returncode == 0 and os.path.exists(png), "chromium: screenshot taken (exit %d)" % c.returncode)
        bad = console_errors(c.stderr)
        check(not bad, "chromium: no console errors (%s)" % bad[:3])
        check(c.stdout.count("<svg") == html.count("<svg") > 10, "chromium: the DOM has every chart (%d svg)" % c.stdout.count("<svg"))
        if os.path.exists(png):
            _, _, rows = decode_png(png)
            pixels = [p for row in rows for p in row]
            counts = collections.Counter(pixels)
            ink = 1 - counts.most_common(1)[0][1] / len(pixels)
            check(len(counts) >= 50, "screenshot is not blank: %d colours" % len(counts))
            check(ink >= 0.05, "screenshot is not blank: %.1f %% non-background pixels" % (100 * ink))
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            shutil.copy(report, os.path.join(out_dir, "report.html"))
            if os.path.exists(png):
                shutil.copy(png, os.path.join(out_dir, "report.png"))

        # The report so far, at / of --metrics-addr, while a workload runs.
        _, addr = start_gmptrace(kids, gmptrace, ["--", gmprun] + WORKLOAD + ["--duration", "60s"],
                                 os.path.join(tmp, "trace.err"))
        status, page = http_get("http://%s/" % addr)
        check(status == 200 and "gmptrace report" in page and "<svg" in page and "<script" not in page,
              "gmptrace --metrics-addr serves the report so far at /")

    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
