package io.progrpo.app.study;

import io.progrpo.app.report.PairedComparison;

import java.util.Objects;

/**
 * The study's statistics beside {@link PairedComparison} (which gives the paired differences and verdicts):
 * an arm's mean over seeds with its standard error and 95 % Student-t interval, and an evaluation's own measurement
 * error.
 */
public final class StudyStats {
    private StudyStats() {}

    /**
     * Values over seeds: mean, sample standard deviation (n - 1), standard error sd / sqrt(n), and the 95 % interval
     * mean +- t_{0.975, n-1} SE (NaN below 2 values).
     */
    public record Summary(int n, double mean, double sd, double se, double low, double high) {
        /** "0.6512 ± 0.0040" (mean ± SE), or the mean alone for one value, or "–" for none. */
        public String meanSe(int decimals) {
            if (n == 0) return "–";
            String f = "%." + decimals + "f";
            return n < 2 ? String.format(java.util.Locale.ROOT, f, mean)
                    : String.format(java.util.Locale.ROOT, f + " ± " + f, mean, se);
        }
    }

    /** The summary of {@code v}; an empty array gives n = 0 and NaN everywhere. */
    public static Summary summary(double[] v) {
        Objects.requireNonNull(v, "values");
        int n = v.length;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(v[i])) throw new IllegalArgumentException("value " + i + " must be finite, got " + v[i]);
        }
        if (n == 0) return new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double mean = 0;
        for (double x : v) mean += x;
        mean /= n;
        if (n < 2) return new Summary(1, mean, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        double sd = Math.sqrt(ss / (n - 1));
        double se = sd / Math.sqrt(n);
        double t = PairedComparison.tQuantile975(n - 1);
        return new Summary(n, mean, sd, se, mean - t * se, mean + t * se);
    }

    /**
     * One evaluation's figure and its own measurement error, from the scores of S deterministic samples of each of
     * P held-out prompts:
     * <pre>
     *   mean       = (1 / PS) sum_p sum_j r_pj
     *   se_noise   = sqrt( sum_p s_p^2 / S ) / P      s_p^2 the sample variance (S - 1) of prompt p's S scores:
     *                                                 the error of the mean over the noise draws, prompts fixed
     *   se_prompts = sd_p(m_p) / sqrt(P)             m_p prompt p's mean: the error over prompts drawn at random
     * </pre>
     * se_noise is NaN below 2 samples per prompt, se_prompts below 2 prompts.
     */
    public record Measurement(double mean, double seNoise, double sePrompts, int prompts, int samplesPerPrompt) {}

    /**
     * The measurement of {@code scores[p][j]} (prompt p, sample j).
     *
     * @throws IllegalArgumentException when there is no prompt, a prompt has another number of samples than the first,
     *                                  or a score is not finite
     */
    public static Measurement measurement(double[][] scores) {
        Objects.requireNonNull(scores, "scores");
        int p = scores.length;
        if (p == 0) throw new IllegalArgumentException("an evaluation needs at least one prompt, got none");
        int s = scores[0].length;
        if (s == 0) throw new IllegalArgumentException("an evaluation needs at least one sample per prompt, got none");
        double total = 0;
        double within = 0;
        double[] means = new double[p];
        for (int i = 0; i < p; i++) {
            if (scores[i].length != s) {
                throw new IllegalArgumentException("every prompt needs " + s + " samples (as prompt 0), prompt " + i + " has " + scores[i].length);
            }
            double m = 0;
            for (int j = 0; j < s; j++) {
                if (!Double.isFinite(scores[i][j])) {
                    throw new IllegalArgumentException("score of prompt " + i + ", sample " + j + " must be finite, got " + scores[i][j]);
                }
                m += scores[i][j];
            }
            total += m;
            m /= s;
            means[i] = m;
            if (s > 1) {
                double ss = 0;
                for (int j = 0; j < s; j++) ss += (scores[i][j] - m) * (scores[i][j] - m);
                within += ss / (s - 1);
            }
        }
        double seNoise = s > 1 ? Math.sqrt(within / s) / p : Double.NaN;
        double sePrompts = p > 1 ? summary(means).se() : Double.NaN;
        return new Measurement(total / ((double) p * s), seNoise, sePrompts, p, s);
    }

    /** The rows {@code p * samplesPerPrompt .. + samplesPerPrompt - 1} of {@code flat} as prompt p's scores. */
    public static double[][] byPrompt(double[] flat, int samplesPerPrompt) {
        if (samplesPerPrompt < 1 || flat.length % samplesPerPrompt != 0) {
            throw new IllegalArgumentException("expected a multiple of " + samplesPerPrompt + " scores (samples per prompt), got " + flat.length);
        }
        double[][] out = new double[flat.length / samplesPerPrompt][samplesPerPrompt];
        for (int i = 0; i < flat.length; i++) out[i / samplesPerPrompt][i % samplesPerPrompt] = flat[i];
        return out;
    }
}
