package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

/**
 * DDIM with noise (eta), DanceGRPO's sampler for epsilon-prediction diffusion models. At step i from timestep t to
 * the previous timestep t' (alphabar' = 1 or alphabar_0 past the start), with {@code eps_hat} the model output:
 * <pre>
 *   x0_hat  = (x_t - sqrt(1 - alphabar_t) eps_hat) / sqrt(alphabar_t)
 *   sigma_t = eta sqrt((1 - alphabar') / (1 - alphabar_t)) sqrt(1 - alphabar_t / alphabar')
 *   mu      = sqrt(alphabar') x0_hat + sqrt(1 - alphabar' - sigma_t^2) eps_hat
 *   x_prev  = mu + sigma_t z,   z ~ N(0, I)
 * </pre>
 * The policy std is {@code sigma_t}; eta = 0 is deterministic DDIM (evaluation), eta = 1 DanceGRPO's training sampler.
 * Timesteps use "leading" spacing over the training steps: {@code t_i = (T - 1 - i) * (N / T) + offset}, and the
 * model is fed {@code t_i}. All arithmetic is float32.
 */
public final class DdimSampler implements Sampler {
    private final BetaSchedule schedule;
    private final int steps;
    private final double eta;
    private final int stepsOffset;
    private final boolean finalAlphaOne;
    private final int[] timesteps;
    private final double[] alphaBar;
    private final double[] alphaBarPrev;
    private final double[] sigma;
    private final double[] dirCoef; // sqrt(1 - alphabar' - sigma_t^2)

    /**
     * Stable Diffusion 1.x conventions: steps offset 1, and {@code alphabar' = alphabar_0} past the first training
     * step (diffusers' {@code steps_offset=1, set_alpha_to_one=False}).
     */
    public DdimSampler(BetaSchedule schedule, int steps, double eta) {
        this(schedule, steps, eta, 1, false);
    }

    /**
     * @param stepsOffset   added to every leading-spaced timestep (SD 1.x: 1)
     * @param finalAlphaOne whether {@code alphabar' = 1} past the first training step (true: the last step lands on
     *                      clean data; false: on {@code alphabar_0}, as SD 1.x)
     */
    public DdimSampler(BetaSchedule schedule, int steps, double eta, int stepsOffset, boolean finalAlphaOne) {
        if (schedule == null) throw new IllegalArgumentException("schedule must not be null");
        int n = schedule.trainSteps();
        if (steps < 1 || steps > n) {
            throw new IllegalArgumentException("steps T must be in [1, " + n + "] (the training steps), got " + steps);
        }
        if (!(eta >= 0) || Double.isInfinite(eta)) throw new IllegalArgumentException("eta must be finite and >= 0, got " + eta);
        if (stepsOffset < 0) throw new IllegalArgumentException("steps offset must be >= 0, got " + stepsOffset);
        this.schedule = schedule;
        this.steps = steps;
        this.eta = eta;
        this.stepsOffset = stepsOffset;
        this.finalAlphaOne = finalAlphaOne;
        int ratio = n / steps;
        double[] cumprod = new double[n];
        double a = 1;
        for (int t = 0; t < n; t++) {
            a *= 1 - schedule.beta(t);
            cumprod[t] = a;
        }
        timesteps = new int[steps];
        alphaBar = new double[steps];
        alphaBarPrev = new double[steps];
        sigma = new double[steps];
        dirCoef = new double[steps];
        for (int i = 0; i < steps; i++) {
            int t = (steps - 1 - i) * ratio + stepsOffset;
            if (t >= n) {
                throw new IllegalArgumentException("timestep " + t + " of step " + i + " is past the " + n
                        + " training steps (steps offset " + stepsOffset + ", " + steps + " steps)");
            }
            int prev = t - ratio;
            timesteps[i] = t;
            alphaBar[i] = cumprod[t];
            alphaBarPrev[i] = prev >= 0 ? cumprod[prev] : finalAlphaOne ? 1.0 : cumprod[0];
            double ab = alphaBar[i];
            double abp = alphaBarPrev[i];
            sigma[i] = eta * Math.sqrt((1 - abp) / (1 - ab)) * Math.sqrt(1 - ab / abp);
            double dir = 1 - abp - sigma[i] * sigma[i];
            if (dir < -1e-12) {
                throw new IllegalArgumentException("eta " + eta + " is too large at step " + i + ": 1 - alphabar' - sigma_t^2 = "
                        + dir + " < 0");
            }
            dirCoef[i] = Math.sqrt(Math.max(dir, 0));
        }
    }

    public BetaSchedule schedule() {
        return schedule;
    }

    public double eta() {
        return eta;
    }

    public int stepsOffset() {
        return stepsOffset;
    }

    public boolean finalAlphaOne() {
        return finalAlphaOne;
    }

    @Override
    public int steps() {
        return steps;
    }

    /** The timestep value {@code t_i} fed to the model. */
    @Override
    public double time(int stepIndex) {
        return timestep(stepIndex);
    }

    public int timestep(int stepIndex) {
        checkStep(stepIndex);
        return timesteps[stepIndex];
    }

    /** All timesteps, first step first. */
    public int[] timesteps() {
        return timesteps.clone();
    }

