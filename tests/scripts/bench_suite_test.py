#!/usr/bin/env python3
"""Unit tests of scripts/bench_suite.py's parsing, comparison and page
rendering (the benchmarks themselves are not run here: they take minutes and
their figures are not pass/fail)."""
import importlib.util
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_suite", ROOT / "scripts/bench_suite.py")
bs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bs)


class Parsing(unittest.TestCase):
    def test_summary_takes_the_workloads_line_not_the_tracers(self):
        text = ("banner\nsummary workload=pingpong ok=true ns_per_roundtrip=81.5\n"
                "summary preemptions=3 offcpu_ns=10\n")
        d = bs.summary(text)
        self.assertEqual(d["ns_per_roundtrip"], "81.5")
        self.assertEqual(bs.num(d, "ns_per_roundtrip"), 81.5)

    def test_missing_summary_or_field_is_a_failure_that_says_what(self):
        with self.assertRaisesRegex(bs.Failed, "no 'summary workload=' line"):
            bs.summary("nothing here\n")
        with self.assertRaisesRegex(bs.Failed, "no numeric field p99"):
            bs.num({"p50": "1"}, "p99")
        with self.assertRaisesRegex(bs.Failed, "no numeric field x"):
            bs.num({"x": "n/a"}, "x")

    def test_go_bench_output_with_and_without_procs_suffix(self):
        text = ("goos: linux\n"
                "BenchmarkYieldPair-2      \t 5000000\t       228.0 ns/op\n"
                "BenchmarkYieldPair-2      \t 5000000\t       230.0 ns/op\n"
                "BenchmarkWakeCrossP/parked-2  1000  9000 ns/op  4100 p50_ns  90000 p99_ns\n"
                "BenchmarkSkynet1M   3  1000000000 ns/op  900.5 ns/goroutine\n"
                "PASS\n")
        g = bs.go_bench(text)
        self.assertEqual(bs.go_values(g, "YieldPair", "ns/op"), [228.0, 230.0])
        self.assertEqual(bs.go_values(g, "WakeCrossP/parked", "p50_ns"), [4100.0])
        self.assertEqual(g[("Skynet1M", 1)]["ns/goroutine"], [900.5])
        self.assertEqual(bs.go_values(g, "Absent", "ns/op"), [])

    def test_run_reports_the_command_and_its_exit(self):
        with self.assertRaisesRegex(bs.Failed, "exit 3"):
            bs.run(["sh", "-c", "echo oops; exit 3"])
        self.assertEqual(bs.run(["sh", "-c", "echo fine"]).strip(), "fine")


class Comparing(unittest.TestCase):
    def test_lower_is_better_ratio_is_best_peer_over_ours(self):
        c = bs.Case("sched", "x", "ns", goal=3.0)
        c.ours = [10, 11, 9]
        c.peer("Go").extend([40, 50, 45])
        c.peer("Boost").extend([30, 33, 31])
        r, best = c.ratio()
        self.assertEqual(best, 31)
        self.assertAlmostEqual(r, 3.1)
        self.assertEqual(c.verdict(), "met")
        c.goal = 4.0
        self.assertEqual(c.verdict(), "missed")

    def test_higher_is_better_ratio_is_ours_over_best_peer(self):
        c = bs.Case("net", "rps", "requests/s", lower_better=False, goal=1.0)
        c.ours = [90]
        c.peer("Go").append(60)
        c.peer("epoll C").append(100)
        r, best = c.ratio()
        self.assertEqual(best, 100)
        self.assertAlmostEqual(r, 0.9)
        self.assertEqual(c.verdict(), "missed")

    def test_no_figures_no_ratio_no_verdict(self):
        c = bs.Case("sched", "x", "ns", goal=2.0)
        self.assertEqual(c.ratio(), (None, None))
        self.assertEqual(c.verdict(), "")

    def test_cells_show_median_and_range(self):
        self.assertEqual(bs.cell([3.0, 1.0, 2.0]), "2.00 (1.00–3.00)")
        self.assertEqual(bs.cell([1234567.0]), "1 234 567")
        self.assertEqual(bs.cell([]), "–")


class Usage(unittest.TestCase):
    def test_bad_area_and_reps_are_one_line_and_exit_2(self):
        import subprocess
        for args, want in ((["--areas", "sched,bogus"], "unknown area bogus; use some of sched, chan"),
                           (["--reps", "0"], "--reps must be at least 1")):
            p = subprocess.run([sys.executable, str(ROOT / "scripts/bench_suite.py")] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(want, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


class Page(unittest.TestCase):
    def test_page_has_tables_charts_skips_and_the_command(self):
        class A:
            build, reps, quick = "build", 3, False
        s = bs.Suite.__new__(bs.Suite)
        s.a, s.reps, s.cases, s.notes = A(), 3, [], {}
        c = s.case("alloc", "pair 64 B", "ns/pair", goal=2.0)
        c.ours = [3.0, 3.2, 3.1]
        c.peer("mimalloc").extend([7.0, 7.5, 7.2])
        t = s.case("observe", "traced ping-pong", "ns", goal=0.5)
        t.skipped = "not root: gmptrace loads BPF programs"
        s.note("alloc", "the pool's own rows")
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "BENCHMARKS.md"
            bs.page(s, "2026-12-07 12:00", 600, "scripts/bench-suite.sh", out)
            text = out.read_text()
            self.assertIn("| pair 64 B | ns/pair | 3.10 (3.00–3.20) | 7.20 (7.00–7.50) | 2.32× | ≥ 2× | met |", text)
            self.assertIn("not run: not root: gmptrace loads BPF programs", text)
            self.assertIn("`scripts/bench-suite.sh`", text)
            self.assertIn("![", text)
            svg = (Path(d) / "bench" / "alloc.svg").read_text()
            self.assertIn("<svg", svg)
            self.assertIn("2.32×", svg)
            self.assertIn("pair 64 B", svg)
            # An area whose every case was skipped has a table but no chart.
            self.assertFalse((Path(d) / "bench" / "observe.svg").exists())


if __name__ == "__main__":
    unittest.main(verbosity=1)
