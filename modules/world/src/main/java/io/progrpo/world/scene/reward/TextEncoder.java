package io.progrpo.world.scene.reward;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Embedding;
import io.progrpo.tensor.nn.LayerNorm;
import io.progrpo.tensor.nn.Linear;
import io.progrpo.tensor.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * The reward model's text tower: token embeddings plus learned positions, pre-norm transformer layers
 * (self-attention over the caption's tokens, padding masked out as keys; a GELU MLP of twice the width), a final
 * LayerNorm, the mean over the caption's tokens, a linear projection. Order-aware, so "a red circle left of a blue
 * square" and "a blue square left of a red circle" embed differently. Padding is never attended to or pooled, except
 * that the first position always is, so the all-padding null caption is defined too.
 */
public final class TextEncoder extends Module {
    private final RewardModelConfig config;
    private final Embedding tokens;
    private final List<Layer> layers = new ArrayList<>();
    private final LayerNorm finalNorm;
    private final Linear projection;

    TextEncoder(RewardModelConfig c, Generator g, Device device) {
        this.config = c;
        int d = c.embedDim();
        tokens = registerModule("tokens", new Embedding(c.vocabSize(), d, g, device));
        try (Tensor p = Tensor.randn(g, DType.FLOAT32, device, c.sequenceLength(), d)) {
            registerParameter("position", p.mul(0.1));
        }
        for (int i = 0; i < c.textLayers(); i++) layers.add(registerModule("layer" + i, new Layer(d, c.heads(), g, device)));
        finalNorm = registerModule("finalNorm", new LayerNorm(d, 1e-5, device));
        projection = registerModule("projection", new Linear(d, d, true, g, device));
    }

    /** Unnormalised embeddings [M, embedDim] of token ids [M, L] (int64, 0 = padding). */
    public Tensor forward(Tensor ids) {
        int l = config.sequenceLength();
        if (ids.dim() != 2 || ids.size(1) != l || ids.dtype() != DType.INT64) {
            throw new IllegalArgumentException("the reward model's text encoder expects int64 token ids [M, " + l + "], got "
                    + ids.dtype() + " " + java.util.Arrays.toString(ids.shape()));
        }
        long m = ids.size(0);
        try (Scope scope = Scope.open()) {
            Device dev = parameter("position").device();
            Tensor idsOn = ids.to(dev);
            Tensor keep = keepMask(idsOn);                                      // [M, L] bool
            Tensor h = tokens.forward(idsOn).add(parameter("position"));        // [M, L, D]
            Tensor attnMask = keep.reshape(m, 1, 1, l);
            for (Layer layer : layers) h = layer.forward(h, attnMask);
            h = finalNorm.forward(h);
            Tensor w = keep.to(DType.FLOAT32).unsqueeze(2);                      // [M, L, 1]
            Tensor pooled = h.mul(w).sum(false, 1).div(w.sum(false, 1));        // [M, D]
            return scope.keep(projection.forward(pooled));
        }
    }

    /** True at a caption's words and at position 0. */
    static Tensor keepMask(Tensor ids) {
        try (Scope scope = Scope.open()) {
            Tensor words = ids.ne(0);
            Tensor first = Tensor.arange(0, ids.size(1), 1, DType.INT64, ids.device()).eq(0).unsqueeze(0);
            return scope.keep(words.to(DType.FLOAT32).add(first.to(DType.FLOAT32)).gt(0));
        }
    }

    /** h + Attention(LN(h)); h + MLP(LN(h)). */
    static final class Layer extends Module {
        private final int heads;
        private final LayerNorm norm1;
        private final Linear q;
        private final Linear k;
        private final Linear v;
        private final Linear o;
        private final LayerNorm norm2;
        private final Linear up;
        private final Linear down;

        Layer(int d, int heads, Generator g, Device device) {
            this.heads = heads;
            norm1 = registerModule("norm1", new LayerNorm(d, 1e-5, device));
            q = registerModule("q", new Linear(d, d, true, g, device));
            k = registerModule("k", new Linear(d, d, true, g, device));
            v = registerModule("v", new Linear(d, d, true, g, device));
            o = registerModule("o", new Linear(d, d, true, g, device));
            norm2 = registerModule("norm2", new LayerNorm(d, 1e-5, device));
            up = registerModule("up", new Linear(d, 2L * d, true, g, device));
            down = registerModule("down", new Linear(2L * d, d, true, g, device));
        }

        Tensor forward(Tensor h, Tensor mask) {
            long m = h.size(0);
            long l = h.size(1);
            long d = h.size(2);
            long dh = d / heads;
            try (Scope scope = Scope.open()) {
                Tensor a = norm1.forward(h);
                Tensor qh = q.forward(a).reshape(m, l, heads, dh).transpose(1, 2);
                Tensor kh = k.forward(a).reshape(m, l, heads, dh).transpose(1, 2);
                Tensor vh = v.forward(a).reshape(m, l, heads, dh).transpose(1, 2);
                Tensor att = Functional.scaledDotProductAttention(qh, kh, vh, mask, false);   // [M, H, L, dh]
                Tensor merged = att.transpose(1, 2).contiguous().reshape(m, l, d);
                Tensor h1 = h.add(o.forward(merged));
                Tensor h2 = h1.add(down.forward(up.forward(norm2.forward(h1)).gelu()));
                return scope.keep(h2);
            }
        }
    }
}
