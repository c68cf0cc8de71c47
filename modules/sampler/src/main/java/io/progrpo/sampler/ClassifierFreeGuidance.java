package io.progrpo.sampler;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Classifier-free guidance around any model: {@code v = v_u + w (v_c - v_u)} in float32, where {@code v_u} is the
 * output under one unconditional conditioning row broadcast (expanded, not copied) to the batch.
 *
 * <p>{@code detachUnconditional = true} (Flow-GRPO) runs the unconditional branch under {@link Autograd#noGrad()}: two
 * forwards of B rows, the gradient flows through {@code w v_c} only. {@code false} (DanceGRPO) keeps its gradient and
 * batches both branches into one forward of 2B rows. Each mode always evaluates the same way, with or without
 * gradient, so a recomputed log-prob matches the sampled one bit for bit.
 *
 * <p>The unconditional row is borrowed: the caller keeps it open while this object is used.
 */
public final class ClassifierFreeGuidance implements VelocityModel {
    private final VelocityModel model;
    private final double scale;
    private final Tensor uncondRow;
    private final boolean detachUnconditional;

    /**
     * @param scale     guidance scale w (4.5 flow, 5.0 diffusion; 1 returns the conditional output)
     * @param uncondRow one conditioning row, shaped {@code [1, ...]} or {@code [...]} (the conditioning without its
     *                  batch dimension)
     */
    public ClassifierFreeGuidance(VelocityModel model, double scale, Tensor uncondRow, boolean detachUnconditional) {
        if (model == null) throw new IllegalArgumentException("model must not be null");
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("guidance scale must be finite, got " + scale);
        if (uncondRow == null) throw new IllegalArgumentException("the unconditional row must not be null");
        this.model = model;
        this.scale = scale;
        this.uncondRow = uncondRow;
        this.detachUnconditional = detachUnconditional;
    }

    public double scale() {
        return scale;
    }

    public boolean detachUnconditional() {
        return detachUnconditional;
    }

    public VelocityModel model() {
        return model;
    }

    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        if (cond == null) throw new IllegalArgumentException("classifier-free guidance needs a conditioning tensor [B, ...], got null");
        long b = x.size(0);
        if (cond.size(0) != b) {
            throw new IllegalArgumentException("conditioning has " + cond.size(0) + " rows, the latents " + b);
        }
        try (Scope scope = Scope.open()) {
            Tensor u = unconditional(cond);
            Tensor vc;
            Tensor vu;
            if (detachUnconditional) {
                vc = model.predict(x, t, cond);
                try (var ng = Autograd.noGrad()) {
                    vu = model.predict(x, t, u);
                }
            } else {
                Tensor both = model.predict(Tensor.cat(List.of(x, x), 0), Tensor.cat(List.of(t, t), 0), Tensor.cat(List.of(cond, u), 0));
                if (both.dim() < 1 || both.size(0) != 2 * b) {
                    throw new IllegalStateException("model returned " + Arrays.toString(both.shape()) + " for a batched "
                            + "classifier-free-guidance forward of " + (2 * b) + " rows");
                }
                vc = both.narrow(0, 0, b);
                vu = both.narrow(0, b, b);
            }
            Tensor vcf = vc.to(DType.FLOAT32);
            Tensor vuf = vu.to(DType.FLOAT32);
            return scope.keep(vuf.add(vcf.sub(vuf).mul(scale)));
        }
    }

    /** The unconditional row on the conditioning's device and dtype, expanded to its batch. */
    private Tensor unconditional(Tensor cond) {
        Tensor row = uncondRow.dim() == cond.dim() - 1 ? uncondRow.unsqueeze(0) : uncondRow;
        long[] want = cond.shape();
        long[] have = row.shape();
        boolean ok = have.length == want.length && have[0] == 1
                && Arrays.equals(Arrays.copyOfRange(have, 1, have.length), Arrays.copyOfRange(want, 1, want.length));
        if (!ok) {
            throw new IllegalArgumentException("unconditional row has shape " + Arrays.toString(uncondRow.shape())
                    + ", expected [1, ...] or [...] matching the conditioning " + Arrays.toString(want));
        }
        return row.to(cond.device(), cond.dtype()).expand(want);
    }

    @Override
    public String toString() {
        return "ClassifierFreeGuidance[w=" + scale + ", detachUnconditional=" + detachUnconditional + ", " + model + "]";
    }
}
