package io.progrpo.sampler;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/** Runs a full chain {@code x_T (noise) -> x_0} under no-grad, recording a {@link Trajectory}. */
public final class SamplingLoop {
    private SamplingLoop() {}

    /** Every step recorded. */
    public static Trajectory run(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen) {
        return run(sampler, model, noise, cond, gen, false);
    }

    /**
     * Samples all {@code sampler.steps()} steps from {@code noise} ({@code [B, ...]}, borrowed) under {@code cond}
     * ({@code [B, ...]} or null), noise from {@code gen}. With {@code stochasticOnly}, deterministic steps are taken
     * but not stored. The caller closes the returned trajectory; {@link Trajectory#finalLatents()} is {@code x_0}.
     */
    public static Trajectory run(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen, boolean stochasticOnly) {
        if (sampler == null || model == null || noise == null) {
            throw new IllegalArgumentException("sampler, model and noise must not be null");
        }
        if (noise.dim() < 1 || noise.size(0) < 1) {
            throw new IllegalArgumentException("noise must be [B, ...] with B >= 1, got " + noise);
        }
        if (cond != null && (cond.dim() < 1 || cond.size(0) != noise.size(0))) {
            throw new IllegalArgumentException("conditioning has shape " + java.util.Arrays.toString(cond.shape())
                    + ", expected " + noise.size(0) + " rows like the noise");
        }
        Trajectory traj = new Trajectory(sampler);
        try (var ng = Autograd.noGrad()) {
            Tensor x = noise;
            for (int i = 0; i < sampler.steps(); i++) {
                try (StepOutput out = sampler.step(model, x, cond, i, gen)) {
                    if (stochasticOnly && !sampler.isStochastic(i)) traj.advance(i, out);
                    else traj.append(i, x, out);
                }
                x = traj.finalLatents();
            }
        } catch (RuntimeException | Error e) {
            traj.close();
            throw e;
        }
        return traj;
    }
}
