#!/usr/bin/python3
"""PyTorch eager peer of the progrpo pipeline, for scripts/bench-compare. A benchmark peer, not part of the library.

It re-implements, in plain PyTorch, what one Flow-GRPO epoch of the embedded world runs on the Java side:
  - the world model (io.progrpo.world.model.WorldModel): CoordConv stem, FiLM ResBlocks, half-resolution middle,
    nearest upsample and skip fusion, same layer names, so the Java state dict loads as is;
  - classifier-free guidance with a detached unconditional branch (io.progrpo.sampler.ClassifierFreeGuidance);
  - Flow-GRPO's SDE step and its per-row mean log-prob (FlowSdeSampler, GaussianPolicy);
  - group advantages and the clipped GRPO surrogate, gradients accumulated over --groups-per-step prompt groups,
    gradient-norm clip and an AdamW step (GrpoTrainer.train, GrpoObjective, GroupAdvantages).
The reward is the stand-in both sides compute (the mean pixel of each image), timed as its own phase.

  peer.py --dir EXPORT --check                 compare with the Java outputs in EXPORT/check.pt (exit 1 if > tol)
  peer.py --dir EXPORT --epochs 3 --warmup 1 --threads 2 [--out FILE]   time epochs, print JSON

EXPORT is what `BenchCompare --export DIR` writes: weights.pt, world.pt, check.pt, config.json.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
FORWARD_WARMUP, FORWARD_TIMED = 20, 15  # --forward-scaling: untimed rounds first, then best of


def groups_for(channels):
    for g in (8, 4, 2):
        if channels % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    """h + conv3x3(SiLU(FiLM(GroupNorm(h), e)))."""

    def __init__(self, channels, embedding):
        super().__init__()
        self.channels = channels
        self.norm = nn.GroupNorm(groups_for(channels), channels, eps=1e-5)
        self.film = nn.Linear(embedding, 2 * channels)
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, h, e):
        b = h.shape[0]
        ss = self.film(e).reshape(b, 2 * self.channels, 1, 1)
        scale = ss[:, : self.channels] + 1
        shift = ss[:, self.channels:]
        y = F.silu(self.norm(h) * scale + shift)
        return h + self.conv(y)


class WorldModel(nn.Module):
    """The Java WorldModel, layer for layer (velocity parameterization: tau = 1000 sigma)."""

    def __init__(self, image_size, width, vocab, tokens):
        super().__init__()
        w, e = width, 4 * width
        self.size, self.width, self.tokens = image_size, width, tokens
        self.time_features = w
        self.time_scale = 1000.0
        self.tokenEmbedding = nn.Embedding(vocab, w)
        self.condProjection = nn.Linear(tokens * w, e)
        self.timeIn = nn.Linear(w, e)
        self.timeOut = nn.Linear(e, e)
        self.stem = nn.Conv2d(5, w, 3, 1, 1)
        self.down0 = ResBlock(w, e)
        self.down1 = ResBlock(w, e)
        self.toHalf = nn.Conv2d(w, 2 * w, 3, 1, 1)
        self.mid0 = ResBlock(2 * w, e)
        self.mid1 = ResBlock(2 * w, e)
        self.fromHalf = nn.Conv2d(2 * w, w, 1, 1, 0)
        self.fuse = nn.Conv2d(2 * w, w, 3, 1, 1)
        self.outNorm = nn.GroupNorm(groups_for(w), w, eps=1e-5)
        self.out = nn.Conv2d(w, 3, 3, 1, 1)

    def embed(self, t, cond):
        b = t.shape[0]
        half = self.time_features // 2
        freqs = (torch.arange(0, half, 1, dtype=torch.float32) * (-math.log(10000) / half)).exp()
        args = (t * self.time_scale).reshape(b, 1) * freqs.reshape(1, half)
        sinusoid = torch.cat([args.sin(), args.cos()], 1)
        time_e = self.timeOut(F.silu(self.timeIn(sinusoid)))
        words = self.tokenEmbedding(cond).reshape(b, self.tokens * self.width)
        return F.silu(self.condProjection(words) + time_e)

    def forward(self, x, t, cond):
        b, s = x.shape[0], self.size
        e = self.embed(t, cond)
        ys = torch.linspace(-1, 1, s).reshape(1, 1, s, 1).expand(b, 1, s, s)
        xs = torch.linspace(-1, 1, s).reshape(1, 1, 1, s).expand(b, 1, s, s)
        h = self.stem(torch.cat([x, ys, xs], 1))
        h = self.down0(h, e)
        skip = self.down1(h, e)
        h = self.toHalf(F.avg_pool2d(skip, 2))
        h = self.mid0(h, e)
        h = self.mid1(h, e)
        h = F.interpolate(self.fromHalf(h), size=(s, s), mode="nearest")
        h = self.fuse(torch.cat([h, skip], 1))
        return self.out(F.silu(self.outNorm(h)))


class FlowSde:
    """Flow-GRPO's SDE on a sigma grid; coefficients in double precision as on the Java side."""

    def __init__(self, sigmas, noise_level):
        self.sigmas = sigmas
        self.steps = len(sigmas) - 1
        self.policy_std, self.coef_x, self.coef_v = [], [], []
        for i in range(self.steps):
            sigma = sigmas[i]
            dt = sigmas[i + 1] - sigma
            denom = 1 - (sigmas[1] if sigma == 1.0 else sigma)
            std = noise_level * math.sqrt(sigma / denom)
            self.policy_std.append(std * math.sqrt(-dt))
            self.coef_x.append(1 + std * std / (2 * sigma) * dt)
            self.coef_v.append((1 + std * std * (1 - sigma) / (2 * sigma)) * dt)

    def mean(self, x, v, i):
        return x * self.coef_x[i] + v * self.coef_v[i]

    def std(self, b, i):
        return torch.full((b,), self.policy_std[i], dtype=torch.float32)


