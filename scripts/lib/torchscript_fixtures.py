"""The tiny TorchScript fixtures of the Java tests; run through scripts/export-torchscript-fixtures."""
import math, os, sys
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1]
torch.manual_seed(0)
VOCAB, SEQ = 16, 3          # the embedded world's tokenizer: pad 0, ids 1..15, 3 tokens per prompt
C, S = 4, 4                 # latents [B, 4, 4, 4]


class LoRALinear(nn.Module):
    """y = base(x) + scale * B A x: the base weights stay frozen, only lora_A / lora_B are trained."""

    def __init__(self, d_in: int, d_out: int, rank: int):
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.lora_A = nn.Parameter(torch.randn(rank, d_in) * 0.1)
        # small but non-zero (a fixture of an adapter already trained a little), so both factors get gradients
        self.lora_B = nn.Parameter(torch.randn(d_out, rank) * 0.02)

    def forward(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        y = self.base(x)
        if scale != 0.0:
            y = y + scale * F.linear(F.linear(x, self.lora_A), self.lora_B)
        return y


class Block(nn.Module):
    def __init__(self, d: int, heads: int, rank: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.q = LoRALinear(d, d, rank)
        self.k = nn.Linear(d, d)
        self.v = LoRALinear(d, d, rank)
        self.o = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp1 = nn.Linear(d, 2 * d)
        self.mlp2 = nn.Linear(2 * d, d)

    def forward(self, h: torch.Tensor, scale: float) -> torch.Tensor:
        b, n, d = h.size(0), h.size(1), h.size(2)
        dh = d // self.heads
        a = self.norm1(h)
        q = self.q(a, scale).view(b, n, self.heads, dh).transpose(1, 2)
        k = self.k(a).view(b, n, self.heads, dh).transpose(1, 2)
        v = self.v(a, scale).view(b, n, self.heads, dh).transpose(1, 2)
        att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(dh), dim=-1)
        h = h + self.o(torch.matmul(att, v).transpose(1, 2).reshape(b, n, d))
        return h + self.mlp2(F.gelu(self.mlp1(self.norm2(h))))


class VelocityTransformer(nn.Module):
    def __init__(self, d: int = 32, blocks: int = 2, heads: int = 4, rank: int = 4):
        super().__init__()
        self.c, self.s = C, S
        self.patch_in = nn.Linear(C, d)
        self.pos = nn.Parameter(torch.randn(1, S * S, d) * 0.02)
        self.register_buffer("freqs", torch.exp(-math.log(1000.0) * torch.arange(8, dtype=torch.float32) / 8))
        self.time1 = nn.Linear(16, d)
        self.time2 = nn.Linear(d, d)
        self.tokens = nn.Embedding(VOCAB, d)
        self.blocks = nn.ModuleList([Block(d, heads, rank) for _ in range(blocks)])
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, C)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: Optional[torch.Tensor] = None,
                adapter_scale: float = 1.0) -> torch.Tensor:
        if x.dim() != 4 or x.size(1) != self.c or x.size(2) != self.s or x.size(3) != self.s:
            raise RuntimeError("velocity model: expected latents x of shape [B, 4, 4, 4], got " + str(x.size()))
        if not x.is_floating_point():
            raise RuntimeError("velocity model: expected floating-point latents x, got " + str(x.dtype))
        b = x.size(0)
        if t.dim() != 1 or t.size(0) != b:
            raise RuntimeError("velocity model: expected times t of shape [" + str(b) + "], got " + str(t.size()))
        h = self.patch_in(x.flatten(2).transpose(1, 2)) + self.pos
        ang = t.to(self.freqs.dtype).unsqueeze(1) * 1000.0 * self.freqs.unsqueeze(0)
        temb = self.time2(F.silu(self.time1(torch.cat([torch.sin(ang), torch.cos(ang)], dim=1))))
        h = h + temb.unsqueeze(1)
        n_img = h.size(1)
        if cond is not None:
            if cond.dtype != torch.int64 or cond.dim() != 2 or cond.size(0) != b:
                raise RuntimeError("velocity model: expected token ids cond of shape [" + str(b)
                                   + ", L] int64, got " + str(cond.size()) + " " + str(cond.dtype))
            h = torch.cat([self.tokens(cond) + temb.unsqueeze(1), h], dim=1)
        for blk in self.blocks:
            h = blk(h, adapter_scale)
        h = self.out(self.norm(h[:, h.size(1) - n_img:]))
        return 0.5 * h.transpose(1, 2).reshape(b, self.c, self.s, self.s)


class LatentDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = C
        self.conv1 = nn.Conv2d(C, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.conv3 = nn.Conv2d(16, 3, 3, padding=1)

    @torch.jit.export
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        if latents.dim() != 4 or latents.size(1) != self.c:
            raise RuntimeError("decoder: expected latents of shape [B, 4, h, w], got " + str(latents.size()))
        h = F.silu(self.conv1(latents))
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = F.silu(self.conv2(h))
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        return torch.sigmoid(self.conv3(h))

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decode(latents)


class TwoTowerScorer(nn.Module):
    """score = cos(image_tower(images), text_tower(token_ids)), in [-1, 1]."""

    def __init__(self, d: int = 16):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, d, 3, stride=2, padding=1)
        self.img_proj = nn.Linear(d, d)
        self.tokens = nn.Embedding(VOCAB, d)
        self.txt_proj = nn.Linear(d, d)

    def forward(self, images: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.size(1) != 3:
            raise RuntimeError("scorer: expected images of shape [N, 3, H, W], got " + str(images.size()))
        if not images.is_floating_point():
            raise RuntimeError("scorer: expected floating-point images, got " + str(images.dtype))
        if token_ids.dtype != torch.int64 or token_ids.dim() != 2 or token_ids.size(0) != images.size(0):
            raise RuntimeError("scorer: expected token_ids of shape [" + str(images.size(0)) + ", L] int64, got "
                               + str(token_ids.size()) + " " + str(token_ids.dtype))
        h = F.relu(self.conv1(images * 2.0 - 1.0))
        h = F.relu(self.conv2(h)).mean(dim=[2, 3])
        e_img = self.img_proj(h)
        e_txt = self.txt_proj(self.tokens(token_ids).mean(dim=1))
        return F.cosine_similarity(e_img, e_txt, dim=1)


class ReferenceIO(nn.Module):
    """Fixed inputs and the outputs Python computed, as buffers (read by the Java tests through ScriptModule)."""

    def __init__(self, tensors):
        super().__init__()
        for k, v in tensors.items():
            self.register_buffer(k, v)

    def forward(self) -> torch.Tensor:
        return torch.zeros(1)


def save(module, name):
    path = os.path.join(out, name)
    torch.jit.save(module, path)
    return path


vel = torch.jit.script(VelocityTransformer().eval())
dec = torch.jit.script(LatentDecoder().eval())
sco = torch.jit.script(TwoTowerScorer().eval())
save(vel, "velocity.pt")
save(dec, "decoder.pt")
save(sco, "scorer.pt")

g = torch.Generator().manual_seed(1)
x = torch.randn(3, C, S, S, generator=g)
t = torch.tensor([1.0, 0.5, 0.25])
cond = torch.randint(1, VOCAB, (3, SEQ), generator=g)
with torch.no_grad():
    v = vel(x, t, cond)
    v_noadapter = vel(x, t, cond, 0.0)
    v_uncond = vel(x, t, None)
    images = dec.decode(x)
    scores = sco(images, cond)
ref = torch.jit.script(ReferenceIO({"x": x, "t": t, "cond": cond, "velocity": v, "velocity_no_adapter": v_noadapter,
                                    "velocity_uncond": v_uncond, "images": images, "scores": scores}))
save(ref, "reference_io.pt")
torch.save({"weight": torch.zeros(2, 2)}, os.path.join(out, "state_dict.pt"))

total = 0
for f in sorted(os.listdir(out)):
    n = os.path.getsize(os.path.join(out, f))
    total += n
    print(f"{f:20s} {n:8d} bytes")
print(f"{'total':20s} {total:8d} bytes (torch {torch.__version__})")
n_lora = sum(p.numel() for k, p in vel.named_parameters() if "lora_" in k)
n_all = sum(p.numel() for _, p in vel.named_parameters())
print(f"velocity.pt: {n_all} parameters, {n_lora} in lora_ adapters")
