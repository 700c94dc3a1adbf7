#!/usr/bin/env python3
"""Checks that every "Note [Name] in FILE" pointer in the sources names a file
that defines that Note (a comment line "// Note [Name]"), and that every Note
cited without a file is defined somewhere. Named Notes hold the reasoning
behind the code (CONTRIBUTING.md); a pointer to the wrong file is how
they rot. Exit 0 when all resolve, 1 with one line per broken pointer."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
srcs = [p for d in ("runtime", "tools", "tests") for p in (root / d).rglob("*")
        if p.suffix in (".cpp", ".hpp", ".h", ".c") and p.is_file()]
define = re.compile(r"^[ \t]*//[ \t]*Note \[([^\]]+)\][ \t]*$", re.M)
cite = re.compile(r"Note \[([^\]]+)\](?:\s*(?://\s*)?in ([A-Za-z0-9_./]+\.(?:cpp|hpp|h|c)))?")


def norm(name):
    """A Note's name as one line: comment breaks and box-drawing removed."""
    name = re.sub(r"\s*\n\s*(?://)?\s*", " ", name)
    return " ".join(name.replace("\u2502", " ").split())

defined = {}  # name -> set of files defining it
for p in srcs:
    for m in define.finditer(p.read_text(errors="replace")):
        defined.setdefault(norm(m.group(1)), set()).add(p)

bad = []
for p in srcs:
    text = p.read_text(errors="replace")
    for m in cite.finditer(text):
        name, where = norm(m.group(1)), m.group(2)
        line = text.count("\n", 0, m.start()) + 1
        rel = p.relative_to(root)
        homes = defined.get(name, set())
        if not homes:
            bad.append(f"{rel}:{line}: Note [{name}] is defined nowhere")
            continue
        if where is None:
            continue
        # FILE is relative to the citing file's directory or to runtime/src.
        cands = {(p.parent / where).resolve(), (root / "runtime/src" / where).resolve(),
                 (root / "runtime/include" / where).resolve(),
                 (root / where).resolve()}
        if not any(h.resolve() in cands for h in homes):
            got = ", ".join(sorted(str(h.relative_to(root)) for h in homes))
            bad.append(f"{rel}:{line}: Note [{name}] in {where}: it is defined in {got}")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
