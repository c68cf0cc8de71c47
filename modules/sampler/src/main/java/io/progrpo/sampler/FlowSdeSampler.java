package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

/**
 * The stochastic samplers of flow-matching models (velocity {@code v = noise - x0}), one Gaussian step
 * {@code x_next = mu + s_t eps}, {@code mu = coefX x + coefV v}, with {@code dt = sigma_next - sigma < 0}, noise level
 * {@code a} and one of three {@link Dynamics}:
 * <pre>
 * FLOW_SDE  (Flow-GRPO; the marginals of the probability-flow ODE)
 *   std_t = a sqrt(sigma / (1 - sigma))            (at sigma = 1: sigmas[1] in the denominator)
 *   mu    = x (1 + std_t^2 / (2 sigma) dt) + v (1 + std_t^2 (1 - sigma) / (2 sigma)) dt,   s_t = std_t sqrt(-dt)
 * DANCE_SDE (DanceGRPO's flow SDE: the same drift with a constant noise level)
 *   std_t = a,  mu and s_t as FLOW_SDE
 * CPS       (coefficients-preserving sampling, Wang et al. 2025, arXiv 2509.05952)
 *   s_t   = sigma_next sin(a pi / 2)
 *   mu    = (1 - sigma_next) x0_hat + sqrt(sigma_next^2 - s_t^2) x1_hat,  x0_hat = x - sigma v,  x1_hat = x + (1 - sigma) v
 *         = x (1 - sigma_next + sigma_next cos(a pi / 2)) + v (sigma_next cos(a pi / 2) (1 - sigma) - sigma (1 - sigma_next))
 * </pre>
 * CPS keeps the coefficients of the flow's interpolation: {@code x_next} is {@code (1 - sigma_next) x0_hat} plus noise
 * of total variance {@code sigma_next^2}, as the marginal at {@code sigma_next} is; its last step
 * ({@code sigma_next = 0}) is deterministic. {@code a = 0} is the Euler ODE {@code x_next = x + v dt} in every
 * dynamics (deterministic, for evaluation). The preview of the clean sample is {@code x0_hat = x - sigma v}. The model
 * is fed {@code t = sigma}; all arithmetic is float32.
 */
public final class FlowSdeSampler implements Sampler {
    /** The noise rule of the step; see the class documentation for each formula. */
    public enum Dynamics {
        /** Flow-GRPO's SDE, {@code std_t = a sqrt(sigma / (1 - sigma))}. */
        FLOW_SDE,
        /** DanceGRPO's flow SDE, {@code std_t = a}. */
        DANCE_SDE,
        /** Coefficients-preserving sampling, {@code s_t = sigma_next sin(a pi / 2)}. */
        CPS
    }

    /** Flow-GRPO's default noise level a. */
    public static final double DEFAULT_NOISE_LEVEL = 0.7;

    private final FlowSchedule schedule;
    private final double noiseLevel;
    private final Dynamics dynamics;
    private final double[] stdT;   // std_t per step
    private final double[] policyStd; // s_t per step
    private final double[] coefX;  // 1 + std_t^2 / (2 sigma) dt
    private final double[] coefV;  // (1 + std_t^2 (1 - sigma) / (2 sigma)) dt

    /** Flow-GRPO's SDE ({@link Dynamics#FLOW_SDE}) on {@code schedule}. */
    public FlowSdeSampler(FlowSchedule schedule, double noiseLevel) {
        this(schedule, noiseLevel, Dynamics.FLOW_SDE);
    }

    /**
     * The sampler of {@code dynamics} on {@code schedule} with noise level {@code a = noiseLevel}.
     *
     * @throws IllegalArgumentException when a is negative or not finite, or above 1 for CPS (sin(a pi / 2) is the
     *                                  share of the noise that is fresh, at most all of it)
     */
    public FlowSdeSampler(FlowSchedule schedule, double noiseLevel, Dynamics dynamics) {
        if (schedule == null) throw new IllegalArgumentException("schedule must not be null");
        if (dynamics == null) throw new IllegalArgumentException("dynamics must be FLOW_SDE, DANCE_SDE or CPS, got null");
        if (!(noiseLevel >= 0) || Double.isInfinite(noiseLevel)) {
            throw new IllegalArgumentException("noise level a must be finite and >= 0, got " + noiseLevel);
        }
        if (dynamics == Dynamics.CPS && noiseLevel > 1) {
            throw new IllegalArgumentException("CPS's noise level a must be in [0, 1] (s_t = sigma_next sin(a pi / 2)), got " + noiseLevel);
        }
        this.schedule = schedule;
        this.noiseLevel = noiseLevel;
        this.dynamics = dynamics;
        int n = schedule.steps();
        stdT = new double[n];
        policyStd = new double[n];
        coefX = new double[n];
        coefV = new double[n];
        for (int i = 0; i < n; i++) {
            double sigma = schedule.sigma(i);
            double next = schedule.sigma(i + 1);
            double dt = next - sigma;
            if (dynamics == Dynamics.CPS) {
                double keep = next * Math.cos(noiseLevel * Math.PI / 2); // sqrt(sigma_next^2 - s_t^2)
                policyStd[i] = next * Math.sin(noiseLevel * Math.PI / 2);
                stdT[i] = Double.NaN; // no std_t / sqrt(-dt) split
                coefX[i] = 1 - next + keep;
                coefV[i] = keep * (1 - sigma) - sigma * (1 - next);
                continue;
            }
            double std = dynamics == Dynamics.DANCE_SDE ? noiseLevel
                    : noiseLevel * Math.sqrt(sigma / (1 - (sigma == 1.0 ? schedule.sigma(1) : sigma)));
            stdT[i] = std;
            policyStd[i] = std * Math.sqrt(-dt);
            coefX[i] = 1 + std * std / (2 * sigma) * dt;
            coefV[i] = (1 + std * std * (1 - sigma) / (2 * sigma)) * dt;
        }
    }

    /** The sampler of {@code dynamics} on the shifted grid {@code shift(linspace(1, 0, T+1), k)}. */
    public FlowSdeSampler(int steps, double shift, double noiseLevel, Dynamics dynamics) {
        this(FlowSchedule.shifted(steps, shift), noiseLevel, dynamics);
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

    public Dynamics dynamics() {
        return dynamics;
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

    /** The SDE's {@code std_t} at step i (NaN for CPS, which has no {@code std_t sqrt(-dt)} split). */
    public double stdT(int stepIndex) {
        checkStep(stepIndex);
        return stdT[stepIndex];
    }

    /** {@code std_t}: Flow-GRPO's code divides the KL term by {@code 2 std_t^2} (NaN for CPS: the trainer then takes s_t). */
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
        return "FlowSdeSampler[" + (dynamics == Dynamics.FLOW_SDE ? "" : dynamics + ", ") + "T=" + steps() + ", a=" + noiseLevel + "]";
    }
}
