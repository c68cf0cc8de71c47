#!/usr/bin/python3
"""PyTorch eager peer of the demo's latent scene world, for scripts/bench-compare --world latent. A benchmark peer, not
part of the library.

It re-implements, in plain PyTorch (Debian's python3-torch: the libtorch the Java shim links), one Flow-GRPO epoch of
the world the demo trains (preset flow-grpo+demo+latent):
  - the frozen text encoder (io.progrpo.world.latent.TextEncoder), the flow transformer with LoRA adapters on q, k, v
    and out of every attention (LatentFlowTransformer, FlowBlock, Attention, LoraLinear; the policy is the adapters,
    LatentPolicy), the autoencoder (LatentAutoencoder; the decoder is used) and the learned reward (SceneRewardModel,
    ScenePreferenceReward: the log-probability of the prompt among its one-attribute neighbours), with the Java layer
    names, so the exported state dicts load as they are (strict);
  - classifier-free guidance with a detached unconditional branch (ClassifierFreeGuidance), the flow SDE step and its
    per-row mean log-prob (FlowSdeSampler, GaussianPolicy; peer.FlowSde), T = 10, a = 0.7, w = 4.5;
  - group advantages as GroupAdvantages computes them (group std, centred on the group's first member), the clipped
    surrogate (GrpoObjective) over micro-batches of (trained step, row) pairs, step-major, one time per row, as
    PolicyUpdate batches them, gradients accumulated over the same prompt groups per AdamW step, the gradient-norm clip
    and AdamW (libtorch's, as the Java trainer's).

The check (--check) compares, item by item, with what Java wrote into EXPORT/check.pt (LatentPeerExport): two epochs
of the real Java trainer on a small config (2 groups of 4, micro-batches of 5 pairs) replayed from Java's recorded
inputs (each sampling step's guided mean and log-prob, the decoded images, the learned reward, the advantages, every
training micro-batch's rows and log-probs, the loss metric, the adapters after each AdamW step), then the text encoder,
the velocity with and without adapters, one guided SDE step (mean and log-prob of a given transition, and a step drawn
from the same seed: both sides use libtorch's CPU mt19937), the decoder, the reward, and the loss and adapter gradients
of one surrogate backward. Same libtorch, same ops in the same order, same thread count: every item is expected to be
equal bit for bit (difference 0). Tolerance (stated, --tol): an item passes when its largest absolute difference is at
most TOL * max(1, largest |Java value|), TOL = 1e-5 by default; room for a thread count or BLAS that changes a
reduction's rounding, not for a formula that differs (those show up as 1e-3 and more). It prints every item's largest
difference and exits 1 when one is beyond the tolerance.

  peer_latent.py --dir EXPORT --check [--tol 1e-5]
  peer_latent.py --dir EXPORT --epochs 3 --warmup 1 --threads 2 [--groups-per-step N] [--trained-steps N] [--out FILE]

EXPORT is what `BenchCompare --overlay demo+latent --export DIR` writes: weights.pt, world.pt, check.pt, config.json.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer import FlowSde, cpu_seconds, log_prob, timed_epochs  # noqa: E402  (shared with the pixel peer)

TIME_FEATURES = 256
DEVICE = "cpu"  # --device: where the models and every tensor live (the check's recorded data is CPU data)


def clock():
    """time.perf_counter() after the device's queued work has finished (CUDA kernels run asynchronously)."""
    if DEVICE != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter()


def sdpa(q, k, v, mask=None):
    """libtorch 1.13's attention as the shim computes it: softmax(q k^T / sqrt(dh), masked) v."""
    s = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        s = s.masked_fill(mask.logical_not(), float("-inf"))
    return torch.matmul(torch.softmax(s, -1), v)


# No-grad forwards use the adapters merged into the weight, as Java's LoraLinear does (-Dprogrpo.lora.merge=false there,
# PROGRPO_LORA_MERGE=false here, turns it off on both sides).
MERGE = os.environ.get("PROGRPO_LORA_MERGE", "true").strip().lower() != "false"


