package io.progrpo.sampler;

import java.util.Arrays;

/**
 * The sigma grid of a flow-matching sampler: {@code sigmas[0] > sigmas[1] > ... > sigmas[T]} in [0, 1], sigma = 1
 * pure noise, 0 clean ({@code x_sigma = (1 - sigma) x0 + sigma * noise}). Step i moves from {@code sigmas[i]} to
 * {@code sigmas[i+1]}. The usual grid is {@code linspace(1, 0, T+1)} passed through the SD3 time shift
 * {@code shift(s) = k s / (1 + (k - 1) s)}.
 */
public record FlowSchedule(double[] sigmas) {

    public FlowSchedule {
        if (sigmas == null || sigmas.length < 2) {
            throw new IllegalArgumentException("a flow schedule needs T + 1 >= 2 sigmas, got "
                    + (sigmas == null ? "null" : sigmas.length));
        }
        sigmas = sigmas.clone();
        for (int i = 0; i < sigmas.length; i++) {
            double s = sigmas[i];
            if (!(s >= 0 && s <= 1)) {
                throw new IllegalArgumentException("sigma[" + i + "] must be in [0, 1], got " + s);
            }
            if (i > 0 && !(s < sigmas[i - 1])) {
                throw new IllegalArgumentException("sigmas must decrease strictly, got sigma[" + (i - 1) + "] = "
                        + sigmas[i - 1] + " then sigma[" + i + "] = " + s);
            }
        }
    }

    /** {@code linspace(1, 0, T+1)}. */
    public static FlowSchedule linear(int steps) {
        return shifted(steps, 1.0);
    }

    /** {@code shift(linspace(1, 0, T+1), k)}; k = 1 is the plain grid, k = 3 the SD3-class default. */
    public static FlowSchedule shifted(int steps, double shift) {
        if (steps < 1) throw new IllegalArgumentException("steps T must be >= 1, got " + steps);
        checkShift(shift);
        double[] s = new double[steps + 1];
        for (int i = 0; i <= steps; i++) s[i] = shift(1.0 - (double) i / steps, shift);
        s[0] = 1.0;
        s[steps] = 0.0;
        return new FlowSchedule(s);
    }

    /** The SD3 time shift {@code k s / (1 + (k - 1) s)}. */
    public static double shift(double sigma, double k) {
        checkShift(k);
        return k * sigma / (1 + (k - 1) * sigma);
    }

    private static void checkShift(double k) {
        if (!(k > 0) || Double.isInfinite(k)) throw new IllegalArgumentException("shift k must be finite and > 0, got " + k);
    }

    /** Number of steps T. */
    public int steps() {
        return sigmas.length - 1;
    }

    public double sigma(int i) {
        return sigmas[i];
    }

    @Override
    public double[] sigmas() {
        return sigmas.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowSchedule f && Arrays.equals(sigmas, f.sigmas);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sigmas);
    }

    @Override
    public String toString() {
        return "FlowSchedule" + Arrays.toString(sigmas);
    }
}
