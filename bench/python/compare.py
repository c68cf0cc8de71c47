#!/usr/bin/python3
"""Joins JMH's JSON result (TensorOpsBench and friends) with ops.py's output: prints the side-by-side table and
writes summary.json. Used by scripts/bench-ops; standard library only.

Targets (Java ns/op divided by Python ns/op): the small op at most 0.5 (the binding must be cheaper than CPython's
per-call overhead), the large ops at most 1.05 (same libtorch kernels, so only noise may separate them).
"""
import argparse
import json
import sys

# Java benchmark method -> (Python op it is compared with, target ratio)
ROWS = [
    ("add_4x4", "add_4x4", 0.5),
    ("add_4x4_scoped", "add_4x4", 0.5),
    ("add_1024x1024", "add_1024x1024", 1.05),
    ("matmul_512x512", "matmul_512x512", 1.05),
]
TO_NS = {"ns/op": 1.0, "us/op": 1e3, "ms/op": 1e6, "s/op": 1e9}


def load_jmh(path):
    """{'Class.method' or 'Class.method[param=value]': (ns/op mean, ns/op error)}."""
    with open(path) as f:
        runs = json.load(f)
    out = {}
    for r in runs:
        name = r["benchmark"].rsplit(".", 2)
        key = name[-2] + "." + name[-1]
        if r.get("params"):
            key += "[" + ",".join(f"{k}={v}" for k, v in r["params"].items()) + "]"
        m = r["primaryMetric"]
        unit = m["scoreUnit"]
        if unit not in TO_NS:
            raise SystemExit(f"unexpected JMH unit {unit!r} for {key}; expected one of {list(TO_NS)}")
        err = m.get("scoreError")
        err = float(err) * TO_NS[unit] if isinstance(err, (int, float)) or (isinstance(err, str) and err != "NaN") else None
        out[key] = (float(m["score"]) * TO_NS[unit], err, unit)
    return out


def human(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jmh", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--strict", action="store_true", help="exit with status 3 when a target is missed")
    a = ap.parse_args()

    jmh = load_jmh(a.jmh)
    with open(a.python) as f:
        py = json.load(f)

    rows = []
    for method, py_op, target in ROWS:
        j = jmh.get("TensorOpsBench." + method)
        p = py.get(py_op)
        if j is None or p is None:
            continue
        ratio = j[0] / p
        rows.append({"op": method, "python_op": py_op, "java_ns": j[0], "java_error_ns": j[1], "python_ns": p,
                     "ratio": ratio, "target": target, "met": ratio <= target})
    others = [{"benchmark": k, "java_ns": v[0], "java_error_ns": v[1]} for k, v in sorted(jmh.items())
              if not k.startswith("TensorOpsBench.")]

    md = a.markdown
    head = ("op", "Java ns/op", "Python ns/op", "Java/Python", "target", "result")
    lines = []
    if md:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
    else:
        lines.append(f"{head[0]:<16} {head[1]:>18} {head[2]:>14} {head[3]:>12} {head[4]:>8}  {head[5]}")
    for r in rows:
        java = f"{r['java_ns']:.1f}" + (f" ± {r['java_error_ns']:.1f}" if r["java_error_ns"] is not None else "")
        cells = (r["op"], java, f"{r['python_ns']:.1f}", f"{r['ratio']:.3f}", f"<= {r['target']}",
                 "met" if r["met"] else "MISSED")
        if md:
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(f"{cells[0]:<16} {cells[1]:>18} {cells[2]:>14} {cells[3]:>12} {cells[4]:>8}  {cells[5]}")
    if others:
        lines.append("")
        lines.append("| benchmark (Java only) | ns/op |" if md else "other Java benchmarks")
        if md:
            lines.append("|---|---|")
        for o in others:
            v = f"{o['java_ns']:.1f}" + (f" ± {o['java_error_ns']:.1f}" if o["java_error_ns"] is not None else "")
            lines.append(f"| {o['benchmark']} | {v} ({human(o['java_ns'])}) |" if md
                         else f"  {o['benchmark']:<44} {v:>24}  ({human(o['java_ns'])})")
    print("\n".join(lines))

    with open(a.summary, "w") as f:
        json.dump({"threads": a.threads, "rows": rows, "java_only": others}, f, indent=2)
    return 3 if a.strict and not all(r["met"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
