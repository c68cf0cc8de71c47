#!/usr/bin/python3
"""PyTorch-eager peer of io.progrpo.bench.TensorOpsBench: the same ops on the same libtorch, timed the same way.

Each op is a full Python call that allocates its result; the result is released when the next iteration rebinds
the name (CPython frees it at once), so every timed op includes allocation and free, like the Java benchmark's
close. Timing mirrors the JMH settings: warm-up, then `--rounds` rounds of about `--round-seconds` each; the figure
printed is the mean of the rounds' ns/op (JMH's AverageTime is the mean of its iterations too).

Prints JSON {op: ns_per_op} on stdout; --detail PATH also writes every round and the run's set-up.
Run with Debian's interpreter (/usr/bin/python3), which has python3-torch.
"""
import argparse
import json
import os
import platform
import sys
import time

import torch

OPS = ("add_4x4", "add_1024x1024", "matmul_512x512")


def make_ops():
    g = torch.Generator().manual_seed(20251217)
    small0, small1 = torch.randn(4, 4, generator=g), torch.randn(4, 4, generator=g)
    large0, large1 = torch.randn(1024, 1024, generator=g), torch.randn(1024, 1024, generator=g)
    mat0, mat1 = torch.randn(512, 512, generator=g), torch.randn(512, 512, generator=g)
    add, matmul = torch.add, torch.matmul
    # Each returns a loop of n calls, so the timer sees only the calls and the loop itself.

    def add_4x4(n):
        for _ in range(n):
            r = add(small0, small1)
        return r

    def add_1024x1024(n):
        for _ in range(n):
            r = add(large0, large1)
        return r

    def matmul_512x512(n):
        for _ in range(n):
            r = matmul(mat0, mat1)
        return r

    return {"add_4x4": add_4x4, "add_1024x1024": add_1024x1024, "matmul_512x512": matmul_512x512}


def batch_size(fn, target_ns):
    """Calls per timed batch, so that one batch takes about target_ns (keeps timer overhead negligible)."""
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        fn(n)
        dt = time.perf_counter_ns() - t0
        if dt >= target_ns or n >= 1 << 26:
            return max(1, int(n * target_ns / max(dt, 1)))
        n *= 2


def run_for(fn, n, seconds):
    """Runs batches of n calls for about `seconds`; returns (calls, elapsed ns)."""
    calls = 0
    total = 0
    budget = int(seconds * 1e9)
    while total < budget:
        t0 = time.perf_counter_ns()
        fn(n)
        total += time.perf_counter_ns() - t0
        calls += n
    return calls, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: all CPUs)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up rounds (default 3)")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    ap.add_argument("--round-seconds", type=float, default=1.0, help="seconds per round (default 1)")
    ap.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of " + ",".join(OPS))
    ap.add_argument("--detail", help="also write rounds and set-up as JSON to this file")
    a = ap.parse_args()
    if a.threads < 1:
        ap.error(f"--threads must be >= 1, got {a.threads}")
    wanted = [o.strip() for o in a.ops.split(",") if o.strip()]
    for o in wanted:
        if o not in OPS:
            ap.error(f"unknown op {o!r}; expected one of {', '.join(OPS)}")

    # Same thread set-up as the Java side (Torch.applyThreadDefaults): N intra-op threads, 1 inter-op thread.
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.set_grad_enabled(False)  # inputs do not require grad anyway; this only skips the autograd check

    ops = make_ops()
    result, rounds = {}, {}
    for name in wanted:
        fn = ops[name]
        n = batch_size(fn, 10_000_000)  # batches of about 10 ms
        for _ in range(a.warmup):
            run_for(fn, n, a.round_seconds)
        per_round = []
        for _ in range(a.rounds):
            calls, ns = run_for(fn, n, a.round_seconds)
            per_round.append(ns / calls)
        rounds[name] = per_round
        result[name] = sum(per_round) / len(per_round)
        print(f"# python {name}: {result[name]:.1f} ns/op (rounds {', '.join(f'{x:.1f}' for x in per_round)})",
              file=sys.stderr)

    if a.detail:
        setup = {
            "python": platform.python_version(),
            "executable": sys.executable,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "torch_library": getattr(torch._C, "__file__", None),
            "warmup_rounds": a.warmup,
            "rounds": a.rounds,
            "round_seconds": a.round_seconds,
        }
        with open(a.detail, "w") as f:
            json.dump({"setup": setup, "ns_per_op": result, "rounds": rounds}, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