class LoraLinear(nn.Module):
    """x W^T + b + s (alpha / r) (x A^T) B^T; the adapter is skipped when s = 0 or r = 0 (as LoraLinear)."""

    def __init__(self, i, o, rank=0, alpha=0.0, bias=True):
        super().__init__()
        self.rank, self.alpha = rank, alpha
        self.weight = nn.Parameter(torch.zeros(o, i))
        self.bias = nn.Parameter(torch.zeros(o)) if bias else None
        if rank > 0:
            self.lora_A = nn.Parameter(torch.zeros(rank, i))
            self.lora_B = nn.Parameter(torch.zeros(o, rank))

    def forward(self, x, scale=0.0):
        if self.rank == 0 or scale == 0:
            return F.linear(x, self.weight, self.bias)
        if MERGE and not torch.is_grad_enabled():
            return F.linear(x, self.merged_weight(scale), self.bias)
        y = F.linear(x, self.weight, self.bias)
        up = F.linear(F.linear(x, self.lora_A), self.lora_B)
        return y + up * (scale * self.alpha / self.rank)

    def merged_weight(self, scale):
        """W + s (alpha / r) B A, kept while the three parameters keep their version counters (LoraLinear's cache)."""
        key = (self.weight._version, self.lora_A._version, self.lora_B._version, scale)
        cached = getattr(self, "_merged", None)
        if cached is None or cached[0] != key:
            cached = self._merged = (key, self.weight + torch.matmul(self.lora_B, self.lora_A) * (scale * self.alpha / self.rank))
        return cached[1]


class Attention(nn.Module):
    def __init__(self, dim, heads, rank=0, alpha=0.0):
        super().__init__()
        self.dim, self.heads = dim, heads
        self.q = LoraLinear(dim, dim, rank, alpha)
        self.k = LoraLinear(dim, dim, rank, alpha)
        self.v = LoraLinear(dim, dim, rank, alpha)
        self.out = LoraLinear(dim, dim, rank, alpha)

    def forward(self, x, ctx, scale):
        b, n, m, dh = x.shape[0], x.shape[1], ctx.shape[1], self.dim // self.heads
        q = self.q(x, scale).reshape(b, n, self.heads, dh).transpose(1, 2)
        k = self.k(ctx, scale).reshape(b, m, self.heads, dh).transpose(1, 2)
        v = self.v(ctx, scale).reshape(b, m, self.heads, dh).transpose(1, 2)
        return self.out(sdpa(q, k, v).transpose(1, 2).reshape(b, n, self.dim), scale)