def guided(model, x, sigma, cond, uncond, scale):
    """CFG with a detached unconditional branch: v_u + w (v_c - v_u)."""
    t = torch.full((x.shape[0],), sigma, dtype=torch.float32)
    vc = model(x, t, cond)
    with torch.no_grad():
        vu = model(x, t, uncond.expand(cond.shape[0], -1))
    return vu + (vc - vu) * scale


def log_prob(x_next, mean, std):
    """Mean over a row's elements of -(x' - mu)^2 / (2 s^2) - log s - log sqrt(2 pi) -> [B]."""
    s = std.reshape(-1, 1, 1, 1)
    d = x_next.detach() - mean
    lp = -(d.square() / (s.square() * 2)) - s.log() - LOG_SQRT_2PI
    return lp.mean(dim=(1, 2, 3))


def advantages(r, group_of, clip, eps=1e-4):
    """(R - mean_group) / (population std_group + eps), clipped (GroupAdvantages, group std)."""
    adv = [0.0] * len(r)
    for g in sorted(set(group_of)):
        idx = [i for i, gi in enumerate(group_of) if gi == g]
        vals = [r[i] for i in idx]
        mu = sum(vals) / len(vals)
        sd = math.sqrt(sum((v - mu) ** 2 for v in vals) / len(vals))
        for i in idx:
            c = r[i] - mu
            a = 0.0 if c == 0 else c / (sd + eps)
            adv[i] = max(-clip, min(clip, a))
    return adv


