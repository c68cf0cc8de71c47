#!/usr/bin/python3
"""Joins the JSON that scripts/bench-compare collected (BenchCompare on the Java side, peer.py on the Python side,
the Java method comparison) into the side-by-side table, the method table with the FLOP accounting, and the
targets, met or missed. Writes summary.json and table.md next to the inputs. Standard library only.

Targets (from issue 9):
  - whole epoch, Java / Python <= 1.0 (the sampling and training phases are shown against the same 1.0);
  - pro-grpo epoch <= flow-grpo's / 1.26, pro-grpo-flash epoch <= flow-grpo's / 1.41 (wall time, Java side);
  - pro-grpo-flash's peak trajectory memory below flow-grpo's (MemoryLedger bytes held between sampling steps).
"""
import argparse
import glob
import json
import os
import sys

MIB = 1024.0 * 1024.0


def load(path):
    with open(path) as f:
        return json.load(f)


def rounds(d, side):
    files = sorted(glob.glob(os.path.join(d, side + "-[0-9]*.json")), key=lambda p: int(p.rsplit("-", 1)[1][:-5]))
    return [load(p) for p in files]


def mean(v):
    return sum(v) / len(v)


def median(v):
    v = sorted(v)
    n = len(v)
    return float("nan") if n == 0 else (v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2]))


def groups(java):
    return java[0]["runs"][0]["config"]["groupsPerEpoch"]


def side_by_side(java, python):
    """Rows: (label, java value, python value, ratio java/python, target or None, lower_is_better)."""
    js = [r["runs"][0]["summary"] for r in java]
    ps = [r["runs"][0]["summary"] for r in python]

    def m(ss, k):
        return mean([s[k] for s in ss])

    rows = [
        ("sampling s / epoch", m(js, "sampling_s"), m(ps, "sampling_s"), 1.0),
        ("sampling throughput, trajectories/s", m(js, "rows_per_s"), m(ps, "rows_per_s"), None),
        ("sampling throughput, model rows/s", m(js, "forward_rows_per_s"), m(ps, "forward_rows_per_s"), None),
        ("reward s / epoch (stand-in)", m(js, "reward_s"), m(ps, "reward_s"), None),
        ("training s / epoch", m(js, "training_s"), m(ps, "training_s"), 1.0),
        ("training s per prompt group", m(js, "training_s") / groups(java), m(ps, "training_s") / groups(java), 1.0),
        ("optimizer steps / epoch", m(js, "optimizer_steps"), m(ps, "optimizer_steps"), None),
        ("epoch s (wall, mean)", m(js, "epoch_wall_s"), m(ps, "epoch_wall_s"), 1.0),
        ("epoch CPU s (process, all threads)", m(js, "epoch_cpu_s"), m(ps, "epoch_cpu_s"), None),
        ("epoch s (wall, best)", min(s["epoch_wall_min_s"] for s in js), min(s["epoch_wall_min_s"] for s in ps), None),
        ("peak RSS MiB", m(js, "peak_rss_bytes") / MIB, m(ps, "peak_rss_bytes") / MIB, None),
        ("RSS before the epochs MiB", m(js, "rss_base_bytes") / MIB, m(ps, "rss_base_bytes") / MIB, None),
        ("peak RSS growth over it MiB", m(js, "peak_rss_growth_bytes") / MIB, m(ps, "peak_rss_growth_bytes") / MIB, None),
        ("trajectory MiB (stored at the end of sampling)", m(js, "trajectory_bytes_final") / MIB, m(ps, "trajectory_bytes") / MIB, None),
        ("resident between sampling steps, peak MiB", m(js, "sampling_resident_peak_bytes") / MIB,
         m(ps, "sampling_resident_peak_bytes") / MIB, None),
    ]
    per_round = []
    for j, p in zip(js, ps):
        per_round.append({k: j[k] / p[k] for k in ("sampling_s", "training_s", "epoch_wall_s", "epoch_cpu_s")})
    return rows, per_round


