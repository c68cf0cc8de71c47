package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

/**
 * Flow-GRPO's SDE sampler for flow-matching models (velocity {@code v = noise - x0}), which has the marginals of the
 * probability-flow ODE. With {@code dt = sigma_next - sigma < 0} and noise level {@code a}:
 * <pre>
 *   std_t  = a * sqrt(sigma / (1 - sigma))            (at sigma = 1: sigmas[1] in the denominator)
 *   mu     = x (1 + std_t^2 / (2 sigma) dt) + v (1 + std_t^2 (1 - sigma) / (2 sigma)) dt
 *   x_next = mu + s_t eps,   s_t = std_t sqrt(-dt),   eps ~ N(0, I)
 * </pre>
 * {@code a = 0} is the Euler ODE {@code x_next = x + v dt} (deterministic, for evaluation). The preview of the clean
 * sample is {@code x0_hat = x - sigma v}. The model is fed {@code t = sigma}; all arithmetic is float32.
 */
public final class FlowSdeSampler implements Sampler {
    /** Flow-GRPO's default noise level a. */
    public static final double DEFAULT_NOISE_LEVEL = 0.7;

    private final FlowSchedule schedule;
    private final double noiseLevel;
    private final double[] stdT;   // std_t per step
    private final double[] policyStd; // s_t per step
    private final double[] coefX;  // 1 + std_t^2 / (2 sigma) dt
    private final double[] coefV;  // (1 + std_t^2 (1 - sigma) / (2 sigma)) dt

    public FlowSdeSampler(FlowSchedule schedule, double noiseLevel) {
        if (schedule == null) throw new IllegalArgumentException("schedule must not be null");
        if (!(noiseLevel >= 0) || Double.isInfinite(noiseLevel)) {
            throw new IllegalArgumentException("noise level a must be finite and >= 0, got " + noiseLevel);
        }
        this.schedule = schedule;
        this.noiseLevel = noiseLevel;
        int n = schedule.steps();
        stdT = new double[n];
        policyStd = new double[n];
        coefX = new double[n];
        coefV = new double[n];
        for (int i = 0; i < n; i++) {
            double sigma = schedule.sigma(i);
            double dt = schedule.sigma(i + 1) - sigma;
            double denom = 1 - (sigma == 1.0 ? schedule.sigma(1) : sigma);
            double std = noiseLevel * Math.sqrt(sigma / denom);
            stdT[i] = std;
            policyStd[i] = std * Math.sqrt(-dt);
            coefX[i] = 1 + std * std / (2 * sigma) * dt;
            coefV[i] = (1 + std * std * (1 - sigma) / (2 * sigma)) * dt;
        }
    }

    /** The SDE sampler on the shifted grid {@code shift(linspace(1, 0, T+1), k)}. */
    public FlowSdeSampler(int steps, double shift, double noiseLevel) {
        this(FlowSchedule.shifted(steps, shift), noiseLevel);
    }

    /** The SDE with the default noise level 0.7. */
    public static FlowSdeSampler sde(int steps, double shift) {
        return new FlowSdeSampler(steps, shift, DEFAULT_NOISE_LEVEL);
    }

    /** The deterministic Euler ODE (noise level 0), for evaluation. */
    public static FlowSdeSampler ode(int steps, double shift) {
        return new FlowSdeSampler(steps, shift, 0.0);
    }

    public FlowSchedule schedule() {
        return schedule;
    }

    public double noiseLevel() {
        return noiseLevel;
    }

    @Override
    public int steps() {
        return schedule.steps();
    }

    /** sigma at step i. */
    @Override
    public double time(int stepIndex) {
        checkStep(stepIndex);
        return schedule.sigma(stepIndex);
    }

    /** {@code dt = sigma_{i+1} - sigma_i} (negative). */
    public double dt(int stepIndex) {
        checkStep(stepIndex);
        return schedule.sigma(stepIndex + 1) - schedule.sigma(stepIndex);
    }

    /** The SDE's {@code std_t} at step i. */
    public double stdT(int stepIndex) {
        checkStep(stepIndex);
        return stdT[stepIndex];
    }

    /** {@code std_t}: Flow-GRPO's code divides the KL term by {@code 2 std_t^2}. */
    @Override
    public double klStd(int stepIndex) {
        return stdT(stepIndex);
    }

    /** The policy std {@code s_t = std_t sqrt(-dt)} at step i. */
    public double policyStd(int stepIndex) {
        checkStep(stepIndex);
        return policyStd[stepIndex];
    }

