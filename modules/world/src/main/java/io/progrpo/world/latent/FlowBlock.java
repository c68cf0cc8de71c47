package io.progrpo.world.latent;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

/**
 * One block of the latent flow transformer, with adaLN-Zero conditioning on {@code c} (time + pooled text):
 * <pre>
 * (shift_i, scale_i, gate_i), i = 1..3  = Linear(SiLU(c))     (zero-initialised: the block starts as the identity)
 * h = h + gate_1 * SelfAttn(modulate(LN(h), shift_1, scale_1))
 * h = h + gate_2 * CrossAttn(modulate(LN(h), shift_2, scale_2), text tokens)
 * h = h + gate_3 * MLP(modulate(LN(h), shift_3, scale_3))        MLP = fc2(GELU(fc1 x)), hidden mlpRatio d
 * </pre>
 * LN is LayerNorm without affine parameters (eps 1e-6), as in DiT; modulate(x, a, b) = x (1 + b) + a.
 */
final class FlowBlock extends Module {
    private final int width;
    private final LoraLinear adaLN;
    private final Attention selfAttention;
    private final Attention crossAttention;
    private final LoraLinear fc1;
    private final LoraLinear fc2;

    FlowBlock(FlowTransformerConfig cfg, Generator g, Device device) {
        int d = cfg.width();
        this.width = d;
        adaLN = registerModule("adaLN", new LoraLinear(d, 9L * d, true, 0, 0, g, device));
        adaLN.zeroBase();
        selfAttention = registerModule("selfAttention", new Attention(d, d, cfg.heads(), cfg.loraRank(), cfg.loraAlpha(), g, device));
        crossAttention = registerModule("crossAttention", new Attention(d, d, cfg.heads(), cfg.loraRank(), cfg.loraAlpha(), g, device));
        fc1 = registerModule("fc1", new LoraLinear(d, (long) cfg.mlpRatio() * d, true, 0, 0, g, device));
        fc2 = registerModule("fc2", new LoraLinear((long) cfg.mlpRatio() * d, d, true, 0, 0, g, device));
    }

    /**
     * {@code h [B, N, d]}, {@code context [B, L, d]} (the projected text tokens), {@code siluC [B, d]}
     * (SiLU of the conditioning vector); the result in the caller's scope.
     */
    Tensor forward(Tensor h, Tensor context, Tensor siluC, double adapterScale) {
        long b = h.size(0);
        long d = width;
        try (Scope s = Scope.open()) {
            Tensor mod = adaLN.forward(siluC);
            Tensor x = h;
            // self-attention
            Tensor a = LatentOps.modulate(norm(x), mod.narrow(1, 0, d), mod.narrow(1, d, d));
            x = x.add(selfAttention.forward(a, a, adapterScale).mul(mod.narrow(1, 2 * d, d).reshape(b, 1, d)));
            // cross-attention to the text tokens
            Tensor q = LatentOps.modulate(norm(x), mod.narrow(1, 3 * d, d), mod.narrow(1, 4 * d, d));
            x = x.add(crossAttention.forward(q, context, adapterScale).mul(mod.narrow(1, 5 * d, d).reshape(b, 1, d)));
            // MLP
            Tensor m = LatentOps.modulate(norm(x), mod.narrow(1, 6 * d, d), mod.narrow(1, 7 * d, d));
            Tensor y = fc2.forward(fc1.forward(m).gelu());
            return s.keep(x.add(y.mul(mod.narrow(1, 8 * d, d).reshape(b, 1, d))));
        }
    }

    private Tensor norm(Tensor x) {
        return Functional.layerNorm(x, new long[] {width}, null, null, 1e-6);
    }
}
