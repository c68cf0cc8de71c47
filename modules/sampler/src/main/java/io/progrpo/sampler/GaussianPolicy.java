package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

/**
 * The per-step Gaussian policy {@code N(mu, s^2 I)} shared by every sampler: drawing {@code x_next} and its
 * log-prob, averaged (not summed) over each row's latent elements, as the GRPO clip range is calibrated to it:
 * <pre>  log pi(x_next) = mean_elements( -(x_next - mu)^2 / (2 s^2) - log s - log sqrt(2 pi) )   -> [B]</pre>
 * Every method returns new float32 tensors owned by the scope open on the calling thread (or by the caller).
 */
public final class GaussianPolicy {
    /** log sqrt(2 pi). */
    public static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

    private GaussianPolicy() {}

    /**
     * The per-row log-prob {@code [B]} of {@code xNext} under {@code N(mean, std^2 I)}, {@code std} per row {@code [B]}
     * (all rows > 0). {@code xNext} is detached: the density is of a fixed sample, the gradient flows through mean.
     */
    public static Tensor logProb(Tensor xNext, Tensor mean, Tensor std) {
        if (!Arrays.equals(xNext.shape(), mean.shape())) {
            throw new IllegalArgumentException("xNext has shape " + Arrays.toString(xNext.shape())
                    + ", expected the mean's shape " + Arrays.toString(mean.shape()));
        }
        try (Scope scope = Scope.open()) {
            Tensor s = perRow(std, mean);
            Tensor d = xNext.detach().to(DType.FLOAT32).sub(mean);
            Tensor lp = d.square().div(s.square().mul(2)).neg().sub(s.log()).sub(LOG_SQRT_2PI);
            Tensor r = lp.dim() == 1 ? lp : lp.mean(false, elementDims(lp.dim()));
            return scope.keep(r);
        }
    }

    /** A per-row std {@code [B]} (float32, on {@code like}'s device) holding {@code value} for each of its B rows. */
    public static Tensor rowStd(Tensor like, double value) {
        return Tensor.full(value, DType.FLOAT32, like.device(), like.size(0));
    }

    /**
     * Draws {@code next = mean + std * eps}, {@code eps ~ N(0, I)} from {@code gen}, and returns the step output with
     * its log-prob. {@code std} is per row {@code [B]}; the output's tensors belong to the current scope (or caller).
     */
    public static StepOutput sample(Tensor mean, Tensor std, Tensor x0Preview, Tensor modelOutput, Generator gen) {
        Tensor next;
        try (Scope scope = Scope.open()) {
            Tensor eps = Tensor.randn(gen, DType.FLOAT32, mean.device(), mean.shape());
            next = scope.keep(mean.add(eps.mul(perRow(std, mean))));
        }
        return new StepOutput(next, mean, std, logProb(next, mean, std), x0Preview, modelOutput);
    }

    /** {@code std [B]} viewed as {@code [B, 1, ..., 1]} to broadcast against {@code like}. */
    static Tensor perRow(Tensor std, Tensor like) {
        if (std.dim() != 1 || std.size(0) != like.size(0)) {
            throw new IllegalArgumentException("std must be per row [" + like.size(0) + "], got " + Arrays.toString(std.shape()));
        }
        long[] shape = new long[like.dim()];
        Arrays.fill(shape, 1);
        shape[0] = like.size(0);
        return std.to(DType.FLOAT32).reshape(shape);
    }

    private static long[] elementDims(int dim) {
        long[] d = new long[dim - 1];
        for (int i = 1; i < dim; i++) d[i - 1] = i;
        return d;
    }
}
