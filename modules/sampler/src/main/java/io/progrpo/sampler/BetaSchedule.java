package io.progrpo.sampler;

import java.util.Arrays;

/**
 * A diffusion model's training noise schedule: {@code beta_0 .. beta_{N-1}} in (0, 1) over N training steps, and
 * {@code alphabar_t = prod_{s <= t} (1 - beta_s)}, so that {@code x_t = sqrt(alphabar_t) x0 + sqrt(1 - alphabar_t) eps}.
 */
public record BetaSchedule(double[] betas) {

    public BetaSchedule {
        if (betas == null || betas.length < 1) {
            throw new IllegalArgumentException("a beta schedule needs >= 1 training step, got " + (betas == null ? "null" : betas.length));
        }
        betas = betas.clone();
        for (int i = 0; i < betas.length; i++) {
            if (!(betas[i] > 0 && betas[i] < 1)) {
                throw new IllegalArgumentException("beta[" + i + "] must be in (0, 1), got " + betas[i]);
            }
        }
    }

    /** {@code linspace(start, end, n)} (DDPM's schedule). */
    public static BetaSchedule linear(int trainSteps, double start, double end) {
        double[] b = linspace(start, end, trainSteps);
        return new BetaSchedule(b);
    }

    /**
     * {@code linspace(sqrt(start), sqrt(end), n)^2}: Stable Diffusion 1.x/2.x use {@code scaledLinear(1000, 0.00085, 0.012)}.
     */
    public static BetaSchedule scaledLinear(int trainSteps, double start, double end) {
        if (!(start > 0) || !(end > 0)) {
            throw new IllegalArgumentException("scaled-linear betas need start, end > 0, got " + start + ", " + end);
        }
        double[] b = linspace(Math.sqrt(start), Math.sqrt(end), trainSteps);
        for (int i = 0; i < b.length; i++) b[i] *= b[i];
        return new BetaSchedule(b);
    }

    /** The Stable Diffusion 1.x schedule: {@code scaledLinear(1000, 0.00085, 0.012)}. */
    public static BetaSchedule stableDiffusion() {
        return scaledLinear(1000, 0.00085, 0.012);
    }

    private static double[] linspace(double start, double end, int n) {
        if (n < 1) throw new IllegalArgumentException("training steps must be >= 1, got " + n);
        double[] b = new double[n];
        for (int i = 0; i < n; i++) b[i] = n == 1 ? start : start + (end - start) * i / (n - 1);
        return b;
    }

    /** Number of training steps N. */
    public int trainSteps() {
        return betas.length;
    }

    public double beta(int t) {
        return betas[t];
    }

    /** {@code alphabar_t = prod_{s <= t} (1 - beta_s)}, t in [0, N). */
    public double alphaBar(int t) {
        if (t < 0 || t >= betas.length) {
            throw new IndexOutOfBoundsException("timestep " + t + " out of range [0, " + betas.length + ")");
        }
        double a = 1;
        for (int s = 0; s <= t; s++) a *= 1 - betas[s];
        return a;
    }

    @Override
    public double[] betas() {
        return betas.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BetaSchedule b && Arrays.equals(betas, b.betas);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(betas);
    }

    @Override
    public String toString() {
        return "BetaSchedule[N=" + betas.length + ", beta_0=" + betas[0] + ", beta_N-1=" + betas[betas.length - 1] + "]";
    }
}
