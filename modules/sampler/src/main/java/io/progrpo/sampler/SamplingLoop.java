package io.progrpo.sampler;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/**
 * Runs a full chain {@code x_T (noise) -> x_0} under no-grad: {@link #run} records a {@link Trajectory} (what GRPO
 * trains on), {@link #finalLatents} keeps nothing but {@code x_0} (evaluation and figures).
 */
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
        check(sampler, model, noise, cond);
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

    /**
     * The same chain as {@link #run} (the same steps and draws from {@code gen}, so the same {@code x_0} bit for bit),
     * keeping no transition: each step's outputs other than its next latents are freed at once, and each latent as
     * soon as the next one exists, so at most two latents of the chain are alive. {@code noise} stays the caller's. The
     * result is a new tensor, owned like any new tensor: by the innermost open {@link io.progrpo.tensor.Scope}, else
     * by the caller.
     */
    public static Tensor finalLatents(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen) {
        check(sampler, model, noise, cond);
        Tensor x = noise;
        try (var ng = Autograd.noGrad()) {
            for (int i = 0; i < sampler.steps(); i++) {
                StepOutput out = sampler.step(model, x, cond, i, gen);
                Tensor next = out.next();
                for (Tensor t : new Tensor[] {out.mean(), out.std(), out.logProb(), out.x0Preview(), out.modelOutput()}) {
                    if (t != null && t != next) t.close();
                }
                if (x != noise) x.close();
                x = next;
            }
            return x;
        } catch (RuntimeException | Error e) {
            if (x != noise) x.close();
            throw e;
        }
    }

    private static void check(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond) {
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
    }
}
