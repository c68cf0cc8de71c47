package io.progrpo.sampler;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

/**
 * A flow sampler whose steps are stochastic only inside a window (MixGRPO, Flow-GRPO-Fast, TempFlow-GRPO): steps
 * {@code start .. start + length - 1} (0-based) are the wrapped sampler's stochastic steps, every other step is the
 * Euler ODE {@code x_next = x + v dt} on the same sigma grid (deterministic, no log-prob, not stored for training,
 * its x0 preview {@code x - sigma v} as in every flow step). Training then stores and trains the window's steps only,
 * which cuts the trained transitions from T - 1 to {@code length} per trajectory; sampling still takes all T steps.
 *
 * <p>With a stride the window slides per epoch, as MixGRPO's does: epoch {@code e} starts it at
 * {@code (start + e * stride) mod (T - length)}, so it sweeps the T - 1 trainable steps (the last step, onto
 * sigma = 0, is never in a window) and wraps around; {@link #forEpoch} gives the epoch's sampler.
 */
public final class SdeWindowSampler implements Sampler {
    private final FlowSdeSampler sde;
    private final FlowSdeSampler ode;
    private final int start;
    private final int length;
    private final int stride;

    /**
     * The window {@code start .. start + length - 1} of {@code sde}'s steps, sliding by {@code stride} steps per epoch
     * (0: fixed).
     *
     * @throws IllegalArgumentException when the window is empty or leaves the T - 1 trainable steps, or the stride is
     *                                  negative
     */
    public SdeWindowSampler(FlowSdeSampler sde, int start, int length, int stride) {
        if (sde == null) throw new IllegalArgumentException("the windowed sampler must not be null");
        int trainable = sde.steps() - 1;
        if (length < 1 || start < 0 || start + length > trainable) {
            throw new IllegalArgumentException("the SDE window " + start + ":" + length + " must lie within the " + trainable
                    + " trainable steps 0.." + (trainable - 1) + " of T = " + sde.steps() + " (start >= 0, length >= 1, start + length <= T - 1)");
        }
        if (stride < 0) throw new IllegalArgumentException("the SDE window's stride must be >= 0 (0 = fixed), got " + stride);
        this.sde = sde;
        this.ode = new FlowSdeSampler(sde.schedule(), 0.0);
        this.start = start;
        this.length = length;
        this.stride = stride;
    }

    /** This window at epoch {@code epoch}: itself when fixed, else started at (start + epoch stride) mod (T - length). */
    public SdeWindowSampler forEpoch(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        if (stride == 0) return this;
        int positions = sde.steps() - length; // starts 0 .. T - 1 - length keep the window within the trainable steps
        int s = (int) ((start + (long) epoch * stride) % positions);
        return new SdeWindowSampler(sde, s, length, 0);
    }

    /** The first step of the window. */
    public int start() {
        return start;
    }

    /** The window's number of steps. */
    public int length() {
        return length;
    }

    /** The steps the window moves per epoch (0: fixed). */
    public int stride() {
        return stride;
    }

    /** The sampler of the window's steps. */
    public FlowSdeSampler inner() {
        return sde;
    }

    /** Whether step {@code stepIndex} is in the window. */
    public boolean inWindow(int stepIndex) {
        return stepIndex >= start && stepIndex < start + length;
    }

    @Override
    public int steps() {
        return sde.steps();
    }

    @Override
    public double time(int stepIndex) {
        return sde.time(stepIndex);
    }

    @Override
    public StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen) {
        checkStep(stepIndex);
        return (inWindow(stepIndex) ? sde : ode).step(model, x, cond, stepIndex, gen);
    }

    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex) {
        checkStep(stepIndex);
        if (!inWindow(stepIndex)) {
            throw new IllegalArgumentException("step " + stepIndex + " is outside the SDE window " + start + ".." + (start + length - 1)
                    + " (an ODE step): it has no log-prob");
        }
        return sde.logProb(model, x, xNext, cond, stepIndex);
    }

    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int[] stepIndexPerRow) {
        checkMixedSteps(x, xNext, cond, stepIndexPerRow); // every row's step stochastic, so in the window
        return sde.logProb(model, x, xNext, cond, stepIndexPerRow);
    }

    @Override
    public double klStd(int stepIndex) {
        return sde.klStd(stepIndex);
    }

    @Override
    public boolean isStochastic(int stepIndex) {
        checkStep(stepIndex);
        return inWindow(stepIndex) && sde.isStochastic(stepIndex);
    }

    @Override
    public String toString() {
        return "SdeWindowSampler[" + sde + ", steps " + start + ".." + (start + length - 1) + (stride > 0 ? ", stride " + stride : "") + "]";
    }
}