def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def cpu_seconds():
    """utime + stime of the whole process from /proc/self/stat (as BenchCompare reads it)."""
    with open("/proc/self/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Peer:
    def __init__(self, d, groups_per_step=1, trained_steps=0):
        cfg = json.load(open(os.path.join(d, "config.json")))
        self.groups_per_step = groups_per_step
        self.trained_steps = trained_steps
        self.cfg = cfg
        self.model = WorldModel(cfg["imageSize"], cfg["modelWidth"], cfg["vocabSize"], cfg["tokens"])
        state = torch.load(os.path.join(d, "weights.pt"))
        self.model.load_state_dict(state, strict=True)
        world = torch.load(os.path.join(d, "world.pt"))
        self.train_cond, self.uncond = world["train_cond"], world["uncond"]
        self.sde = FlowSde(cfg["sigmas"], cfg["noiseLevel"])
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]),
                                     eps=1e-8, weight_decay=cfg["weightDecay"])

    def check(self, d, tol):
        c = torch.load(os.path.join(d, "check.pt"))
        cfg = self.cfg
        with torch.no_grad():
            out = self.model(c["x"], c["t"], c["cond"])
            v = guided(self.model, c["x"], self.sde.sigmas[3], c["cond_s"], self.uncond, cfg["guidanceScale"])
            mean = self.sde.mean(c["x"], v, 3)
            lp = log_prob(c["x_next"], mean, self.sde.std(4, 3))
            # the same draw as Java's Generator.create(99): both are libtorch's CPU mt19937 generator
            g = torch.Generator().manual_seed(99)
            eps = torch.randn(mean.shape, generator=g)
            nxt = mean + eps * self.sde.std(4, 3).reshape(-1, 1, 1, 1)
        diffs = {
            "model_output": (out - c["out"]).abs().max().item(),
            "guided_mean_step3": (mean - c["mean_step3"]).abs().max().item(),
            "logprob_step3": (lp - c["logprob_step3"]).abs().max().item(),
            "sde_step3_next_same_seed": (nxt - c["step3_next"]).abs().max().item(),
            "sde_step3_logprob_same_seed": (log_prob(nxt, mean, self.sde.std(4, 3)) - c["step3_logprob"]).abs().max().item(),
            "model_output_max_abs": c["out"].abs().max().item(),
        }
        ok = all(v < tol for k, v in diffs.items() if k != "model_output_max_abs")
        return ok, diffs

    def epoch(self, epoch):
        cfg = self.cfg
        G, n_groups, T = cfg["groupSize"], cfg["groupsPerEpoch"], self.sde.steps
        s = cfg["imageSize"]
        scale = cfg["guidanceScale"]
        gen = torch.Generator().manual_seed(cfg["seed"] * 1000003 + epoch)
        t_epoch = time.perf_counter()
        cpu0 = cpu_seconds()
        pick = torch.randint(0, self.train_cond.shape[0], (n_groups,), generator=gen)
        rows = n_groups * G
        cond = self.train_cond[pick].repeat_interleave(G, 0)
        x = torch.randn((rows, 3, s, s), generator=gen)

        # SAMPLING: the SDE chain under no-grad; store x_t, x_{t+1} (each latent once) and log-probs
        t0 = time.perf_counter()
        self.model.eval()
        latents, logps, steps = [x], [], []
        traj_bytes = x.numel() * x.element_size()
        with torch.no_grad():
            for i in range(T):
                v = guided(self.model, x, self.sde.sigmas[i], cond, self.uncond, scale)
                mean = self.sde.mean(x, v, i)
                std = self.sde.std(rows, i)
                eps = torch.randn(mean.shape, generator=gen)
                nxt = mean + eps * std.reshape(-1, 1, 1, 1)
                if self.sde.policy_std[i] > 0:
                    lp = log_prob(nxt, mean, std)
                    logps.append(lp)
                    steps.append(i)
                    traj_bytes += lp.numel() * lp.element_size()
                latents.append(nxt)
                traj_bytes += nxt.numel() * nxt.element_size()
                x = nxt
        t_sampling = time.perf_counter() - t0

        # REWARD (the stand-in): mean pixel of the decoded image
        t0 = time.perf_counter()
        images = x.clamp(0, 1)
        r = images.reshape(rows, -1).mean(1).tolist()
        t_reward = time.perf_counter() - t0

        # TRAINING: one AdamW step per prompt group over its rows with non-zero advantage
        t0 = time.perf_counter()
        group_of = [i // G for i in range(rows)]
        adv = advantages(r, group_of, cfg["advClip"])
        self.model.train()
        # the trainer's count: floor(f (T - 1)) of the stored steps, or what --trained-steps says it took
        n_train = self.trained_steps or max(1, math.floor(cfg["trainStepFraction"] * max(1, len(steps) - 1) + 1e-9))
        train_steps = list(range(len(steps)))[:n_train]
        eps_clip = cfg["clipRange"]
        mb = cfg["microBatch"]
        opt_steps, loss_sum, parts, nfe_train = 0, 0.0, 0, 0
        # gradients accumulate over groups_per_step consecutive groups, then clip and one AdamW step (as the trainer)
        gps = self.groups_per_step if self.groups_per_step > 0 else n_groups
        contributing, in_step = 0, 0
        self.opt.zero_grad()
        for g in range(n_groups):
            idx_rows = [i for i in range(rows) if group_of[i] == g and adv[i] != 0.0]
            if idx_rows:
                contributing += 1
                denom = len(idx_rows) * len(train_steps)
                for k in train_steps:
                    i = steps[k]
                    for start in range(0, len(idx_rows), mb):
                        chunk = idx_rows[start:start + mb]
                        idx = torch.tensor(chunk, dtype=torch.int64)
                        xk = latents[k].index_select(0, idx)
                        xn = latents[k + 1].index_select(0, idx)
                        old = logps[k].index_select(0, idx)
                        c = cond.index_select(0, idx)
                        a = torch.tensor([adv[j] for j in chunk], dtype=torch.float32)
                        v = guided(self.model, xk, self.sde.sigmas[i], c, self.uncond, scale)
                        mean = self.sde.mean(xk, v, i)
                        lp = log_prob(xn, mean, self.sde.std(len(chunk), i))
                        nfe_train += len(chunk)
                        ratio = (lp - old).exp()
                        unclipped = -a * ratio
                        clipped = -a * ratio.clamp(1 - eps_clip, 1 + eps_clip)
                        policy = torch.maximum(unclipped, clipped).mean()
                        (policy * (len(chunk) / denom / gps)).backward()
                        with torch.no_grad():
                            clip_frac = ((ratio - 1).abs() > eps_clip).float().mean().item()
                            ratio_mean = ratio.mean().item()
                        loss_sum += policy.item()
                        parts += 1
            in_step += 1
            if in_step == gps or g == n_groups - 1:
                if contributing > 0:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg["gradClip"])
                    self.opt.step()
                    opt_steps += 1
                self.opt.zero_grad()
                contributing, in_step = 0, 0
        t_training = time.perf_counter() - t0
        wall = time.perf_counter() - t_epoch
        cpu = cpu_seconds() - cpu0
        return {
            "epoch": epoch,
            "sampling_s": t_sampling,
            "reward_s": t_reward,
            "training_s": t_training,
            "epoch_s": t_sampling + t_reward + t_training,
            "epoch_wall_s": wall,
            "epoch_cpu_s": cpu,
            "trajectories_sampled": rows,
            "trajectories_trained": rows,
            "nfe_sampling": rows * T * (2 if scale != 1 else 1),
            "nfe_training": nfe_train * (2 if scale != 1 else 1),
            "optimizer_steps": opt_steps,
            "trained_steps": len(train_steps),
            "trajectory_bytes": traj_bytes,
            # what the epoch holds between steps: trajectory (noise included) and conditioning rows
            "sampling_resident_peak_bytes": traj_bytes + cond.numel() * cond.element_size(),
            "reward_mean": sum(r) / len(r),
            "loss": loss_sum / max(1, parts),
            "load_average": os.getloadavg()[0],
        }


