#!/usr/bin/python3
"""Joins the JSON that scripts/bench-compare collected (BenchCompare on the Java side, peer.py or peer_latent.py on the
Python side, the Java method comparison runs) into the side-by-side table with every round, the method tables with the
FLOP accounting, and the targets of issue 22, each "met", "missed" or "not measured" with the reason. Writes
summary.json and table.md next to the inputs. Standard library only.

Targets (issue 22; ratios side by side in one invocation, over at least 3 alternating rounds, every round reported):
  - whole epoch, Java / Python <= 0.80 at the same batching (the same NFE and micro-batches on both sides), on CPU;
  - sampling, Java / Python <= 0.90;
  - pro-grpo epoch wall time <= flow-grpo's / 1.26, in every one of 5 runs of the method comparison;
  - pro-grpo-flash epoch wall time <= flow-grpo's / 1.41, in every one of 5 runs;
  - peak memory of pro-grpo-flash below flow-grpo's: the MemoryLedger peak over the epoch (every run) and the peak
    resident set (one process per method: the methods of one process share it);
  - the JVM's resident-set growth over the epochs no more than the peer's;
  - on a CUDA GPU (H100/H200 class): the GPU checks and the demo at GPU size, bf16 step throughput against the FLOP floor,
    with and without CUDA graphs, and the epoch against the peer eagerly and with torch.compile -- not measured by this
    CPU script.
A verdict needs enough data: fewer rounds or runs than the target asks for give "not measured" with what was seen,
except that a run that misses an every-run target already misses it.
"""
import argparse
import glob
import json
import os
import sys

MIB = 1024.0 * 1024.0
MIN_ROUNDS, MIN_RUNS = 3, 5


def load(path):
    with open(path) as f:
        return json.load(f)


def numbered(d, prefix):
    files = sorted(glob.glob(os.path.join(d, prefix + "-[0-9]*.json")), key=lambda p: int(p.rsplit("-", 1)[1][:-5]))
    return [load(p) for p in files]


def mean(v):
    return sum(v) / len(v) if v else float("nan")


def median(v):
    v = sorted(v)
    n = len(v)
    return float("nan") if n == 0 else (v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2]))


def summary_of(report):
    return report["runs"][0]["summary"]


def check_lines(check):
    """The peer's self-check, one line per item (latent peer) or per quantity (pixel peer)."""
    if "items" in check:
        lines = ["Peer check against Java (%s; tolerance %s: %s): %s" % (
            check.get("world", "latent"), check["tolerance"], check.get("tolerance_rule", ""), "passed" if check["ok"] else "FAILED")]
        for name, it in check["items"].items():
            lines.append("  - %s: max |diff| %.3g (|Java| up to %.3g, allowed %.3g) %s"
                         % (name, it["max_abs_diff"], it["max_abs_java"], it["allowed"], "ok" if it["ok"] else "BEYOND"))
        return lines
    d = check["max_abs_diff"]
    return ["Model check (max abs diff, Java vs Python; tolerance %s): " % check.get("tolerance", "?") + ", ".join(
        "%s %.3g" % (k, v) for k, v in d.items() if k != "model_output_max_abs")
        + " (output magnitude up to %.3g)" % d.get("model_output_max_abs", float("nan"))]


