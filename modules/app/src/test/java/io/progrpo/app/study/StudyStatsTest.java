package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.report.PairedComparison;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The study's estimators against independent recomputations on random inputs, and the t quantiles against tables. */
class StudyStatsTest {
    /** Two-sided 95 % quantiles of Student's t from the published tables (t_{0.975, df}). */
    @Test
    void tQuantilesMatchTheTables() {
        double[][] table = {{1, 12.7062}, {2, 4.3027}, {3, 3.1824}, {4, 2.7764}, {5, 2.5706}, {9, 2.2622}, {10, 2.2281}, {14, 2.1448},
                {20, 2.0860}, {29, 2.0452}, {60, 2.0003}};
        for (double[] row : table) assertEquals(row[1], PairedComparison.tQuantile975((int) row[0]), 1e-4, "df " + row[0]);
    }

    @Test
    void summaryIsRecomputedIndependently() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int n = 2 + rnd.nextInt(25);
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = 0.5 + 0.1 * rnd.nextGaussian();
            // one pass of sums of x and x^2 (the shortcut formula, not the two-pass one the class uses)
            double s1 = 0;
            double s2 = 0;
            for (double x : v) {
                s1 += x;
                s2 += x * x;
            }
            double mean = s1 / n;
            double var = (s2 - s1 * s1 / n) / (n - 1);
            double se = Math.sqrt(var / n);
            double t = PairedComparison.tQuantile975(n - 1);
            StudyStats.Summary s = StudyStats.summary(v);
            assertEquals(n, s.n());
            assertEquals(mean, s.mean(), 1e-12);
            assertEquals(Math.sqrt(var), s.sd(), 1e-9);
            assertEquals(se, s.se(), 1e-9);
            assertEquals(mean - t * se, s.low(), 1e-9);
            assertEquals(mean + t * se, s.high(), 1e-9);
        }
        StudyStats.Summary one = StudyStats.summary(new double[] {0.7});
        assertEquals(0.7, one.mean());
        assertTrue(Double.isNaN(one.se()) && Double.isNaN(one.low()), "no spread from one value");
        assertEquals("0.7000", one.meanSe(4));
        assertEquals(0, StudyStats.summary(new double[0]).n());
    }

    @Test
    void measurementErrorsAreRecomputedIndependently() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 200; trial++) {
            int p = 2 + rnd.nextInt(12);
            int s = 2 + rnd.nextInt(6);
            double[] flat = new double[p * s];
            for (int i = 0; i < flat.length; i++) flat[i] = (i / s) * 0.01 + 0.05 * rnd.nextGaussian();
            // the variance of the grand mean over the noise draws: sum over prompts of (prompt variance / S), over P^2;
            // each prompt variance here from the pairwise form (1 / (2 S (S - 1))) sum_{j,k} (r_j - r_k)^2
            double varOfMean = 0;
            double[] means = new double[p];
            double grand = 0;
            for (int a = 0; a < p; a++) {
                double pair = 0;
                for (int j = 0; j < s; j++) {
                    for (int k = 0; k < s; k++) pair += Math.pow(flat[a * s + j] - flat[a * s + k], 2);
                    means[a] += flat[a * s + j] / s;
                    grand += flat[a * s + j];
                }
                varOfMean += pair / (2.0 * s * (s - 1)) / s;
            }
            varOfMean /= (double) p * p;
            grand /= p * s;
            double pair = 0;
            for (double x : means) for (double y : means) pair += (x - y) * (x - y);
            double sePrompts = Math.sqrt(pair / (2.0 * p * (p - 1)) / p);
            StudyStats.Measurement m = StudyStats.measurement(StudyStats.byPrompt(flat, s));
            assertEquals(grand, m.mean(), 1e-12);
            assertEquals(Math.sqrt(varOfMean), m.seNoise(), 1e-10);
            assertEquals(sePrompts, m.sePrompts(), 1e-10);
            assertEquals(p, m.prompts());
            assertEquals(s, m.samplesPerPrompt());
        }
    }

    @Test
    void oneSampleOrOnePromptHasNoSpreadOfThatKind() {
        StudyStats.Measurement m = StudyStats.measurement(new double[][] {{1}, {3}});
        assertEquals(2, m.mean());
        assertTrue(Double.isNaN(m.seNoise()), "one sample per prompt: no noise spread");
        assertEquals(1, m.sePrompts(), 1e-12);
        m = StudyStats.measurement(new double[][] {{1, 2, 3}});
        assertTrue(Double.isNaN(m.sePrompts()), "one prompt: no prompt spread");
        assertEquals(Math.sqrt(1.0 / 3), m.seNoise(), 1e-12);
    }

    @Test
    void badInputIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> StudyStats.measurement(new double[][] {{1, 2}, {3}}));
        assertTrue(e.getMessage().contains("2 samples") && e.getMessage().contains("prompt 1 has 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudyStats.measurement(new double[][] {{1, Double.NaN}}));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StudyStats.measurement(new double[0][]));
        e = assertThrows(IllegalArgumentException.class, () -> StudyStats.byPrompt(new double[5], 4));
        assertTrue(e.getMessage().contains("multiple of 4") && e.getMessage().contains("got 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudyStats.summary(new double[] {1, Double.POSITIVE_INFINITY}));
        assertTrue(e.getMessage().contains("Infinity"), e.getMessage());
    }
}