class TextLayer(nn.Module):
    def __init__(self, w, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(w, eps=1e-5)
        self.attention = Attention(w, heads)
        self.norm2 = nn.LayerNorm(w, eps=1e-5)
        self.fc1 = LoraLinear(w, 4 * w)
        self.fc2 = LoraLinear(4 * w, w)

    def forward(self, h):
        a = self.norm1(h)
        h1 = h + self.attention(a, a, 0.0)
        return h1 + self.fc2(F.gelu(self.fc1(self.norm2(h1))))


class TextEncoder(nn.Module):
    """Token embeddings + positions, pre-LN layers, final LayerNorm; tokens [B, L, w] and pooled = their mean."""

    def __init__(self, c):
        super().__init__()
        self.tokens, self.width = c["tokens"], c["width"]
        self.position = nn.Parameter(torch.zeros(c["tokens"], c["width"]))
        self.tokenEmbedding = nn.Embedding(c["vocabSize"], c["width"])
        for i in range(c["layers"]):
            setattr(self, "layer%d" % i, TextLayer(c["width"], c["heads"]))
        self.n_layers = c["layers"]
        self.finalNorm = nn.LayerNorm(c["width"], eps=1e-5)

    def forward(self, ids):
        h = self.tokenEmbedding(ids) + self.position.reshape(1, self.tokens, self.width)
        for i in range(self.n_layers):
            h = getattr(self, "layer%d" % i)(h)
        tokens = self.finalNorm(h)
        return tokens, tokens.mean(1)


def layer_norm(x, d):
    return F.layer_norm(x, (d,), None, None, 1e-6)


def modulate(x, shift, scale):
    b, d = x.shape[0], x.shape[2]
    return x * (scale.reshape(b, 1, d) + 1) + shift.reshape(b, 1, d)


class FlowBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = self.d = c["width"]
        self.adaLN = LoraLinear(d, 9 * d)
        self.selfAttention = Attention(d, c["heads"], c["loraRank"], c["loraAlpha"])
        self.crossAttention = Attention(d, c["heads"], c["loraRank"], c["loraAlpha"])
        self.fc1 = LoraLinear(d, c["mlpRatio"] * d)
        self.fc2 = LoraLinear(c["mlpRatio"] * d, d)

    def forward(self, h, ctx, silu_c, s):
        b, d = h.shape[0], self.d
        mod = self.adaLN(silu_c)
        g = lambda j: mod.narrow(1, j * d, d)  # noqa: E731
        a = modulate(layer_norm(h, d), g(0), g(1))
        x = h + self.selfAttention(a, a, s) * g(2).reshape(b, 1, d)
        q = modulate(layer_norm(x, d), g(3), g(4))
        x = x + self.crossAttention(q, ctx, s) * g(5).reshape(b, 1, d)
        m = modulate(layer_norm(x, d), g(6), g(7))
        return x + self.fc2(F.gelu(self.fc1(m))) * g(8).reshape(b, 1, d)


class FlowTransformer(nn.Module):
    """LatentFlowTransformer: velocity of latents [B, C, S, S] at sigma [B] for token ids [B, L]."""

    def __init__(self, c, text):
        super().__init__()
        self.c, d = c, c["width"]
        self.text = [text]  # borrowed, not a sub-module (its weights are under text., frozen)
        pv = c["latentChannels"] * c["patch"] ** 2
        self.grid = c["latentSize"] // c["patch"]
        self.patchEmbed = LoraLinear(pv, d)
        self.position = nn.Parameter(torch.zeros(self.grid * self.grid, d))
        self.timeIn = LoraLinear(TIME_FEATURES, d)
        self.timeOut = LoraLinear(d, d)
        self.pooledIn = LoraLinear(c["textWidth"], d)
        self.pooledOut = LoraLinear(d, d)
        self.contextEmbed = LoraLinear(c["textWidth"], d)
        for i in range(c["depth"]):
            setattr(self, "block%d" % i, FlowBlock(c))
        self.finalAdaLN = LoraLinear(d, 2 * d)
        self.finalOut = LoraLinear(d, pv)

    def forward(self, x, t, ids, s=1.0):
        c, d, p, gr = self.c, self.c["width"], self.c["patch"], self.grid
        b, ch = x.shape[0], x.shape[1]
        tokens, pooled = self.text[0](ids)
        patches = x.reshape(b, ch, gr, p, gr, p).permute(0, 2, 4, 3, 5, 1).reshape(b, gr * gr, p * p * ch)
        h = self.patchEmbed(patches) + self.position.reshape(1, gr * gr, d)
        half = TIME_FEATURES // 2
        freqs = (torch.arange(0, half, 1, dtype=torch.float32) * (-math.log(10000) / half)).exp()
        args = (t.float() * 1000.0).reshape(b, 1) * freqs.reshape(1, half)
        time_e = self.timeOut(F.silu(self.timeIn(torch.cat([args.cos(), args.sin()], 1))))
        cvec = time_e + self.pooledOut(F.silu(self.pooledIn(pooled)))
        silu_c = F.silu(cvec)
        ctx = self.contextEmbed(tokens)
        for i in range(c["depth"]):
            h = getattr(self, "block%d" % i)(h, ctx, silu_c, s)
        mod = self.finalAdaLN(silu_c)
        out = self.finalOut(modulate(layer_norm(h, d), mod.narrow(1, 0, d), mod.narrow(1, d, d)))
        return out.reshape(b, gr, gr, p, p, ch).permute(0, 5, 1, 3, 2, 4).reshape(b, ch, gr * p, gr * p).float()


class Autoencoder(nn.Module):
    """LatentAutoencoder's layers (the encoder is loaded, not used); decode(scaled latents) -> images in [0, 1]."""

    def __init__(self, c):
        super().__init__()
        w, lc = c["width"], c["latentChannels"]
        self.size, self.shift, self.scale = c["imageSize"], c["shift"], c["scale"]
        conv = lambda i, o, s=1: nn.Conv2d(i, o, 3, s, 1)  # noqa: E731
        self.encIn, self.encDown1, self.encDown2 = conv(3, w), conv(w, 2 * w, 2), conv(2 * w, 2 * w, 2)
        self.encRes, self.encRes2, self.encOut = conv(2 * w, 2 * w), conv(2 * w, 2 * w), conv(2 * w, 2 * lc)
        self.decIn, self.decRes1, self.decRes1b = conv(lc, 2 * w), conv(2 * w, 2 * w), conv(2 * w, 2 * w)
        self.decUp1, self.decRes2, self.decRes2b = conv(2 * w, w), conv(w, w), conv(w, w)
        self.decUp2, self.decRes3, self.decRes3b = conv(w, w // 2), conv(w // 2, w // 2), conv(w // 2, w // 2)
        self.decOut = conv(w // 2, 3)

    def decode(self, z_scaled):
        full, half = self.size, self.size // 2
        h = self.decIn(z_scaled.float() / self.scale + self.shift)
        h = h + self.decRes1b(F.silu(self.decRes1(F.silu(h))))
        h = self.decUp1(F.interpolate(h, size=(half, half), mode="nearest"))
        h = h + self.decRes2b(F.silu(self.decRes2(F.silu(h))))
        h = self.decUp2(F.interpolate(h, size=(full, full), mode="nearest"))
        h = h + self.decRes3b(F.silu(self.decRes3(F.silu(h))))
        return self.decOut(F.silu(h)).clamp(0, 1)


class RewardTextLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=1e-5)
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=1e-5)
        self.up, self.down = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

    def forward(self, h, mask):
        m, l, d = h.shape
        dh = d // self.heads
        a = self.norm1(h)
        split = lambda t: t.reshape(m, l, self.heads, dh).transpose(1, 2)  # noqa: E731
        att = sdpa(split(self.q(a)), split(self.k(a)), split(self.v(a)), mask)
        h1 = h + self.o(att.transpose(1, 2).contiguous().reshape(m, l, d))
        return h1 + self.down(F.gelu(self.up(self.norm2(h1))))


class RewardText(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.l = c["embedDim"], c["sequenceLength"]
        self.tokens = nn.Embedding(c["vocabSize"], d)
        self.position = nn.Parameter(torch.zeros(self.l, d))
        self.n_layers = c["textLayers"]
        for i in range(self.n_layers):
            setattr(self, "layer%d" % i, RewardTextLayer(d, c["heads"]))
        self.finalNorm = nn.LayerNorm(d, eps=1e-5)
        self.projection = nn.Linear(d, d)

    def forward(self, ids):
        m = ids.shape[0]
        first = (torch.arange(0, ids.shape[1], 1, dtype=torch.int64) == 0).unsqueeze(0)
        keep = (ids.ne(0).float() + first.float()) > 0
        h = self.tokens(ids) + self.position
        mask = keep.reshape(m, 1, 1, self.l)
        for i in range(self.n_layers):
            h = getattr(self, "layer%d" % i)(h, mask)
        h = self.finalNorm(h)
        w = keep.float().unsqueeze(2)
        return self.projection((h * w).sum(1) / w.sum(1))


class RewardImage(nn.Module):
    def __init__(self, c):
        super().__init__()
        w, self.size = c["width"], c["imageSize"]
        ins, outs = [5, w, 2 * w, 4 * w], [w, 2 * w, 4 * w, 4 * w]
        for i in range(4):
            setattr(self, "conv%d" % i, nn.Conv2d(ins[i], outs[i], 3, 1 if i == 0 else 2, 1))
            setattr(self, "norm%d" % i, nn.GroupNorm(4, outs[i], eps=1e-5))
        side = self.size
        for _ in range(3):
            side = (side + 1) // 2
        self.head = nn.Linear(4 * w * side * side, c["embedDim"])

    def forward(self, images):
        n, s = images.shape[0], self.size
        x = images * 2 - 1
        ys = torch.linspace(-1, 1, s, dtype=x.dtype).reshape(1, 1, s, 1).expand(n, 1, s, s)
        xs = torch.linspace(-1, 1, s, dtype=x.dtype).reshape(1, 1, 1, s).expand(n, 1, s, s)
        h = torch.cat([x, ys, xs], 1)
        for i in range(4):
            h = F.silu(getattr(self, "norm%d" % i)(getattr(self, "conv%d" % i)(h)))
        return self.head(h.reshape(n, -1))


class RewardModel(nn.Module):
    """SceneRewardModel: s cos(f(image), g(caption)), s = exp(logitScale) clamped to 100."""

    def __init__(self, c):
        super().__init__()
        self.image = RewardImage(c)
        self.text = RewardText(c)
        self.logitScale = nn.Parameter(torch.zeros(()))

    @staticmethod
    def normalize(x):
        return x * (x.square().sum(1, keepdim=True) + 1e-12).rsqrt()

    def scale(self):
        return self.logitScale.clamp(-20, math.log(100)).exp()


class SceneReward:
    """ScenePreferenceReward: z(x, p) - log sum over {p} + neighbours(p) of exp z(x, q), z = s cos (in double)."""

    def __init__(self, model, world):
        self.model = model
        self.captions, self.start, self.count = world["reward_captions"], world["reward_set_start"], world["reward_set_count"]

    def score(self, images, prompt_index):
        """images [N, 3, S, S], the train-prompt index of each row -> (scores, match) as lists of floats."""
        # the caption sets of the distinct prompts in order of first appearance, one text batch (as Java builds it)
        sets, chunks, at = {}, [], 0
        for p in prompt_index:
            if p not in sets:
                st, n = int(self.start[p]), int(self.count[p])
                sets[p] = list(range(at, at + n))
                chunks.append(self.captions[st:st + n])
                at += n
        ids = torch.cat(chunks, 0)
        with torch.no_grad():
            x = images.float().clamp(0, 1)
            x = torch.where(torch.isfinite(x), x, torch.zeros(1))
            m = self.model
            logits = torch.matmul(m.normalize(m.image(x)), m.normalize(m.text(ids)).transpose(0, 1)).double().tolist()
            scale = m.scale().item()
        scores, match = [], []
        for i, p in enumerate(prompt_index):
            at = sets[p]
            mx = max(scale * logits[i][j] for j in at)
            total = 0.0
            for j in at:
                total += math.exp(scale * logits[i][j] - mx)
            match.append(scale * logits[i][at[0]])
            scores.append(match[-1] - (mx + math.log(total)))
        return scores, match


def advantages(r, group_of, clip, eps=1e-4):
    """GroupAdvantages.compute (group std, SHIFTED centring: relative to the group's first member), clipped."""
    adv = [0.0] * len(r)
    groups = {}
    for i, g in enumerate(group_of):
        groups.setdefault(g, []).append(i)
    for members in groups.values():
        shift = r[members[0]]
        offset = 0.0
        for i in members:
            offset += r[i] - shift
        offset /= len(members)
        sq = 0.0
        for i in members:
            dv = (r[i] - shift) - offset
            sq += dv * dv
        denom = math.sqrt(sq / len(members)) + eps
        for i in members:
            c = (r[i] - shift) - offset
            a = 0.0 if c == 0 else c / denom
            adv[i] = max(-clip, min(clip, a))
    return adv


class Peer:
    def __init__(self, d, groups_per_step=0, trained_steps=0, compile_model=False):
        cfg = self.cfg = json.load(open(os.path.join(d, "config.json")))
        w = torch.load(os.path.join(d, "weights.pt"), map_location=DEVICE)
        part = lambda pre: {k[len(pre):]: v for k, v in w.items() if k.startswith(pre)}  # noqa: E731
        self.text = TextEncoder(cfg["text"])
        self.text.load_state_dict(part("text."), strict=True)
        self.flow = FlowTransformer(cfg["generator"], self.text)
        self.flow.load_state_dict(part("flow."), strict=True)
        self.vae = Autoencoder(cfg["autoencoder"])
        self.vae.load_state_dict(part("vae."), strict=True)
        rm = RewardModel(cfg["reward"])
        rm.load_state_dict(part("reward."), strict=True)
        for m in (self.text, self.flow, self.vae, rm):
            m.requires_grad_(False)
        self.world = torch.load(os.path.join(d, "world.pt"), map_location=DEVICE)
        self.reward = SceneReward(rm, self.world)
        self.train_cond, self.uncond = self.world["train_cond"], self.world["uncond"]
        # the policy: the adapters, in the generator's order (LatentPolicy's parameters, the Java optimizer's order)
        named = dict(self.flow.named_parameters())
        self.names = [k[len("flow."):] for k in w if k.startswith("flow.") and "lora_" in k]
        self.params = [named[k] for k in self.names]
        for p in self.params:
            p.requires_grad_(True)
        self.sde = FlowSde(cfg["sigmas"], cfg["noiseLevel"])
        self.groups_per_step = groups_per_step or cfg["groupsPerStep"]
        self.trained_steps = trained_steps or cfg["trainedSteps"]
        self.opt = self.new_optimizer()
        # --compile (PyTorch >= 2): the generator's forward through torch.compile, parameters shared with self.flow
        self.flow_forward = torch.compile(self.flow, dynamic=True) if compile_model else self.flow

    def new_optimizer(self):
        c = self.cfg
        return torch.optim.AdamW(self.params, lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["adamEps"], weight_decay=c["weightDecay"])

    def guided(self, x, t, cond):
        """v_u + w (v_c - v_u), the unconditional branch under no-grad (the null prompt expanded to the batch)."""
        vc = self.flow_forward(x, t, cond)
        with torch.no_grad():
            vu = self.flow_forward(x, t, self.uncond.expand(cond.shape[0], -1))
        return vu + (vc - vu) * self.cfg["guidanceScale"]

    def step_mean(self, x, i, cond):
        t = torch.full((x.shape[0],), self.sde.sigmas[i], dtype=torch.float32)
        return self.sde.mean(x, self.guided(x, t, cond), i), t

    def log_prob_steps(self, x, xn, cond, steps):
        """FlowSdeSampler.logProb over rows of (possibly) different steps: one forward, a time per row."""
        sde = self.sde
        if all(k == steps[0] for k in steps):
            mean, _ = self.step_mean(x, steps[0], cond)
            return log_prob(xn, mean, sde.std(x.shape[0], steps[0])), mean
        f = lambda vals: torch.tensor(vals, dtype=torch.float32)  # noqa: E731
        t = f([sde.sigmas[k] for k in steps])
        v = self.guided(x, t, cond)
        row = lambda vals: f(vals).reshape(-1, 1, 1, 1)  # noqa: E731
        mean = x * row([sde.coef_x[k] for k in steps]) + v * row([sde.coef_v[k] for k in steps])
        return log_prob(xn, mean, f([sde.policy_std[k] for k in steps])), mean

    def train(self, latents, logps, cond, adv, group_size, record=None):
        """PolicyUpdate.train: per prompt group, micro-batches of (trained step, row) pairs, step-major; the group's
        loss is its mean over rows and steps / groups per step; clip and one AdamW step every groups_per_step groups."""
        c, gps = self.cfg, self.groups_per_step
        n_groups = len(adv) // group_size
        steps = list(range(len(logps)))[:self.trained_steps]
        eps_clip, mb = c["clipRange"], c["microBatch"]
        loss_sum, parts, opt_steps, nfe, contributing, in_step = 0.0, 0, 0, 0, 0, 0
        self.opt.zero_grad(set_to_none=True)
        for g in range(n_groups):
            rows = [i for i in range(g * group_size, (g + 1) * group_size) if adv[i] != 0.0]
            if rows:
                contributing += 1
                denom = float(len(rows) * len(steps))
                pairs = len(rows) * len(steps)
                for frm in range(0, pairs, mb):
                    n = min(pairs, frm + mb) - frm
                    row_of, step_of, xs, xns, olds, j = [], [], [], [], [], 0
                    while j < n:
                        k = steps[(frm + j) // len(rows)]
                        run = []
                        while j < n and steps[(frm + j) // len(rows)] == k:
                            run.append(rows[(frm + j) % len(rows)])
                            j += 1
                        idx = torch.tensor(run, dtype=torch.int64)
                        xs.append(latents[k].index_select(0, idx))
                        xns.append(latents[k + 1].index_select(0, idx))
                        olds.append(logps[k].index_select(0, idx))
                        row_of += run
                        step_of += [k] * len(run)
                    cat = lambda ts: ts[0] if len(ts) == 1 else torch.cat(ts, 0)  # noqa: E731
                    x, xn, old = cat(xs), cat(xns), cat(olds)
                    cnd = cond.index_select(0, torch.tensor(row_of, dtype=torch.int64))
                    a = torch.tensor([adv[r] for r in row_of], dtype=torch.float32)
                    lp, _ = self.log_prob_steps(x, xn, cnd, step_of)
                    nfe += n
                    ratio = (lp - old).exp()
                    neg = a.neg()
                    policy = torch.maximum(neg * ratio, neg * ratio.clamp(1 - eps_clip, 1 + eps_clip)).mean()
                    (policy * (n / denom / gps)).backward()
                    if record is not None:
                        record.append((x, xn, cnd, step_of, lp.detach()))
                    loss_sum += policy.item()
                    parts += 1
            in_step += 1
            if in_step == gps or g == n_groups - 1:
                if contributing > 0:
                    torch.nn.utils.clip_grad_norm_(self.params, c["gradClip"])
                    self.opt.step()
                    opt_steps += 1
                self.opt.zero_grad(set_to_none=True)
                contributing, in_step = 0, 0
        return {"loss": loss_sum / parts if parts else 0.0, "optimizer_steps": opt_steps, "trained_steps": len(steps),
                "nfe_training": nfe * (2 if c["guidanceScale"] != 1 else 1)}

    def epoch(self, epoch):
        """One timed epoch as GrpoTrainer.runEpoch runs flow-grpo: sampling, decode + reward, advantages, training."""
        cfg = self.cfg
        G, n_groups, T = cfg["groupSize"], cfg["groupsPerEpoch"], self.sde.steps
        g = cfg["generator"]
        gen = torch.Generator(device=DEVICE).manual_seed(cfg["seed"] * 1000003 + epoch)
        t_epoch, cpu0 = clock(), cpu_seconds()
        pick = torch.randperm(self.train_cond.shape[0], generator=gen)[:n_groups].tolist()
        prompt_index = [p for p in pick for _ in range(G)]
        rows = n_groups * G
        cond = self.train_cond[torch.tensor(prompt_index, dtype=torch.int64)]
        x = torch.randn((rows, g["latentChannels"], g["latentSize"], g["latentSize"]), generator=gen)

        t0 = clock()
        latents, logps, traj_bytes = [x], [], x.numel() * x.element_size()
        with torch.no_grad():
            for i in range(T):
                mean, _ = self.step_mean(x, i, cond)
                std = self.sde.std(rows, i)
                eps = torch.randn(mean.shape, generator=gen)
                nxt = mean + eps * std.reshape(-1, 1, 1, 1)
                if self.sde.policy_std[i] > 0:
                    logps.append(log_prob(nxt, mean, std))
                    traj_bytes += logps[-1].numel() * 4
                latents.append(nxt)
                traj_bytes += nxt.numel() * nxt.element_size()
                x = nxt
        t_sampling = clock() - t0

        t0 = clock()
        with torch.no_grad():
            images = self.vae.decode(x)
        r, _ = self.reward.score(images, prompt_index)
        t_reward = clock() - t0

        t0 = clock()
        adv = advantages(r, [i // G for i in range(rows)], cfg["advClip"])
        tr = self.train(latents, logps, cond, adv, G)
        t_training = clock() - t0
        return {"epoch": epoch, "sampling_s": t_sampling, "reward_s": t_reward, "training_s": t_training,
                "epoch_s": t_sampling + t_reward + t_training, "epoch_wall_s": clock() - t_epoch,
                "epoch_cpu_s": cpu_seconds() - cpu0, "trajectories_sampled": rows, "trajectories_trained": rows,
                "nfe_sampling": rows * T * (2 if cfg["guidanceScale"] != 1 else 1), "nfe_training": tr["nfe_training"],
                "optimizer_steps": tr["optimizer_steps"], "trained_steps": tr["trained_steps"], "trajectory_bytes": traj_bytes,
                "sampling_resident_peak_bytes": traj_bytes + cond.numel() * cond.element_size(),
                "reward_mean": sum(r) / len(r), "loss": tr["loss"], "load_average": os.getloadavg()[0]}


def max_diff(a, b):
    # lists of Python floats (reward scores, advantages, losses) stay in double: as_tensor would round them to float32
    a, b = (torch.as_tensor(v, dtype=torch.float64) if isinstance(v, list) else v.double() for v in (a, b))
    if a.shape != b.shape:
        return float("inf"), 0.0
    return (a - b).abs().max().item() if a.numel() else 0.0, b.abs().max().item() if b.numel() else 0.0


def check(peer, d):
    """Every item: (largest |Python - Java|, largest |Java|). See the module docstring."""
    c = torch.load(os.path.join(d, "check.pt"))
    items = {}

    def note(name, ours, java):
        diff, mag = max_diff(ours, java)
        old = items.get(name, (0.0, 0.0))
        items[name] = (max(old[0], diff), max(old[1], mag))

    G = peer.cfg["check"]["groupSize"]
    mb_bench, gps_bench = peer.cfg["microBatch"], peer.groups_per_step
    peer.cfg["microBatch"] = peer.cfg["check"]["microBatch"]
    peer.groups_per_step = peer.cfg["check"]["groupsPerEpoch"]
    T = peer.sde.steps
    for e in range(peer.cfg["check"]["epochs"]):
        p = "e%d." % e
        cond = c[p + "cond"]
        latents = [c[p + "s0.x"]] + [c[p + "s%d.next" % i] for i in range(T)]
        logps = [c[p + "s%d.logp" % i] for i in range(T)]
        with torch.no_grad():
            for i in range(T):
                x = c[p + "s%d.x" % i]
                note("trajectory continuity (Java's own step inputs)", x, latents[i])
                mean, _ = peer.step_mean(x, i, cond)
                note("sampling: guided SDE mean, every step", mean, c[p + "s%d.mean" % i])
                note("sampling: log-prob, every step", log_prob(latents[i + 1], mean, peer.sde.std(x.shape[0], i)), logps[i])
            note("decoder: final images", peer.vae.decode(latents[T]), c[p + "images"])
        prompts = c[p + "prompt_index"].tolist()
        scores, _ = peer.reward.score(c[p + "images"], prompts)
        note("learned reward: epoch scores", scores, c[p + "rewards"])
        adv = advantages(c[p + "rewards"].tolist(), [i // G for i in range(len(prompts))], peer.cfg["advClip"])
        note("group advantages", adv, c[p + "adv"])
        calls = []
        tr = peer.train(latents, logps, cond, adv, G, record=calls)
        n_java = int(c[p + "train_calls"].item())
        note("training: micro-batch count (Python - Java)", [len(calls)], [n_java])
        for j, (x, xn, cnd, steps, lp) in enumerate(calls[:n_java]):
            q = p + "t%d." % j
            note("training: micro-batch rows and steps (inputs)", torch.cat([x.flatten(), xn.flatten()]), torch.cat([c[q + "x"].flatten(), c[q + "xn"].flatten()]))
            note("training: micro-batch rows and steps (inputs)", cnd, c[q + "cond"])
            note("training: micro-batch rows and steps (inputs)", steps, c[q + "steps"])
            note("training: log-prob with gradient, every micro-batch", lp, c[q + "logp"])
        note("training: loss metric of the epoch", [tr["loss"]], [peer.cfg["check"]["loss"][e]])
        note("AdamW: adapters after the epoch's step", torch.cat([t.detach().flatten() for t in peer.params]),
             torch.cat([c[p + "param." + k].flatten() for k in peer.names]))
    peer.groups_per_step, peer.cfg["microBatch"] = gps_bench, mb_bench
    # the model-level items run with Java's adapters after the recorded epochs (each item on its own)
    last = "e%d.param." % (peer.cfg["check"]["epochs"] - 1)
    with torch.no_grad():
        for k, t in zip(peer.names, peer.params):
            t.copy_(c[last + k])
        tokens, pooled = peer.text(c["text_ids"])
        note("text encoder: token states", tokens, c["text_tokens"])
        note("text encoder: pooled", pooled, c["text_pooled"])
        note("generator: velocity, adapters on", peer.flow(c["x"], c["t"], c["cond"]), c["velocity"])
        note("generator: velocity, adapters off", peer.flow(c["x"], c["t"], c["cond"], 0.0), c["velocity_base"])
        mean, _ = peer.step_mean(c["x"], 3, c["cond"])
        std = peer.sde.std(4, 3)
        note("CFG + SDE step 3: mean", mean, c["mean_step3"])
        note("CFG + SDE step 3: log-prob of a given transition", log_prob(c["x_next"], mean, std), c["logprob_step3"])
        eps = torch.randn(mean.shape, generator=torch.Generator().manual_seed(99))
        nxt = mean + eps * std.reshape(-1, 1, 1, 1)
        note("SDE step 3 drawn from seed 99: next latents", nxt, c["step3_next"])
        note("SDE step 3 drawn from seed 99: log-prob", log_prob(nxt, mean, std), c["step3_logprob"])
        images = peer.vae.decode(c["step3_next"])
        note("decoder: images", images, c["images"])
    scores, match = peer.reward.score(c["images"], c["prompt_index"].tolist())
    note("learned reward: scores", scores, c["reward"])
    note("learned reward: match (s cos)", match, c["reward_match"])
    for t in peer.params:
        t.grad = None
    steps = c["grad_steps"].tolist()
    lp, _ = peer.log_prob_steps(c["grad_x"], c["grad_x_next"], c["grad_cond"], steps)
    ratio = (lp - c["grad_old_logp"]).exp()
    neg, e = c["grad_adv"].neg(), peer.cfg["clipRange"]
    loss = torch.maximum(neg * ratio, neg * ratio.clamp(1 - e, 1 + e)).mean()
    loss.backward()
    note("surrogate over mixed steps: loss", [loss.item()], c["grad_loss"])
    note("surrogate over mixed steps: adapter gradients", torch.cat([t.grad.flatten() for t in peer.params]),
         torch.cat([c["grad." + k].flatten() for k in peer.names]))
    return items


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="what BenchCompare --overlay demo+latent --export wrote")
    p.add_argument("--check", action="store_true", help="only compare with the Java outputs (exit 1 beyond the tolerance)")
    p.add_argument("--tol", type=float, default=1e-5, help="relative tolerance per item: TOL * max(1, largest |Java value|)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--groups-per-step", type=int, default=0, help="prompt groups per AdamW step (0: the export's, Java's)")
    p.add_argument("--trained-steps", type=int, default=0, help="timesteps trained per trajectory (0: the export's)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (PyTorch >= 2: torch.set_default_device)")
    p.add_argument("--compile", action="store_true", help="the generator through torch.compile (PyTorch >= 2)")
    p.add_argument("--out")
    a = p.parse_args()
    global DEVICE
    if a.device != "cpu" or a.compile:
        if not hasattr(torch, "set_default_device") or not hasattr(torch, "compile"):
            sys.exit("peer_latent.py: --device %s%s needs PyTorch >= 2.0, this is %s"
                     % (a.device, " --compile" if a.compile else "", torch.__version__))
        DEVICE = a.device
        torch.set_default_device(DEVICE)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    peer = Peer(a.dir, a.groups_per_step, a.trained_steps, a.compile)
    if a.check:
        items = check(peer, a.dir)
        out, ok = {}, True
        for name, (diff, mag) in items.items():
            allowed = a.tol * max(1.0, mag)
            good = diff <= allowed
            ok &= good
            out[name] = {"max_abs_diff": diff, "max_abs_java": mag, "allowed": allowed, "ok": good}
        print(json.dumps({"ok": ok, "world": "latent", "tolerance": a.tol, "tolerance_rule": "max |python - java| <= tol * max(1, max |java|)",
                          "threads": torch.get_num_threads(), "items": out}, indent=2))
        sys.exit(0 if ok else 1)

    report = {"side": "python", "world": "latent", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "device": DEVICE, "compiled": a.compile,
              "reward": "scene_preference", "load_average_start": os.getloadavg()[0]}
    timed_epochs(peer, a.warmup, a.epochs, report, a.out)


if __name__ == "__main__":
    main()
