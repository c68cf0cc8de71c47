package io.progrpo.sampler.custom;

import io.progrpo.sampler.GaussianPolicy;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

/** A user-written sampler (the example of module-info-docs/sampler.md): Euler on sigma = 1 - i/T plus noise c sqrt(-dt). */
public final class NoisyEulerSampler implements Sampler {
    private final int steps;
    private final double c;

    public NoisyEulerSampler(int steps, double c) {
        if (steps < 1 || !(c > 0)) throw new IllegalArgumentException("need steps >= 1 and c > 0, got " + steps + ", " + c);
        this.steps = steps;
        this.c = c;
    }

    @Override public int steps() { return steps; }
    @Override public double time(int i) { return 1.0 - (double) i / steps; }
    @Override public boolean isStochastic(int i) { return true; }

    private Tensor mean(Tensor x, Tensor v) { return x.to(DType.FLOAT32).add(v.mul(-1.0 / steps)); }
    private Tensor std(Tensor x) { return GaussianPolicy.rowStd(x, c * Math.sqrt(1.0 / steps)); }

    @Override
    public StepOutput step(VelocityModel m, Tensor x, Tensor cond, int i, Generator gen) {
        try (Scope scope = Scope.open()) {
            Tensor v = m.evaluate(x, cond, time(i), i);              // float32, shape- and NaN-checked
            Tensor x0 = x.to(DType.FLOAT32).sub(v.mul(time(i)));     // one-step preview of the clean sample
            return GaussianPolicy.sample(mean(x, v), std(x), x0, v, gen).keep(scope);
        }
    }

    @Override
    public LogProbResult logProb(VelocityModel m, Tensor x, Tensor xNext, Tensor cond, int i) {
        try (Scope scope = Scope.open()) {
            Tensor mean = mean(x, m.evaluate(x, cond, time(i), i));
            Tensor std = std(x);
            return new LogProbResult(GaussianPolicy.logProb(xNext, mean, std), mean, std).keep(scope);
        }
    }
}