    /** {@code alphabar_t} of step i. */
    public double alphaBar(int stepIndex) {
        checkStep(stepIndex);
        return alphaBar[stepIndex];
    }

    /** {@code alphabar'} of step i (the timestep it moves to). */
    public double alphaBarPrev(int stepIndex) {
        checkStep(stepIndex);
        return alphaBarPrev[stepIndex];
    }

    /** The policy std {@code sigma_t} of step i. */
    public double sigma(int stepIndex) {
        checkStep(stepIndex);
        return sigma[stepIndex];
    }

    @Override
    public boolean isStochastic(int stepIndex) {
        return sigma(stepIndex) > 0;
    }

    @Override
    public StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen) {
        checkStep(stepIndex);
        try (Scope scope = Scope.open()) {
            Tensor eps = model.evaluate(x, cond, timesteps[stepIndex], stepIndex);
            Tensor xf = x.to(DType.FLOAT32);
            Tensor x0 = x0Hat(xf, eps, stepIndex);
            Tensor mean = mean(x0, eps, stepIndex);
            Tensor std = GaussianPolicy.rowStd(xf, sigma[stepIndex]);
            StepOutput out = sigma[stepIndex] > 0
                    ? GaussianPolicy.sample(mean, std, x0, eps, gen)
                    : new StepOutput(mean.to(DType.FLOAT32), mean, std, null, x0, eps);
            return out.keep(scope);
        }
    }

    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex) {
        checkStep(stepIndex);
        if (!isStochastic(stepIndex)) {
            throw new IllegalArgumentException("step " + stepIndex + " is deterministic (eta " + eta + ", sigma_t = 0): it has no log-prob");
        }
        if (!Arrays.equals(x.shape(), xNext.shape())) {
            throw new IllegalArgumentException("step " + stepIndex + ": xNext has shape " + Arrays.toString(xNext.shape())
                    + ", expected x's shape " + Arrays.toString(x.shape()));
        }
        try (Scope scope = Scope.open()) {
            Tensor eps = model.evaluate(x, cond, timesteps[stepIndex], stepIndex);
            Tensor mean = mean(x0Hat(x.to(DType.FLOAT32), eps, stepIndex), eps, stepIndex);
            Tensor std = GaussianPolicy.rowStd(x, sigma[stepIndex]);
            Tensor lp = GaussianPolicy.logProb(xNext, mean, std);
            return new LogProbResult(lp, mean, std).keep(scope);
        }
    }

    /**
     * Rows of different steps in one model forward: per-row timestep, {@code sqrt(1 - alphabar_t)},
     * {@code sqrt(alphabar_t)}, {@code sqrt(alphabar')}, the direction coefficient and {@code sigma_t} as float32
     * {@code [B]} tensors (the float32 values the per-step path broadcasts as scalars), so each row equals
     * {@link #logProb(VelocityModel, Tensor, Tensor, Tensor, int)} of its step.
     */
    @Override
    public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int[] stepIndexPerRow) {
        checkMixedSteps(x, xNext, cond, stepIndexPerRow);
        int first = stepIndexPerRow[0];
        if (Arrays.stream(stepIndexPerRow).allMatch(k -> k == first)) return logProb(model, x, xNext, cond, first);
        int b = stepIndexPerRow.length;
        float[] t = new float[b];
        float[] noiseCoef = new float[b];
        float[] signalCoef = new float[b];
        float[] prevCoef = new float[b];
        float[] dir = new float[b];
        float[] sd = new float[b];
        for (int r = 0; r < b; r++) {
            int i = stepIndexPerRow[r];
            t[r] = timesteps[i];
            noiseCoef[r] = (float) Math.sqrt(1 - alphaBar[i]);
            signalCoef[r] = (float) Math.sqrt(alphaBar[i]);
            prevCoef[r] = (float) Math.sqrt(alphaBarPrev[i]);
            dir[r] = (float) dirCoef[i];
            sd[r] = (float) sigma[i];
        }
        try (Scope scope = Scope.open()) {
            Tensor eps = model.evaluate(x, cond, Tensor.of(t, b).to(x.device()), "for steps " + Arrays.toString(stepIndexPerRow));
            Tensor x0 = x.to(DType.FLOAT32).sub(eps.mul(FlowSdeSampler.perRow(noiseCoef, x)))
                    .div(FlowSdeSampler.perRow(signalCoef, x));
            Tensor mean = x0.mul(FlowSdeSampler.perRow(prevCoef, x)).add(eps.mul(FlowSdeSampler.perRow(dir, x)));
            Tensor std = Tensor.of(sd, b).to(x.device());
            Tensor lp = GaussianPolicy.logProb(xNext, mean, std);
            return new LogProbResult(lp, mean, std).keep(scope);
        }
    }

    private Tensor x0Hat(Tensor xf, Tensor eps, int i) {
        return xf.sub(eps.mul(Math.sqrt(1 - alphaBar[i]))).div(Math.sqrt(alphaBar[i]));
    }

    private Tensor mean(Tensor x0, Tensor eps, int i) {
        return x0.mul(Math.sqrt(alphaBarPrev[i])).add(eps.mul(dirCoef[i]));
    }

    @Override
    public String toString() {
        return "DdimSampler[T=" + steps + ", eta=" + eta + ", N=" + schedule.trainSteps() + "]";
    }
}
