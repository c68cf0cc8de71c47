package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

/**
 * The network a sampler drives: its output (velocity {@code v = noise - x0} for flow matching, the noise estimate
 * epsilon for diffusion) for latents {@code x [B, ...]} at per-row time {@code t [B]} (float32: sigma in [0, 1] for
 * flow, the timestep value for DDIM) under conditioning {@code cond} ({@code [B, ...]}, may be null).
 *
 * <p>A plain lambda over tensors implements it. The returned tensor is new: it belongs to the scope open on the
 * calling thread, or to the caller when none is. Any dtype is accepted; samplers convert it to float32.
 */
@FunctionalInterface
public interface VelocityModel {

    /** The network output for {@code x} at times {@code t} under {@code cond}; shape of {@code x}. */
    Tensor predict(Tensor x, Tensor t, Tensor cond);

    /**
     * {@code model} run on at most {@code maxRows} rows per forward, the chunks' outputs concatenated: the same output
     * (for a model whose rows are independent, as every model progrpo ships), with a forward's intermediates freed chunk
     * by chunk, which bounds the peak memory of a large batch without gradient. Batches of at most {@code maxRows} rows
     * go straight to {@code model}.
     *
     * @throws IllegalArgumentException when {@code model} is null or {@code maxRows < 1}
     */
    static VelocityModel rowChunked(VelocityModel model, int maxRows) {
        return new RowChunkedVelocity(model, maxRows);
    }

    /**
     * Calls {@link #predict} with every row at {@code time}, checked and in float32: what the built-in samplers use
     * and what a custom sampler should use.
     *
     * @return the output as a new float32 tensor of {@code x}'s shape, on {@code x}'s device
     * @throws IllegalStateException when the model returns null or a tensor of another shape (naming the step)
     * @throws IllegalArgumentException when the output holds a NaN or infinity (naming the step and time)
     */
    default Tensor evaluate(Tensor x, Tensor cond, double time, int stepIndex) {
        try (Scope scope = Scope.open()) {
            Tensor t = Tensor.full(time, DType.FLOAT32, x.device(), x.size(0));
            return scope.keep(checked(x, predict(x, t, cond), "at step " + stepIndex + " (t = " + time + ")"));
        }
    }

    /**
     * Calls {@link #predict} with a time per row, checked and in float32: what the built-in samplers use to
     * re-evaluate rows of different steps in one forward ({@link Sampler#logProb(VelocityModel, Tensor, Tensor,
     * Tensor, int[])}).
     *
     * @param t    float32 {@code [B]}, one time per row, on {@code x}'s device
     * @param what names the rows in an error message, e.g. {@code "for steps [0, 3]"}
     * @return the output as a new float32 tensor of {@code x}'s shape, on {@code x}'s device
     * @throws IllegalStateException when the model returns null or a tensor of another shape
     * @throws IllegalArgumentException when the output holds a NaN or infinity
     */
    default Tensor evaluate(Tensor x, Tensor cond, Tensor t, String what) {
        try (Scope scope = Scope.open()) {
            return scope.keep(checked(x, predict(x, t, cond), what));
        }
    }

    /** The checks both evaluate methods make; a new handle in the current scope (an alias when already float32). */
    private static Tensor checked(Tensor x, Tensor out, String where) {
        if (out == null) {
            throw new IllegalStateException("model returned null " + where);
        }
        if (!Arrays.equals(out.shape(), x.shape())) {
            throw new IllegalStateException("model output " + where + " has shape "
                    + Arrays.toString(out.shape()) + ", expected the latents' shape " + Arrays.toString(x.shape()));
        }
        // always a new handle made in this scope (an alias when already float32), so keep() works even when
        // the model handed back a tensor it did not create here
        Tensor f = out.to(x.device(), DType.FLOAT32);
        Functional.requireFinite(f, "model output " + where);
        return f;
    }
}
