#!/usr/bin/env python3
"""Writes and checks link/hot-text.ld, the linker script that puts the code `picket run` executes
at the front of the binary's text.

The process maps the binary's code in the kernel's fault-around windows (64 KiB), so a function
run once keeps its neighbours resident too. `picket run` executes about 1.4 MiB of a 5.3 MiB
text; scattered over the text, that kept 4.3 MiB of it resident. Gathered in an output section
`.text.hot` (1.5 MiB) placed before `.text`, it keeps about 2 MiB, and the peak RSS of `picket
run` on the demo clip falls by 2.2 MiB (docs/design/runtime.md, "Memory").

The script names input sections by pattern, not by symbol: the build mangles symbols in the v0
scheme (.cargo/config.toml), whose names carry crate hashes (`Cs<hash>_`) that change with the
toolchain, the target and the dependencies' versions; they become `*`, so the script stays valid
across builds and on both architectures. (A legacy-mangled name's hash of the build, `17h<16
hex>E`, becomes `*` too, but then a generic function's pattern matches all its instances.) LLVM
puts some functions in `.text.unlikely.<name>`, so each pattern names both sections.

Usage (scripts/hot-text.sh runs the profiles):
  hot_text.py write BINARY CALLGRIND_OUT...        the script on stdout, hottest code first
  hot_text.py check BINARY [--min PERCENT]         the share of patterns that match a symbol of
                                                   BINARY; exits 1 below PERCENT (default 80)
"""

import bisect
import re
import subprocess
import sys

HEADER = """\
/* The code `picket run` executes, first in the text: written by scripts/hot-text.sh from
   callgrind profiles of the demo clip (scripts/hot_text.py says how). Linked by build.rs. */
"""
FN = re.compile(r"^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$")
SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*")


def pattern(name):
    """The name with its build-specific hashes turned into `*`."""
    if name.startswith("_ZN"):
        return re.sub(r"17h[0-9a-f]{16}E(\.llvm\.\d+)?$", "17h*", name)
    if name.startswith("_R"):
        return re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", name)
    return name


def functions(binary):
    """The names of the functions BINARY defines."""
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True,
                         check=True).stdout
    rows = (line.split() for line in out.splitlines())
    return {r[2] for r in rows if len(r) == 3 and r[1] in "tTwW"}


def profile(ours, path):
    """Self cost in instructions of each function named in OURS in a callgrind file. (Which
    object a function is in is not read from the file: valgrind names the binary `???` once
    the binary has a `.text.hot`.)"""
    fns, cost = {}, {}
    fn = None
    after_call = False
    with open(path, errors="replace") as f:
        for line in f:
            m = FN.match(line.rstrip("\n"))
            if m:
                kind, ident, name = m.groups()
                if kind.endswith("fn") and name:
                    fns[ident] = name.split("'")[0]  # callgrind's marks of recursion
                if kind == "fn":
                    fn = fns.get(ident)
                    fn = fn if fn in ours else None
                continue
            if line.startswith("calls="):
                after_call = True
                continue
            if fn and line[:1] in "0123456789+-*" and not after_call:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    cost[fn] = cost.get(fn, 0) + int(parts[1])
            after_call = False
    return cost


def write(binary, paths):
    cost = {}
    ours = functions(binary)
    for path in paths:
        for name, ir in profile(ours, path).items():
            if SYMBOL.fullmatch(name):
                p = pattern(name)
                cost[p] = cost.get(p, 0) + ir
    if not cost:
        sys.exit(f"no function of {binary} in {' '.join(paths)}")
    lines = [HEADER, "SECTIONS {", "  .text.hot : {"]
    for p in sorted(cost, key=lambda p: (-cost[p], p)):
        lines.append(f"    *(.text.{p} .text.unlikely.{p})")
    lines += ["  }", "} INSERT BEFORE .text;", ""]
    sys.stdout.write("\n".join(lines))


def check(binary, minimum):
    symbols = sorted(functions(binary))
    patterns = re.findall(r"^\s*\*\(\.text\.(\S+) ", open("link/hot-text.ld").read(), re.M)
    matched = 0
    for p in patterns:
        head = p.split("*", 1)[0]
        i = bisect.bisect_left(symbols, head)
        regex = re.compile(".*".join(map(re.escape, p.split("*"))))
        while i < len(symbols) and symbols[i].startswith(head):
            if regex.fullmatch(symbols[i]):
                matched += 1
                break
            i += 1
    share = 100 * matched / max(len(patterns), 1)
    print(f"link/hot-text.ld: {matched} of {len(patterns)} patterns ({share:.0f}%) match a"
          f" function of {binary}")
    if share < minimum:
        sys.exit(f"link/hot-text.ld is stale (under {minimum}%): run scripts/hot-text.sh")


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "write":
        write(args[1], args[2:])
    elif len(args) in (2, 4) and args[0] == "check":
        check(args[1], float(args[3]) if len(args) == 4 and args[2] == "--min" else 80)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
