package io.progrpo.app.report;

import org.apache.commons.math3.distribution.TDistribution;

import java.util.Locale;
import java.util.Objects;

/**
 * A claim "method beats baseline" tested on paired seeds, as the spec's section 8 asks: the per-seed differences
 * d_s = method_s - baseline_s, their mean, the standard error sd(d) / sqrt(n) (sample std, n - 1), and the 95 %
 * Student-t interval mean +- t_{0.975, n-1} SE. The verdict is {@code held} when the interval lies above 0,
 * {@code reversed} when it lies below, {@code inconclusive} when it contains 0, and {@code not testable} below 2 seeds.
 *
 * @param seeds   paired seeds n
 * @param mean    mean paired difference
 * @param se      its standard error (NaN below 2 seeds)
 * @param low     lower end of the 95 % interval (NaN below 2 seeds)
 * @param high    upper end of the 95 % interval (NaN below 2 seeds)
 * @param verdict what the interval says
 */
public record PairedComparison(int seeds, double mean, double se, double low, double high, Verdict verdict) {
    /** The outcome of a paired test. */
    public enum Verdict {
        HELD("held"), REVERSED("reversed"), INCONCLUSIVE("inconclusive"), NOT_TESTABLE("not testable");

        private final String text;

        Verdict(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * Compares {@code method} with {@code baseline}, index s of both being seed s.
     *
     * @throws IllegalArgumentException when the lengths differ, no seed is given, or a value is not finite
     */
    public static PairedComparison of(double[] method, double[] baseline) {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(baseline, "baseline");
        if (method.length != baseline.length) {
            throw new IllegalArgumentException("paired seeds: the method has " + method.length + " values and the baseline "
                    + baseline.length + "; every arm must run the same seeds");
        }
        int n = method.length;
        if (n == 0) throw new IllegalArgumentException("paired seeds: no seed to compare");
        double[] d = new double[n];
        for (int s = 0; s < n; s++) {
            if (!Double.isFinite(method[s]) || !Double.isFinite(baseline[s])) {
                throw new IllegalArgumentException("paired seeds: seed index " + s + " has a non-finite value (method "
                        + method[s] + ", baseline " + baseline[s] + ")");
            }
            d[s] = method[s] - baseline[s];
        }
        double mean = 0;
        for (double v : d) mean += v;
        mean /= n;
        if (n < 2) return new PairedComparison(n, mean, Double.NaN, Double.NaN, Double.NaN, Verdict.NOT_TESTABLE);
        double ss = 0;
        for (double v : d) ss += (v - mean) * (v - mean);
        double se = Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
        double t = tQuantile975(n - 1);
        double low = mean - t * se;
        double high = mean + t * se;
        Verdict v = low > 0 ? Verdict.HELD : high < 0 ? Verdict.REVERSED : Verdict.INCONCLUSIVE;
        return new PairedComparison(n, mean, se, low, high, v);
    }

    /** The 0.975 quantile of Student's t with {@code df} degrees of freedom (12.706 at 1, 2.262 at 9, 1.96 at infinity). */
    public static double tQuantile975(int df) {
        return new TDistribution(null, df).inverseCumulativeProbability(0.975);
    }

    /** "held (difference +0.0123 +- 0.0040 SE, 95 % CI [+0.0033, +0.0213], 5 paired seeds)". */
    public String describe() {
        if (verdict == Verdict.NOT_TESTABLE) {
            return String.format(Locale.ROOT, "not testable (difference %+.4f, %d seed%s; a verdict needs >= 2 paired seeds)",
                    mean, seeds, seeds == 1 ? "" : "s");
        }
        return String.format(Locale.ROOT, "%s (difference %+.4f +- %.4f SE, 95 %% CI [%+.4f, %+.4f], %d paired seeds)",
                verdict, mean, se, low, high, seeds);
    }
}
