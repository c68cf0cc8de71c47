package io.progrpo.world.latent;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

/**
 * Multi-head attention of {@code x [B, N, dim]} to a context {@code [B, M, contextDim]} (the same tensor for
 * self-attention): {@code out(softmax(q k^T / sqrt(dh)) v)} over {@code heads} heads of {@code dh = dim / heads},
 * with q, k, v and out as {@link LoraLinear} layers (sub-modules {@code q}, {@code k}, {@code v}, {@code out}), so
 * LoRA adapts every projection of every attention. No mask: the padding tokens of the prompt (and the all-padding
 * null prompt) are attended to, as SD3 attends to T5's padding.
 */
public final class Attention extends Module {
    private final int dim;
    private final int heads;
    private final long contextDim;
    private final LoraLinear q;
    private final LoraLinear k;
    private final LoraLinear v;
    private final LoraLinear out;

    public Attention(int dim, long contextDim, int heads, int rank, double alpha, Generator g, Device device) {
        if (heads < 1 || dim % heads != 0) {
            throw new IllegalArgumentException("attention width " + dim + " must be a positive multiple of the head count " + heads);
        }
        this.dim = dim;
        this.heads = heads;
        this.contextDim = contextDim;
        q = registerModule("q", new LoraLinear(dim, dim, true, rank, alpha, g, device));
        k = registerModule("k", new LoraLinear(contextDim, dim, true, rank, alpha, g, device));
        v = registerModule("v", new LoraLinear(contextDim, dim, true, rank, alpha, g, device));
        out = registerModule("out", new LoraLinear(dim, dim, true, rank, alpha, g, device));
    }

    /** {@code x [B, N, dim]}, {@code context [B, M, contextDim]} to {@code [B, N, dim]}. */
    public Tensor forward(Tensor x, Tensor context, double adapterScale) {
        long b = x.size(0);
        long n = x.size(1);
        long m = context.size(1);
        long dh = dim / heads;
        MacCounter.add(2 * b * heads * n * m * dh); // q k^T and (weights) v
        try (Scope s = Scope.open()) {
            Tensor qh = q.forward(x, adapterScale).reshape(b, n, heads, dh).transpose(1, 2);
            Tensor kh = k.forward(context, adapterScale).reshape(b, m, heads, dh).transpose(1, 2);
            Tensor vh = v.forward(context, adapterScale).reshape(b, m, heads, dh).transpose(1, 2);
            Tensor a = Functional.scaledDotProductAttention(qh, kh, vh, null, false);
            return s.keep(out.forward(a.transpose(1, 2).reshape(b, n, dim), adapterScale));
        }
    }

    public int dim() {
        return dim;
    }

    public long contextDim() {
        return contextDim;
    }
}
