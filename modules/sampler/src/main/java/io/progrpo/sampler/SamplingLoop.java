package io.progrpo.sampler;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/**
 * Runs a full chain {@code x_T (noise) -> x_0} under no-grad: {@link #run} records a {@link Trajectory} (what GRPO
 * trains on), {@link #finalLatents} keeps nothing but {@code x_0} (evaluation and figures). It is the one sampling
 * loop: the expand-and-prune driver runs it with a {@link StepHook} that prunes the active rows at its checkpoints.
 */
public final class SamplingLoop {
    private SamplingLoop() {}

    /** Which steps the trajectory of {@link #run} stores. */
    public enum Storage {
        /** Every step, with its sampling-time policy mean. */
        ALL_STEPS,
        /** The stochastic steps, with their means; deterministic steps are taken but not stored. */
        STOCHASTIC_STEPS,
        /**
         * The stochastic steps without their sampling-time means: what the GRPO update re-evaluates (latents, next
         * latents and log-probs; it recomputes the means with gradient). One latent-sized tensor less per step.
         */
        TRAINING
    }

    /**
     * Called by {@link #run} after each step, once the step is in the trajectory and before its output is closed. It
     * may shrink the active rows ({@link Trajectory#keepRows}) and returns the conditioning for the remaining steps:
     * {@code cond} itself when the rows stay, else one row per kept row. A conditioning it returns is its own: the loop
     * neither keeps nor closes any conditioning, so the hook's owner frees what the hook made, on every path.
     */
    @FunctionalInterface
    public interface StepHook {
        /**
         * @param step the step just taken (0-based)
         * @param out  its output, borrowed: {@code x0Preview()} is the step's one-step clean preview, {@code next()}
         *             the latents it reached (the final sample after the last step)
         * @param traj the trajectory, holding this step
         * @param cond the conditioning this step used (null when the chain has none)
         * @return the conditioning of the next steps: null exactly when {@code cond} is, else {@code traj.rows()} rows
         */
        Tensor afterStep(int step, StepOutput out, Trajectory traj, Tensor cond);
    }

    /** Every step recorded. */
    public static Trajectory run(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen) {
        return run(sampler, model, noise, cond, gen, Storage.ALL_STEPS, null);
    }

    /**
     * Samples all {@code sampler.steps()} steps from {@code noise} ({@code [B, ...]}, borrowed) under {@code cond}
     * ({@code [B, ...]} or null), noise from {@code gen}. With {@code stochasticOnly}, deterministic steps are taken
     * but not stored. The caller closes the returned trajectory; {@link Trajectory#finalLatents()} is {@code x_0}.
     */
    public static Trajectory run(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen, boolean stochasticOnly) {
        return run(sampler, model, noise, cond, gen, stochasticOnly ? Storage.STOCHASTIC_STEPS : Storage.ALL_STEPS, null);
    }

    /**
     * {@link #run(Sampler, VelocityModel, Tensor, Tensor, Generator, boolean)} storing what {@code storage} says, with
     * {@code hook} (or null) called after each step; the steps after a hook that kept fewer rows run on those rows only,
     * under the conditioning it returned. On any exception (from the sampler, the model or the hook, an {@code Error}
     * included) the trajectory is closed before it propagates; {@code noise} and {@code cond} stay the caller's.
     *
     * @throws IllegalStateException when the hook returns a conditioning without one row per active row
     */
    public static Trajectory run(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen,
                                 Storage storage, StepHook hook) {
        return run(sampler, model, noise, cond, gen, storage, hook, null);
    }

    /**
     * {@link #run(Sampler, VelocityModel, Tensor, Tensor, Generator, Storage, StepHook)} into a trajectory of
     * {@code layout} (null: {@link Trajectory.Layout#TRAINING} for {@link Storage#TRAINING}, else
     * {@link Trajectory.Layout#FULL}). With a lean layout (float16 or bfloat16 latents) the chain starts from the noise
     * rounded to that dtype and continues from the rounded latents (see {@link Trajectory}, "Lean storage").
     */
    public static Trajectory run(Sampler sampler, VelocityModel model, Tensor noise, Tensor cond, Generator gen,
                                 Storage storage, StepHook hook, Trajectory.Layout layout) {
        check(sampler, model, noise, cond);
        if (storage == null) throw new IllegalArgumentException("storage must be ALL_STEPS, STOCHASTIC_STEPS or TRAINING, got null");
        Trajectory.Layout l = layout != null ? layout : storage == Storage.TRAINING ? Trajectory.Layout.TRAINING : Trajectory.Layout.FULL;
        Trajectory traj = new Trajectory(sampler, l);
        Tensor rounded = null;
        try (var ng = Autograd.noGrad()) {
            if (l.lean()) {
                try (io.progrpo.tensor.Scope scope = io.progrpo.tensor.Scope.open()) {
                    rounded = noise.detach().to(l.latentDtype()).to(io.progrpo.tensor.DType.FLOAT32).unscoped();
                }
            }
            Tensor x = rounded != null ? rounded : noise;
            Tensor c = cond;
            for (int i = 0; i < sampler.steps(); i++) {
                try (StepOutput out = sampler.step(model, x, c, i, gen)) {
                    if (storage != Storage.ALL_STEPS && !sampler.isStochastic(i)) traj.advance(i, out);
                    else traj.append(i, x, out);
                    if (hook != null) c = checkHooked(hook.afterStep(i, out, traj, c), c, traj, i);
                }
                x = traj.finalLatents();
            }
        } catch (RuntimeException | Error e) {
            traj.close();
            throw e;
        } finally {
            if (rounded != null) rounded.close(); // the trajectory copied what it stores of it
        }
        return traj;
    }

    /** The hook's conditioning, if it has a row per active row (and is null exactly when the chain's is). */
    private static Tensor checkHooked(Tensor next, Tensor before, Trajectory traj, int step) {
        if ((next == null) != (before == null)) {
            throw new IllegalStateException("the step hook after step " + step + " returned " + (next == null ? "no" : "a")
                    + " conditioning for a chain " + (before == null ? "without" : "with") + " one; expected "
                    + (before == null ? "null" : traj.rows() + " rows"));
        }
        if (next != null && (next.dim() < 1 || next.size(0) != traj.rows())) {
            throw new IllegalStateException("the step hook after step " + step + " returned conditioning of shape "
                    + java.util.Arrays.toString(next.shape()) + " for " + traj.rows() + " active rows; expected one row per row");
        }
        return next;
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