def side_by_side(java, python, groups):
    js = [summary_of(r) for r in java]
    ps = [summary_of(r) for r in python]
    m = lambda ss, k: mean([s[k] for s in ss])  # noqa: E731
    rows = [
        ("sampling s / epoch", m(js, "sampling_s"), m(ps, "sampling_s")),
        ("sampling throughput, trajectories/s", m(js, "rows_per_s"), m(ps, "rows_per_s")),
        ("sampling throughput, model rows/s", m(js, "forward_rows_per_s"), m(ps, "forward_rows_per_s")),
        ("reward s / epoch (decode + score)", m(js, "reward_s"), m(ps, "reward_s")),
        ("training s / epoch", m(js, "training_s"), m(ps, "training_s")),
        ("training s per prompt group", m(js, "training_s") / groups, m(ps, "training_s") / groups),
        ("optimizer steps / epoch", m(js, "optimizer_steps"), m(ps, "optimizer_steps")),
        ("epoch s (wall, mean)", m(js, "epoch_wall_s"), m(ps, "epoch_wall_s")),
        ("epoch CPU s (process, all threads)", m(js, "epoch_cpu_s"), m(ps, "epoch_cpu_s")),
        ("epoch s (wall, best)", min(s["epoch_wall_min_s"] for s in js), min(s["epoch_wall_min_s"] for s in ps)),
        ("peak RSS MiB", m(js, "peak_rss_bytes") / MIB, m(ps, "peak_rss_bytes") / MIB),
        ("RSS before the epochs MiB", m(js, "rss_base_bytes") / MIB, m(ps, "rss_base_bytes") / MIB),
        ("peak RSS growth over it MiB", m(js, "peak_rss_growth_bytes") / MIB, m(ps, "peak_rss_growth_bytes") / MIB),
        ("trajectory MiB (stored at the end of sampling)", m(js, "trajectory_bytes_final") / MIB, m(ps, "trajectory_bytes") / MIB),
        ("resident between sampling steps, peak MiB", m(js, "sampling_resident_peak_bytes") / MIB, m(ps, "sampling_resident_peak_bytes") / MIB),
    ]
    per_round = []
    for i, (j, p) in enumerate(zip(js, ps)):
        per_round.append({"round": i + 1, "java_epoch_wall_s": j["epoch_wall_s"], "python_epoch_wall_s": p["epoch_wall_s"],
                          "java_sampling_s": j["sampling_s"], "python_sampling_s": p["sampling_s"],
                          "java_training_s": j["training_s"], "python_training_s": p["training_s"],
                          "java_rss_growth_bytes": j["peak_rss_growth_bytes"], "python_rss_growth_bytes": p["peak_rss_growth_bytes"],
                          "load_java": java[i].get("load_average_start"), "load_python": python[i].get("load_average_start"),
                          **{"ratio_" + k: j[k] / p[k] for k in ("sampling_s", "training_s", "epoch_wall_s", "epoch_cpu_s")}})
    return rows, per_round


def ratio_target(name, ratio, limit, n_rounds, same_work, same_batching=True):
    if not same_batching:
        return name, "not measured", ("the pixel peer (peer.py) micro-batches each trained step apart, the Java trainer mixes "
                                      "steps in its micro-batches: not the same batching (ratio %.3f); --world latent has it" % ratio)
    if not same_work:
        return name, "not measured", "the two sides did different work (NFE differ), so the ratio %.3f compares unequal batching" % ratio
    if n_rounds < MIN_ROUNDS:
        return name, "not measured", "%d round(s); the target needs >= %d alternating rounds (ratio over these: %.3f)" % (
            n_rounds, MIN_ROUNDS, ratio)
    return name, "met" if ratio <= limit else "missed", "Java / Python %.3f over %d rounds (target <= %.2f)" % (ratio, n_rounds, limit)


def every_run_target(name, speedups, need):
    if not speedups:
        return name, "not measured", "no method comparison run (--no-methods)"
    text = ", ".join("%.2fx" % s for s in speedups)
    if any(s < need for s in speedups):
        return name, "missed", "speedup over flow-grpo per run: %s (target >= %.2fx in every run)" % (text, need)
    if len(speedups) < MIN_RUNS:
        return name, "not measured", "%d of the %d runs the target needs, all met: %s" % (len(speedups), MIN_RUNS, text)
    return name, "met", "speedup over flow-grpo per run: %s (target >= %.2fx in every run)" % (text, need)


