#!/usr/bin/env python3
"""Checks the runtime's include graph against docs/MODULES.md: a module may
include its own headers and those of the modules below it in the layer
table; an include of a module above is allowed only when the "Edges that go
up" table lists the pair. Also fails on a directory of runtime/src that is
not in the layer table and on a listed upward edge that no include uses any
more. Exit 0 when the graph keeps the rules, 1 with one line per break,
2 when docs/MODULES.md cannot be read.

  scripts/check-modules.py [ROOT]   # ROOT: the repository (default: this one)
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
doc = root / "docs" / "MODULES.md"


def die(msg):
    print(f"check-modules: {msg}", file=sys.stderr)
    sys.exit(2)


def table(text, header):
    """Rows of the markdown table whose header row starts with `header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells[: len(header)] == header:
            rows = []
            for row in lines[i + 2:]:
                if not row.lstrip().startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    die(f"{doc.relative_to(root)} has no table with the header | {' | '.join(header)} |")


try:
    text = doc.read_text()
except OSError as e:
    die(f"cannot read {doc}: {e.strerror}")
layers = [r[0] for r in table(text, ["module", "holds"])]
rank = {m: i for i, m in enumerate(layers)}
up = {}
for r in table(text, ["from", "to", "why"]):
    if len(r) < 3 or not r[2]:
        die(f"the upward edge {r[0]} -> {r[1] if len(r) > 1 else '?'} gives no reason")
    for m in r[:2]:
        if m not in rank:
            die(f"the upward edge {r[0]} -> {r[1]} names {m}, which is not in the layer table")
    if rank[r[0]] >= rank[r[1]]:
        die(f"the edge {r[0]} -> {r[1]} is listed as going up but {r[1]} is not above {r[0]}")
    up[(r[0], r[1])] = False  # not seen yet

src = root / "runtime" / "src"
bad = []
for d in sorted(p.name for p in src.iterdir() if p.is_dir()):
    if d not in rank:
        bad.append(f"runtime/src/{d}: module not in the layer table of docs/MODULES.md (give it a place)")

files = []  # (module, path)
for sub, module in (("include/gmp", "gmp"), ("http", "http")):
    files += [(module, p) for p in (root / "runtime" / sub).rglob("*")]
files += [(p.relative_to(src).parts[0], p) for p in src.rglob("*")]
inc = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)
for module, p in files:
    if p.suffix not in (".cpp", ".hpp", ".h", ".c", ".S") or not p.is_file():
        continue
    text = p.read_text(errors="replace")
    for m in inc.finditer(text):
        target = m.group(1).split("/")[0] if "/" in m.group(1) else None
        if target is None or target == module or target not in rank or module not in rank:
            continue
        if rank[target] < rank[module]:
            continue
        line = text.count("\n", 0, m.start()) + 1
        if (module, target) in up:
            up[(module, target)] = True
            continue
        bad.append(f"{p.relative_to(root)}:{line}: {module} includes {m.group(1)}: {target} is above {module} "
                   f"and {module} -> {target} is not a listed upward edge (docs/MODULES.md; use a hook, or list it with the reason)")

# The library does not know the tools above it: no message names gmprun or a
# command-line flag (comments may, to explain who calls what).
lit = re.compile(r'"(?:[^"\\\n]|\\.)*"')
flag = re.compile(r"gmprun|(?<![\w-])--[a-z][a-z0-9-]+")
for module, p in files:
    if p.suffix not in (".cpp", ".hpp", ".h", ".c") or not p.is_file():
        continue
    for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
        if line.lstrip().startswith("//") or line.lstrip().startswith("#include"):
            continue
        for m in lit.finditer(line):
            if flag.search(m.group(0)):
                bad.append(f"{p.relative_to(root)}:{n}: the message {m.group(0)[:60]} names a tool or its flag "
                           f"(the library uses its own terms: a Config field, a config key, a function)")

for (a, b), seen in up.items():
    if not seen:
        bad.append(f"docs/MODULES.md: the upward edge {a} -> {b} is listed but no include uses it (remove the row)")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
