package io.progrpo.sampler;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

import java.util.Objects;

/**
 * A {@link Sampler} that forwards every call to another one: the base of wrappers that observe or record a sampler's
 * calls and override only those (a probe of memory between steps, a recorder of a benchmark's inputs). Forwarding
 * every method here, the defaults {@link #klStd} and the mixed-step {@link #logProb(VelocityModel, Tensor, Tensor,
 * Tensor, int[])} included, keeps a wrapper from silently replacing the wrapped sampler's own versions with the
 * interface's defaults. The validation helpers ({@code checkStep}, {@code checkMixedSteps}) are not forwarded: they
 * read {@link #steps()} and {@link #isStochastic(int)}, which are.
 */
public abstract class ForwardingSampler implements Sampler {
    private final Sampler inner;

    protected ForwardingSampler(Sampler inner) {
        this.inner = Objects.requireNonNull(inner, "the sampler to forward to");
    }

    /** The sampler every call goes to. */
    protected final Sampler inner() {
        return inner;
    }

    @Override
    public int steps() {
        return inner.steps();
    }

    @Override
    public double time(int stepIndex) {
        return inner.time(stepIndex);
    }

    @Override
    public StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen) {
        return inner.step(model, x, cond, stepIndex, gen);
    }

    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex) {
        return inner.logProb(model, x, xNext, cond, stepIndex);
    }

    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int[] stepIndexPerRow) {
        return inner.logProb(model, x, xNext, cond, stepIndexPerRow);
    }

    @Override
    public double klStd(int stepIndex) {
        return inner.klStd(stepIndex);
    }

    @Override
    public boolean isStochastic(int stepIndex) {
        return inner.isStochastic(stepIndex);
    }
}