def method_table(meth):
    base = meth.get("flow-grpo")
    lines = ["| method | epoch s (wall) | sampling s | reward s | training s | NFE sampling | NFE training | GFLOP / epoch "
             "| FLOP speedup | wall speedup (paired median) | wall speedup (of means) | CPU speedup | resident peak, sampling MiB "
             "| ledger peak, sampling MiB | ledger peak, epoch MiB | trajectory MiB (final) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    out = {}
    for name, r in meth.items():
        s = r["summary"]
        fs = base["summary"]["flops_epoch"] / s["flops_epoch"] if base else float("nan")
        wm = base["summary"]["epoch_wall_s"] / s["epoch_wall_s"] if base else float("nan")
        # epochs ran interleaved (flow, pro, flash, flow, ...): the median of back-to-back ratios resists load bursts
        ws = median([b["epoch_wall_s"] / e["epoch_wall_s"] for b, e in zip(base["epochs"], r["epochs"])]) if base else float("nan")
        cs = median([b["epoch_cpu_s"] / e["epoch_cpu_s"] for b, e in zip(base["epochs"], r["epochs"]) if e["epoch_cpu_s"] > 0]) if base else float("nan")
        out[name] = {"summary": s, "flop_speedup": fs, "wall_speedup_paired_median": ws, "wall_speedup_of_means": wm, "cpu_speedup_paired_median": cs}
        lines.append("| %s | %.3f | %.3f | %.3f | %.3f | %d | %d | %.2f | %.2fx | %.2fx | %.2fx | %.2fx | %.2f | %.2f | %.2f | %.2f |" % (
            name, s["epoch_wall_s"], s["sampling_s"], s["reward_s"], s["training_s"], s["nfe_sampling"], s["nfe_training"],
            s["flops_epoch"] / 1e9, fs, ws, wm, cs, s["sampling_resident_peak_bytes"] / MIB, s["ledger_peak_sampling_bytes"] / MIB,
            s["ledger_peak_bytes"] / MIB, s["trajectory_bytes_final"] / MIB))
    return lines, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    d = a.dir
    java, python = numbered(d, "java"), numbered(d, "python")
    if not java or not python:
        sys.exit("peer_report: no java-N.json or python-N.json in " + d)
    run = load(os.path.join(d, "run.json")) if os.path.exists(os.path.join(d, "run.json")) else {"world": "pixel"}
    check = load(os.path.join(d, "check.json"))
    groups = java[0]["runs"][0]["config"]["groupsPerEpoch"]
    rows, per_round = side_by_side(java, python, groups)
    summary = {"run": run, "threads": java[0]["threads"], "check": check, "rounds": len(java), "side_by_side": {},
               "per_round": per_round, "targets": {}}
    lines = ["World: %s (overlay %s, peer %s), %d thread(s), OMP_WAIT_POLICY %s." % (
        run.get("world"), run.get("overlay", "demo"), run.get("peer", "peer.py"), java[0]["threads"], run.get("omp_wait_policy", "?")), ""]
    lines += check_lines(check) + ["", "| quantity | Java | Python | Java / Python |", "|---|---:|---:|---:|"]
    for label, jv, pv in rows:
        ratio = jv / pv if pv else float("nan")
        summary["side_by_side"][label] = {"java": jv, "python": pv, "ratio": ratio}
        lines.append("| %s | %.4g | %.4g | %.3f |" % (label, jv, pv, ratio))
    jn = [summary_of(r)["nfe_training"] for r in java] + [summary_of(r)["nfe_sampling"] for r in java]
    pn = [summary_of(r)["nfe_training"] for r in python] + [summary_of(r)["nfe_sampling"] for r in python]
    same = jn == pn
    summary["same_work"] = same
    lines += ["", "Same work on both sides: NFE sampling %d / %d, NFE training %d / %d (Java / Python)%s." % (
        summary_of(java[0])["nfe_sampling"], summary_of(python[0])["nfe_sampling"], summary_of(java[0])["nfe_training"],
        summary_of(python[0])["nfe_training"], "" if same else " -- DIFFERENT, the ratios compare unequal work")]
    lines += ["", "Raw rounds (Java then Python in each; seconds per epoch, means over the round's timed epochs):",
              "| round | Java epoch | Python epoch | epoch ratio | Java sampling | Python sampling | sampling ratio | Java training "
              "| Python training | training ratio | CPU ratio | RSS growth MiB Java / Python | load Java / Python |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in per_round:
        lines.append("| %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f / %.1f | %s / %s |" % (
            r["round"], r["java_epoch_wall_s"], r["python_epoch_wall_s"], r["ratio_epoch_wall_s"], r["java_sampling_s"], r["python_sampling_s"],
            r["ratio_sampling_s"], r["java_training_s"], r["python_training_s"], r["ratio_training_s"], r["ratio_epoch_cpu_s"],
            r["java_rss_growth_bytes"] / MIB, r["python_rss_growth_bytes"] / MIB, r["load_java"], r["load_python"]))

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

    # the method comparison runs (one process each; the old single methods.json counts as one run)
    mruns = numbered(d, "methods") or ([load(os.path.join(d, "methods.json"))] if os.path.exists(os.path.join(d, "methods.json")) else [])
    pro, flash, ledger = [], [], []
    summary["method_runs"] = []
    for i, mr in enumerate(mruns):
        meth = {r["method"]: r for r in mr["runs"]}
        table, out = method_table(meth)
        lines += ["", "Method comparison, run %d of %d (load %s to %s):" % (i + 1, len(mruns), mr.get("load_average_start"), mr.get("load_average_end"))] + table
        summary["method_runs"].append(out)
        if "pro-grpo" in out:
            pro.append(out["pro-grpo"]["wall_speedup_paired_median"])
        if "pro-grpo-flash" in out:
            flash.append(out["pro-grpo-flash"]["wall_speedup_paired_median"])
        if "pro-grpo-flash" in meth and "flow-grpo" in meth:
            ledger.append((meth["pro-grpo-flash"]["summary"]["ledger_peak_bytes"], meth["flow-grpo"]["summary"]["ledger_peak_bytes"]))
        base = meth.get("flow-grpo")
        if base:
            lines.append("Model: %d trainable parameters, %.2f MMAC (%.2f MFLOP) per row forward; backward counted as two forwards."
                         % (base["model_parameters"], base["forward_macs_per_row"] / 1e6, 2 * base["forward_macs_per_row"] / 1e6))

    # the latent peer micro-batches (step, row) pairs as PolicyUpdate does (its check compares every micro-batch)
    same_batching = run.get("world") == "latent"
    targets = [ratio_target("whole epoch <= 0.80x the PyTorch eager peer at the same batching (CPU)",
                            summary["side_by_side"]["epoch s (wall, mean)"]["ratio"], 0.80, len(java), same, same_batching),
               ratio_target("sampling <= 0.90x the peer (CPU)", summary["side_by_side"]["sampling s / epoch"]["ratio"], 0.90, len(java), same),
               every_run_target("pro-grpo epoch <= 1/1.26 of flow-grpo's, every run", pro, 1.26),
               every_run_target("pro-grpo-flash epoch <= 1/1.41 of flow-grpo's, every run", flash, 1.41)]
    name = "peak memory, MemoryLedger: pro-grpo-flash below flow-grpo (every run)"
    if not ledger:
        targets.append((name, "not measured", "no method comparison run (--no-methods)"))
    else:
        targets.append((name, "met" if all(f < b for f, b in ledger) else "missed", "flash / flow per run: " + ", ".join(
            "%.1f / %.1f MiB" % (f / MIB, b / MIB) for f, b in ledger)))
    name = "peak memory, RSS: pro-grpo-flash below flow-grpo (one process each)"
    rf, rb = os.path.join(d, "rss-pro-grpo-flash.json"), os.path.join(d, "rss-flow-grpo.json")
    if not (os.path.exists(rf) and os.path.exists(rb)):
        targets.append((name, "not measured", "no single-method runs (rss-flow-grpo.json, rss-pro-grpo-flash.json; --no-methods)"))
    else:
        sf, sb = summary_of(load(rf)), summary_of(load(rb))
        if not (sf["peak_rss_reset"] and sb["peak_rss_reset"]):
            targets.append((name, "not measured", "the peak resident set could not be reset after start-up (/proc/self/clear_refs)"))
        else:
            targets.append((name, "met" if sf["peak_rss_bytes"] < sb["peak_rss_bytes"] else "missed",
                            "peak RSS %.1f vs %.1f MiB (growth over the built models %.1f vs %.1f MiB)" % (
                                sf["peak_rss_bytes"] / MIB, sb["peak_rss_bytes"] / MIB, sf["peak_rss_growth_bytes"] / MIB, sb["peak_rss_growth_bytes"] / MIB)))
    name = "JVM RSS growth over the epochs <= the peer's"
    resets = all(summary_of(r)["peak_rss_reset"] for r in java + python)
    jg, pg = mean([summary_of(r)["peak_rss_growth_bytes"] for r in java]), mean([summary_of(r)["peak_rss_growth_bytes"] for r in python])
    if not resets:
        targets.append((name, "not measured", "a side could not reset its peak resident set (/proc/self/clear_refs), so its growth includes start-up"))
    else:
        targets.append((name, "met" if jg <= pg else "missed", "peak growth %.1f MiB (Java) vs %.1f MiB (Python), mean over %d round(s)" % (
            jg / MIB, pg / MIB, len(java))))
    targets.append(("GPU (H100/H200 class): GPU checks and demo at GPU size, bf16 step throughput vs the FLOP floor with and without "
                    "CUDA graphs, epoch vs the peer eager and with torch.compile", "not measured",
                    "this script runs on the CPU; the GPU part needs a CUDA machine"))
    missed = 0
    lines += ["", "Targets (issue 22):"]
    for name, verdict, why in targets:
        missed += verdict == "missed"
        summary["targets"][name] = {"verdict": verdict, "detail": why}
        lines.append("- %s: %s (%s)" % (name, verdict, why))
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