    @Override
    public boolean isStochastic(int stepIndex) {
        return policyStd(stepIndex) > 0;
    }

    @Override
    public StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen) {
        checkStep(stepIndex);
        double sigma = schedule.sigma(stepIndex);
        try (Scope scope = Scope.open()) {
            Tensor v = model.evaluate(x, cond, sigma, stepIndex);
            Tensor xf = x.to(DType.FLOAT32);
            Tensor mean = mean(xf, v, stepIndex);
            Tensor std = GaussianPolicy.rowStd(xf, policyStd[stepIndex]);
            Tensor x0 = xf.sub(v.mul(sigma));
            StepOutput out = policyStd[stepIndex] > 0
                    ? GaussianPolicy.sample(mean, std, x0, v, gen)
                    : new StepOutput(mean.to(DType.FLOAT32), mean, std, null, x0, v);
            return out.keep(scope);
        }
    }

    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex) {
        checkStep(stepIndex);
        if (!isStochastic(stepIndex)) {
            throw new IllegalArgumentException("step " + stepIndex + " is deterministic (noise level " + noiseLevel
                    + ", s_t = 0): it has no log-prob");
        }
        if (!Arrays.equals(x.shape(), xNext.shape())) {
            throw new IllegalArgumentException("step " + stepIndex + ": xNext has shape " + Arrays.toString(xNext.shape())
                    + ", expected x's shape " + Arrays.toString(x.shape()));
        }
        try (Scope scope = Scope.open()) {
            Tensor v = model.evaluate(x, cond, schedule.sigma(stepIndex), stepIndex);
            Tensor mean = mean(x.to(DType.FLOAT32), v, stepIndex);
            Tensor std = GaussianPolicy.rowStd(x, policyStd[stepIndex]);
            Tensor lp = GaussianPolicy.logProb(xNext, mean, std);
            return new LogProbResult(lp, mean, std).keep(scope);
        }
    }

    /**
     * Rows of different steps in one model forward: per-row sigma, {@code coefX}, {@code coefV} and {@code s_t} as
     * float32 {@code [B]} tensors (the same float32 values the per-step path broadcasts as scalars), so each row
     * equals {@link #logProb(VelocityModel, Tensor, Tensor, Tensor, int)} of its step.
     */
    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int[] stepIndexPerRow) {
        checkMixedSteps(x, xNext, cond, stepIndexPerRow);
        int first = stepIndexPerRow[0];
        if (Arrays.stream(stepIndexPerRow).allMatch(k -> k == first)) return logProb(model, x, xNext, cond, first);
        int b = stepIndexPerRow.length;
        float[] sigma = new float[b];
        float[] cx = new float[b];
        float[] cv = new float[b];
        float[] sd = new float[b];
        for (int r = 0; r < b; r++) {
            int i = stepIndexPerRow[r];
            sigma[r] = (float) schedule.sigma(i);
            cx[r] = (float) coefX[i];
            cv[r] = (float) coefV[i];
            sd[r] = (float) policyStd[i];
        }
        try (Scope scope = Scope.open()) {
            Tensor t = Tensor.of(sigma, b).to(x.device());
            Tensor v = model.evaluate(x, cond, t, "for steps " + Arrays.toString(stepIndexPerRow));
            Tensor mean = x.to(DType.FLOAT32).mul(perRow(cx, x)).add(v.mul(perRow(cv, x)));
            Tensor std = Tensor.of(sd, b).to(x.device());
            Tensor lp = GaussianPolicy.logProb(xNext, mean, std);
            return new LogProbResult(lp, mean, std).keep(scope);
        }
    }

    /** {@code values} [B] as float32 {@code [B, 1, ..., 1]} on {@code like}'s device, to broadcast against it. */
    static Tensor perRow(float[] values, Tensor like) {
        long[] shape = new long[like.dim()];
        Arrays.fill(shape, 1);
        shape[0] = values.length;
        return Tensor.of(values, shape).to(like.device());
    }

    /** The one formula both step() and logProb() use, so that they agree bit for bit. */
    private Tensor mean(Tensor xf, Tensor v, int i) {
        return xf.mul(coefX[i]).add(v.mul(coefV[i]));
    }

    @Override
    public String toString() {
        return "FlowSdeSampler[T=" + steps() + ", a=" + noiseLevel + "]";
    }
}