def timed_epochs(peer, warmup, epochs_timed, report, out=None):
    """Runs warmup + epochs_timed epochs of peer.epoch(e), keeps the timed ones, adds the flow-grpo run with its
    summary (means, throughput, trajectory bytes, RSS growth over the epochs) to report, writes it to out if given
    and prints it. Shared by this peer and peer_latent.py."""
    rss_base = rss("VmRSS")
    reset = reset_peak_rss()
    epochs = []
    for e in range(warmup + epochs_timed):
        m = peer.epoch(e)
        if e >= warmup:
            epochs.append(m)
    hwm = rss("VmHWM")

    def mean(k):
        return sum(float(e[k]) for e in epochs) / len(epochs)

    s = {k: mean(k) for k in ("sampling_s", "reward_s", "training_s", "epoch_s", "epoch_wall_s", "epoch_cpu_s", "nfe_sampling",
                              "nfe_training", "trajectories_sampled", "trajectories_trained", "optimizer_steps")}
    s["epoch_wall_min_s"] = min(e["epoch_wall_s"] for e in epochs)
    s["rows_per_s"] = s["trajectories_sampled"] / s["sampling_s"]
    s["forward_rows_per_s"] = s["nfe_sampling"] / s["sampling_s"]
    s["training_step_s"] = s["training_s"] / max(1, s["optimizer_steps"])
    s["trajectory_bytes"] = max(e["trajectory_bytes"] for e in epochs)
    s["sampling_resident_peak_bytes"] = max(e["sampling_resident_peak_bytes"] for e in epochs)
    s["rss_base_bytes"] = rss_base
    s["peak_rss_bytes"] = hwm
    s["peak_rss_growth_bytes"] = hwm - rss_base
    s["peak_rss_reset"] = reset
    report["runs"] = [{"method": "flow-grpo", "epochs": epochs, "summary": s}]
    report["load_average_end"] = os.getloadavg()[0]
    text = json.dumps(report, indent=2)
    if out:
        with open(out, "w") as f:
            f.write(text)
    print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="what BenchCompare --export wrote")
    p.add_argument("--check", action="store_true", help="only compare with the Java outputs")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--groups-per-step", type=int, default=1,
                   help="prompt groups whose gradients accumulate into one AdamW step (0 = all groups of the epoch)")
    p.add_argument("--trained-steps", type=int, default=0,
                   help="timesteps trained per trajectory (0 = floor(trainStepFraction (T - 1)), the trainer's default)")
    p.add_argument("--forward-scaling", help="row counts, e.g. 24,96,192: best-of-15 ms (after 20 untimed rounds) of a forward (no grad) and of "
                   "forward + backward, as BenchCompare --forward-scaling")
    p.add_argument("--out")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    peer = Peer(a.dir, a.groups_per_step, a.trained_steps)
    if a.forward_scaling:
        out = []
        m, g = peer.model, torch.Generator().manual_seed(5)
        s = peer.cfg["imageSize"]
        for k, rows in enumerate(int(r) for r in a.forward_scaling.split(",")):
            x = torch.randn((rows, 3, s, s), generator=g)
            t = torch.full((rows,), 0.5)
            cond = peer.train_cond[torch.arange(rows) % peer.train_cond.shape[0]]
            fwd = both = float("inf")
            # the same schedule as BenchCompare: 20 untimed rounds first (the JVM's JIT needs them), then best of 15
            for i in range(FORWARD_WARMUP + FORWARD_TIMED if k == 0 else FORWARD_TIMED):
                timed = k > 0 or i >= FORWARD_WARMUP
                t0 = time.perf_counter()
                with torch.no_grad():
                    m(x, t, cond)
                if timed:
                    fwd = min(fwd, (time.perf_counter() - t0) * 1e3)
                t0 = time.perf_counter()
                m(x, t, cond).square().mean().backward()
                if timed:
                    both = min(both, (time.perf_counter() - t0) * 1e3)
            out.append({"rows": rows, "forward_nograd_ms": fwd, "forward_backward_ms": both, "load_average": os.getloadavg()[0]})
        print(json.dumps({"side": "python", "threads": torch.get_num_threads(), "forward_scaling": out}, indent=2))
        return
    if a.check:
        ok, diffs = peer.check(a.dir, a.tol)
        print(json.dumps({"ok": ok, "tolerance": a.tol, "max_abs_diff": diffs}, indent=2))
        sys.exit(0 if ok else 1)

    report = {"side": "python", "torch": torch.__version__, "threads": torch.get_num_threads(), "reward": "brightness",
              "load_average_start": os.getloadavg()[0]}
    timed_epochs(peer, a.warmup, a.epochs, report, a.out)


if __name__ == "__main__":
    main()
