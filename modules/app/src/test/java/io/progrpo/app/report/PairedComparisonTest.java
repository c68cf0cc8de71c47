package io.progrpo.app.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.report.PairedComparison.Verdict;

import java.util.Random;

import org.junit.jupiter.api.Test;

class PairedComparisonTest {
    /** Published 0.975 quantiles of Student's t (two-sided 95 %). */
    @Test
    void tQuantilesMatchTheTables() {
        double[][] table = {{1, 12.7062}, {2, 4.3027}, {4, 2.7764}, {9, 2.2622}, {19, 2.0930}, {29, 2.0452}, {1000, 1.9623}};
        for (double[] row : table) assertEquals(row[1], PairedComparison.tQuantile975((int) row[0]), 1e-4, "df " + row[0]);
    }

    @Test
    void meanStandardErrorAndIntervalAreRecomputedIndependently() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 2 + rnd.nextInt(15);
            double[] a = new double[n];
            double[] b = new double[n];
            for (int i = 0; i < n; i++) {
                b[i] = rnd.nextGaussian();
                a[i] = b[i] + 0.3 * rnd.nextGaussian() + (rnd.nextBoolean() ? 0.2 : -0.2);
            }
            // two-pass in a different order: sum of squares about the mean via E[d^2] - E[d]^2 in long double style
            double s1 = 0;
            double s2 = 0;
            for (int i = n - 1; i >= 0; i--) {
                double d = a[i] - b[i];
                s1 += d;
                s2 += d * d;
            }
            double mean = s1 / n;
            double var = (s2 - n * mean * mean) / (n - 1);
            double se = Math.sqrt(var / n);
            PairedComparison c = PairedComparison.of(a, b);
            assertEquals(n, c.seeds());
            assertEquals(mean, c.mean(), 1e-12);
            assertEquals(se, c.se(), 1e-9);
            double t = PairedComparison.tQuantile975(n - 1);
            assertEquals(mean - t * se, c.low(), 1e-9);
            assertEquals(mean + t * se, c.high(), 1e-9);
            Verdict expect = mean - t * se > 0 ? Verdict.HELD : mean + t * se < 0 ? Verdict.REVERSED : Verdict.INCONCLUSIVE;
            assertEquals(expect, c.verdict());
        }
    }

    @Test
    void verdicts() {
        assertEquals(Verdict.HELD, PairedComparison.of(new double[] {1.1, 1.2, 1.15}, new double[] {1.0, 1.05, 1.0}).verdict());
        assertEquals(Verdict.REVERSED, PairedComparison.of(new double[] {0.9, 0.95, 0.92}, new double[] {1.0, 1.05, 1.0}).verdict());
        assertEquals(Verdict.INCONCLUSIVE, PairedComparison.of(new double[] {1.1, 0.9, 1.0}, new double[] {1.0, 1.0, 1.0}).verdict());
        // a difference of exactly zero on every seed is no evidence either way
        assertEquals(Verdict.INCONCLUSIVE, PairedComparison.of(new double[] {1, 2}, new double[] {1, 2}).verdict());
        PairedComparison one = PairedComparison.of(new double[] {0.5}, new double[] {0.4});
        assertEquals(Verdict.NOT_TESTABLE, one.verdict());
        assertTrue(one.describe().startsWith("not testable"), one.describe());
        assertTrue(PairedComparison.of(new double[] {1.1, 1.2, 1.15}, new double[] {1.0, 1.05, 1.0}).describe()
                .matches("held \\(difference \\+0\\.1333 \\+- 0\\.\\d{4} SE, 95 % CI \\[\\+0\\.\\d{4}, \\+0\\.\\d{4}\\], 3 paired seeds\\)"));
    }

    @Test
    void badInputIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> PairedComparison.of(new double[] {1, 2}, new double[] {1}));
        assertTrue(e.getMessage().contains("2 values") && e.getMessage().contains("baseline 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PairedComparison.of(new double[] {1, Double.NaN}, new double[] {1, 2}));
        assertTrue(e.getMessage().contains("seed index 1") && e.getMessage().contains("NaN"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PairedComparison.of(new double[0], new double[0]));
    }
}