def verdict(ratio, target):
    if target is None:
        return ""
    return "met" if ratio <= target else "missed"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    d = a.dir
    java, python = rounds(d, "java"), rounds(d, "python")
    if not java or not python:
        sys.exit("peer_report: no java-N.json or python-N.json in " + d)
    check = load(os.path.join(d, "check.json"))
    rows, per_round = side_by_side(java, python)
    summary = {"threads": java[0]["threads"], "check": check, "rounds": len(java), "side_by_side": {}, "per_round": per_round,
               "load_average": [r.get("load_average_start") for r in java + python], "targets": {}}
    lines = ["| quantity | Java | Python | Java / Python | target | |", "|---|---:|---:|---:|---:|---|"]
    missed = 0
    for label, jv, pv, target in rows:
        ratio = jv / pv if pv else float("nan")
        v = verdict(ratio, target)
        missed += v == "missed"
        summary["side_by_side"][label] = {"java": jv, "python": pv, "ratio": ratio, "target": target, "verdict": v}
        lines.append("| %s | %.4g | %.4g | %.3f | %s | %s |" % (label, jv, pv, ratio, "<= %.2f" % target if target else "", v))
    jn = mean([r["runs"][0]["summary"]["nfe_training"] for r in java])
    pn = mean([r["runs"][0]["summary"]["nfe_training"] for r in python])
    js_ = mean([r["runs"][0]["summary"]["nfe_sampling"] for r in java])
    ps_ = mean([r["runs"][0]["summary"]["nfe_sampling"] for r in python])
    summary["same_work"] = jn == pn and js_ == ps_
    lines.append("")
    lines.append("Same work on both sides: NFE sampling %d / %d, NFE training %d / %d (Java / Python)%s."
                 % (js_, ps_, jn, pn, "" if summary["same_work"] else " -- DIFFERENT, the ratios compare unequal work"))
    lines.append("Per round, Java / Python: " + "; ".join(
        "round %d: sampling %.3f, training %.3f, epoch %.3f (CPU %.3f)"
        % (i + 1, r["sampling_s"], r["training_s"], r["epoch_wall_s"], r["epoch_cpu_s"])
        for i, r in enumerate(per_round)))
    lines.append("Model check (max abs diff, Java vs Python): " + ", ".join(
        "%s %.3g" % (k, v) for k, v in check["max_abs_diff"].items() if k != "model_output_max_abs")
        + " (output magnitude up to %.3g)" % check["max_abs_diff"]["model_output_max_abs"])

    fj, fp = os.path.join(d, "forward-java.json"), os.path.join(d, "forward-python.json")
    if os.path.exists(fj) and os.path.exists(fp):
        jr, pr = load(fj)["forward_scaling"], load(fp)["forward_scaling"]
        lines += ["", "| rows | forward ms, Java | Python | Java / Python | forward + backward ms, Java | Python | Java / Python |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        summary["forward_scaling"] = []
        for j, p in zip(jr, pr):
            rf, rb = j["forward_nograd_ms"] / p["forward_nograd_ms"], j["forward_backward_ms"] / p["forward_backward_ms"]
            summary["forward_scaling"].append({"rows": j["rows"], "java": j, "python": p, "ratio_forward": rf, "ratio_backward": rb})
            lines.append("| %d | %.2f | %.2f | %.3f | %.2f | %.2f | %.3f |" % (j["rows"], j["forward_nograd_ms"], p["forward_nograd_ms"], rf,
                                                                           j["forward_backward_ms"], p["forward_backward_ms"], rb))

    mpath = os.path.join(d, "methods.json")
    if os.path.exists(mpath):
        meth = {r["method"]: r for r in load(mpath)["runs"]}
        base = meth.get("flow-grpo")
        lines += ["", "| method | epoch s (wall) | sampling s | reward s | training s | NFE sampling | NFE training "
                  "| GFLOP / epoch | FLOP speedup | wall speedup (paired median) | wall speedup (of means) | CPU speedup | target | | resident peak, sampling MiB | ledger peak, sampling MiB "
                  "| ledger peak, epoch MiB | trajectory MiB (final) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
        targets = {"pro-grpo": 1.26, "pro-grpo-flash": 1.41}
        summary["methods"] = {}
        for name, r in meth.items():
            s = r["summary"]
            fs = base["summary"]["flops_epoch"] / s["flops_epoch"] if base else float("nan")
            ws_mean = base["summary"]["epoch_wall_s"] / s["epoch_wall_s"] if base else float("nan")
            # epochs ran interleaved (flow, pro, flash, flow, ...): the median of back-to-back ratios resists load bursts
            ws = median([b["epoch_wall_s"] / e["epoch_wall_s"] for b, e in zip(base["epochs"], r["epochs"])]) if base else float("nan")
            cs = median([b["epoch_cpu_s"] / e["epoch_cpu_s"] for b, e in zip(base["epochs"], r["epochs"])
                         if e["epoch_cpu_s"] > 0]) if base else float("nan")
            t = targets.get(name)
            v = "" if t is None else ("met" if ws >= t else "missed")
            missed += v == "missed"
            summary["methods"][name] = {"summary": s, "flop_speedup": fs, "wall_speedup_paired_median": ws,
                                        "wall_speedup_of_means": ws_mean, "cpu_speedup_paired_median": cs, "target": t, "verdict": v}
            lines.append("| %s | %.3f | %.3f | %.3f | %.3f | %d | %d | %.2f | %.2fx | %.2fx | %.2fx | %.2fx | %s | %s | %.2f | %.2f | %.2f | %.2f |" % (
                name, s["epoch_wall_s"], s["sampling_s"], s["reward_s"], s["training_s"], s["nfe_sampling"], s["nfe_training"],
                s["flops_epoch"] / 1e9, fs, ws, ws_mean, cs, ">= %.2fx" % t if t else "", v, s["sampling_resident_peak_bytes"] / MIB,
                s["ledger_peak_sampling_bytes"] / MIB,
                s["ledger_peak_bytes"] / MIB, s["trajectory_bytes_final"] / MIB))
        if base and "pro-grpo-flash" in meth:
            fp = meth["pro-grpo-flash"]["summary"]["sampling_resident_peak_bytes"]
            bp = base["summary"]["sampling_resident_peak_bytes"]
            fl = meth["pro-grpo-flash"]["summary"]["ledger_peak_sampling_bytes"]
            bl = base["summary"]["ledger_peak_sampling_bytes"]
            v = "met" if fp < bp else "missed"
            missed += v == "missed"
            summary["targets"]["flash_peak_trajectory_memory_below_flow"] = {"flash": fp, "flow": bp, "ratio": fp / bp, "verdict": v}
            lines.append("")
            summary["targets"]["flash_ledger_peak_sampling_below_flow"] = {"flash": fl, "flow": bl, "ratio": fl / bl}
            lines.append("Peak trajectory memory (MemoryLedger bytes between sampling steps, over the epoch's start): "
                         "pro-grpo-flash %.2f MiB vs flow-grpo %.2f MiB, ratio %.3f: %s. The ledger's peak over sampling, "
                         "which also holds the largest forward's activations: %.2f vs %.2f MiB, ratio %.3f."
                         % (fp / MIB, bp / MIB, fp / bp, v, fl / MIB, bl / MIB, fl / bl))
        macs = base["forward_macs_per_row"] if base else None
        if macs:
            lines.append("Model: %d parameters, %.2f MMAC (%.2f MFLOP) per row forward; backward counted as two forwards."
                         % (base["model_parameters"], macs / 1e6, 2 * macs / 1e6))
        summary["methods_load_average"] = [load(mpath).get("load_average_start"), load(mpath).get("load_average_end")]
    summary["missed"] = missed
    text = "\n".join(lines) + "\n"
    with open(os.path.join(d, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(text)
    print("targets missed: %d" % missed)
    if a.strict and missed:
        sys.exit(3)


if __name__ == "__main__":
    main()
