#!/usr/bin/env python3
"""Tests scripts/check-modules.py on copies of this repository's runtime
sources and docs/MODULES.md: the tree as it is passes; a forbidden upward
include, a module missing from the layer table, a listed edge no include
uses, an upward edge listed without a reason, and a library message that
names a tool's flag each fail with the line that names them. Standard library only.

  check_modules_test.py REPO_ROOT
"""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(sys.argv.pop(1) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
SCRIPT = REPO / "scripts" / "check-modules.py"


class CheckModules(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self.tmp.name)
        shutil.copytree(REPO / "runtime", self.root / "runtime",
                        ignore=shutil.ignore_patterns("*.html", "*.cmake", "CMakeLists.txt"))
        (self.root / "docs").mkdir()
        shutil.copy(REPO / "docs" / "MODULES.md", self.root / "docs")

    def tearDown(self):
        self.tmp.cleanup()

    def run_check(self):
        r = subprocess.run([sys.executable, str(SCRIPT), str(self.root)], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    def edit(self, rel, old, new):
        p = self.root / rel
        text = p.read_text()
        self.assertIn(old, text)
        p.write_text(text.replace(old, new, 1))

    def test_tree_as_it_is_passes(self):
        rc, out = self.run_check()
        self.assertEqual((rc, out), (0, ""))

    def test_forbidden_upward_include_fails(self):
        # base is the lowest internal module: it may include nothing above it.
        p = self.root / "runtime/src/base/clock.hpp"
        p.write_text(p.read_text() + '\n#include "sched/sched.hpp"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"runtime/src/base/clock\.hpp:\d+: base includes sched/sched\.hpp: sched is above base")

    def test_library_message_naming_a_tool_flag_fails(self):
        self.edit("runtime/src/io/ring.cpp", 'return "forced off by io::set_backend(\\"blocking\\")";',
                  'return "forced off by gmprun --io blocking";')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"runtime/src/io/ring\.cpp:\d+: the message .*gmprun --io blocking.* names a tool or its flag")

    def test_a_flag_in_a_comment_is_fine(self):
        p = self.root / "runtime/src/io/ring.cpp"
        p.write_text(p.read_text() + '\n// gmprun --io blocking calls set_backend("blocking").\n')
        rc, out = self.run_check()
        self.assertEqual((rc, out), (0, ""))

    def test_public_header_including_internals_fails(self):
        p = self.root / "runtime/include/gmp/go.hpp"
        p.write_text(p.read_text() + '\n#include "mem/pool_state.hpp"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("gmp includes mem/pool_state.hpp: mem is above gmp", out)

    def test_downward_include_passes(self):
        p = self.root / "runtime/src/stw/stw.hpp"
        p.write_text(p.read_text() + '\n#include "base/clock.hpp"\n')
        rc, out = self.run_check()
        self.assertEqual((rc, out), (0, ""))

    def test_module_missing_from_layers_fails(self):
        (self.root / "runtime/src/newmod").mkdir()
        (self.root / "runtime/src/newmod/x.cpp").write_text('#include "sched/sched.hpp"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("runtime/src/newmod: module not in the layer table", out)

    def test_stale_upward_edge_fails(self):
        self.edit("runtime/src/sync/select.cpp", '#include "timer/timer.hpp"\n', "")
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("the upward edge sync -> timer is listed but no include uses it", out)

    def test_upward_edge_without_reason_is_refused(self):
        doc = (self.root / "docs/MODULES.md").read_text()
        lines = [ln for ln in doc.splitlines() if ln.startswith("| sync | timer |")]
        self.assertEqual(len(lines), 1)
        self.edit("docs/MODULES.md", lines[0], "| sync | timer | |")
        rc, out = self.run_check()
        self.assertEqual(rc, 2, out)
        self.assertIn("the upward edge sync -> timer gives no reason", out)


if __name__ == "__main__":
    unittest.main()
