package io.progrpo.sampler;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/**
 * A step rule: each step is a Gaussian policy {@code pi_theta(x_next | x_t, c) = N(mu_theta(x_t, t, c), s_t^2 I)}
 * (a deterministic step when {@code s_t = 0}). Built in: {@link FlowSdeSampler} (Flow-GRPO) and {@link DdimSampler}
 * (DanceGRPO). Users write their own; module-info-docs/sampler.md shows one, with {@link GaussianPolicy} doing the
 * sampling and the log-prob.
 *
 * <p>Implementations compute in float32 whatever the model dtype, keep every tensor on the latents' device, and free
 * their intermediates (compute inside a {@link io.progrpo.tensor.Scope} and {@code keep} the outputs).
 */
public interface Sampler {

    /** Number of steps T. */
    int steps();

    /** The time fed to the model at step {@code stepIndex} (sigma for flow, the timestep value for DDIM). */
    double time(int stepIndex);

    /**
     * One step {@code stepIndex} (0-based) from {@code x}, with noise drawn from {@code gen} (null: libtorch's default
     * generator, not reproducible). Runs under the caller's grad mode (sampling runs under
     * {@link io.progrpo.tensor.Autograd#noGrad()}).
     */
    StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen);

    /**
     * Re-evaluates a stored transition {@code x -> xNext} of step {@code stepIndex} under the model's current
     * parameters, with gradient. Equals the sampling-time log-prob bit for bit when the parameters have not changed
     * and the batch rows are the same.
     *
     * @throws IllegalArgumentException when the step is deterministic (it has no log-prob)
     */
    LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex);

    /** Whether step {@code stepIndex} is stochastic (has a log-prob): false for ODE / eta = 0 steps. */
    boolean isStochastic(int stepIndex);

    /** Throws {@link IndexOutOfBoundsException} naming the step and T unless {@code 0 <= stepIndex < steps()}. */
    default void checkStep(int stepIndex) {
        if (stepIndex < 0 || stepIndex >= steps()) {
            throw new IndexOutOfBoundsException("step index " + stepIndex + " out of range [0, " + steps() + ")");
        }
    }
}
