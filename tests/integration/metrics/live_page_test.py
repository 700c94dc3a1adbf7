#!/usr/bin/env python3
"""The live page at / in a real browser (headless Chromium) while a workload
runs under gmprun --metrics-addr:

  - the DOM after the page polled /metrics: every chart present, the charts
    that must have data drew points, no script error was counted and
    Chromium logged no console error;
  - a screenshot that is not blank (many colours, a real share of
    non-background pixels);
  - a second screenshot a few seconds later that differs from the first
    (the charts move while the workload runs).

usage: live_page_test.py GMPRUN [OUT_DIR]   (screenshots are kept in OUT_DIR)
Exit 0 on success, 1 with the reasons on failure."""
import collections
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, Children, http_get, log, start_gmprun  # noqa: E402

CHARTS = ["goroutines", "sched_latency", "stw", "alloc", "io", "busy", "sched", "pool", "mem"]
# Charts the stw workload feeds.
MUST_HAVE_DATA = ["goroutines", "sched_latency", "stw", "alloc", "io", "busy", "sched", "mem"]


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def decode_png(path):
    """Returns (width, height, rows of RGB tuples) for 8-bit RGB/RGBA PNGs."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def run_chromium(chrome, url, args, timeout=120):
    cmd = [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", "--disable-dev-shm-usage", "--window-size=1400,1500", "--virtual-time-budget=6000",
           "--enable-logging=stderr", "--v=0"] + args + [url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r


def console_errors(stderr):
    bad = []
    for line in stderr.splitlines():
        if "CONSOLE" in line and re.search(r"error|uncaught", line, re.I):
            bad.append(line)
        elif "Uncaught" in line:
            bad.append(line)
    return bad


def main():
    gmprun = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else None
    chrome = chromium_binary()
    if chrome is None:
        print("FAIL: no chromium on PATH (scripts/install-deps.sh installs it)", file=sys.stderr)
        return 1
    check = Checks()

    with tempfile.TemporaryDirectory(prefix="gmp-page-") as tmp, Children() as kids:
        _, addr = start_gmprun(kids, gmprun, ["--procs", "2", "stw", "--rate", "50", "--busy", "1", "--duration", "120s"],
                               os.path.join(tmp, "gmprun.err"))
        url = "http://%s/?interval=1" % addr
        status, html = http_get(url)
        check(status == 200 and "<canvas" in html, "GET / serves the page")
        check(not re.search(r"(src|href)=\"https?://", html), "the page loads no external assets")

        # Two runs a few seconds apart, each a screenshot and the DOM after
        # a few polls (one Chromium launch for both).
        shots = []
        for i in range(2):
            png = os.path.join(tmp, "live-%d.png" % i)
            r = run_chromium(chrome, url, ["--screenshot=" + png, "--dump-dom"])
            check(r.returncode == 0 and os.path.exists(png), "chromium run %d: screenshot taken (exit %d)" % (i, r.returncode))
            bad = console_errors(r.stderr)
            check(not bad, "chromium run %d: no console errors (%s)" % (i, bad[:3]))
            dom = r.stdout
            polls = re.search(r'data-polls="(\d+)"', dom)
            check(polls is not None and int(polls.group(1)) >= 2, "run %d: the page polled /metrics (%s)" % (i, polls and polls.group(1)))
            errs = re.search(r'data-errors="(\d+)"', dom)
            check(errs is not None and errs.group(1) == "0", "run %d: no script errors on the page (%s)" % (i, errs and errs.group(1)))
            if i == 0:
                points = dict(re.findall(r'data-chart="([a-z_]+)" data-points="(\d+)"', dom))
                for c in CHARTS:
                    check(c in points, "chart %s present" % c)
                for c in MUST_HAVE_DATA:
                    check(int(points.get(c, 0)) > 0, "chart %s drew points (%s)" % (c, points.get(c)))
            if out_dir and os.path.exists(png):
                os.makedirs(out_dir, exist_ok=True)
                shutil.copy(png, os.path.join(out_dir, "live-%d.png" % i))
            shots.append(png)
            if i == 0:
                time.sleep(3)
        if all(os.path.exists(p) for p in shots):
            w, h, a = decode_png(shots[0])
            _, _, b = decode_png(shots[1])
            pixels = [p for row in a for p in row]
            counts = collections.Counter(pixels)
            colours = len(counts)
            ink = 1 - counts.most_common(1)[0][1] / len(pixels)
            check(colours >= 50, "screenshot is not blank: %d colours" % colours)
            check(ink >= 0.05, "screenshot is not blank: %.1f %% non-background pixels" % (100 * ink))
            changed = sum(1 for ra, rb in zip(a, b) for pa, pb in zip(ra, rb) if pa != pb) / (w * h)
            check(changed >= 0.001, "the charts changed between the screenshots (%.2f %% of pixels)" % (100 * changed))

    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
