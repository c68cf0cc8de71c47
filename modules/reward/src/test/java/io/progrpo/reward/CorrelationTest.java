package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * Pearson and Spearman against independent recomputations in plain double: Pearson by the one-pass sums formula,
 * Spearman by the closed form 1 - 6 sum d^2 / (n (n^2 - 1)) without ties and, with ties, by counting ranks directly
 * (rank = #smaller + (#equal - 1) / 2) and correlating them with the one-pass formula.
 */
class CorrelationTest {
    /** n sum xy - sum x sum y over sqrt((n sum x^2 - (sum x)^2)(n sum y^2 - (sum y)^2)). */
    static double onePassPearson(double[] x, double[] y) {
        double n = x.length, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < x.length; i++) {
            sx += x[i];
            sy += y[i];
            sxx += x[i] * x[i];
            syy += y[i] * y[i];
            sxy += x[i] * y[i];
        }
        return (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    }

    static double[] countedRanks(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int less = 0;
            int equal = 0;
            for (double w : v) {
                if (w < v[i]) less++;
                else if (w == v[i]) equal++;
            }
            r[i] = less + (equal - 1) / 2.0;
        }
        return r;
    }

    @Test
    void pearsonMatchesTheOnePassFormulaOnRandomVectors() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + rnd.nextInt(40);
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextGaussian();
                y[i] = 0.5 * x[i] + rnd.nextGaussian();
            }
            assertEquals(onePassPearson(x, y), Correlation.pearson(x, y), 1e-9, "n = " + n);
        }
    }

    @Test
    void spearmanWithoutTiesMatchesTheClosedForm() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 50; trial++) {
            int n = 3 + rnd.nextInt(40);
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextGaussian();
                y[i] = Math.exp(x[i]) + rnd.nextGaussian();
            }
            double[] rx = countedRanks(x);
            double[] ry = countedRanks(y);
            double d2 = 0;
            for (int i = 0; i < n; i++) d2 += (rx[i] - ry[i]) * (rx[i] - ry[i]);
            assertEquals(1 - 6 * d2 / (n * ((double) n * n - 1)), Correlation.spearman(x, y), 1e-9, "n = " + n);
        }
    }

    @Test
    void spearmanWithTiesMatchesCountedRanks() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 50; trial++) {
            int n = 3 + rnd.nextInt(30);
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextInt(4);          // many ties
                y[i] = x[i] + rnd.nextInt(3);
            }
            assertArrayEquals(countedRanks(x), Correlation.ranks(x), 0.0);
            double expected = onePassPearson(countedRanks(x), countedRanks(y));
            double got = Correlation.spearman(x, y);
            if (Double.isNaN(expected)) assertTrue(Double.isNaN(got), "constant side: NaN, got " + got);
            else assertEquals(expected, got, 1e-9, "n = " + n);
        }
        assertArrayEquals(new double[] {0, 1.5, 1.5, 3}, Correlation.ranks(new double[] {1, 2, 2, 3}), 0.0);
        assertEquals(1.0, Correlation.spearman(new double[] {1, 2, 2, 3}, new double[] {5, 6, 6, 9}), 1e-12);
        assertTrue(Double.isNaN(Correlation.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
    }

    @Test
    void badInputIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Correlation.spearman(new double[2], new double[3]));
        assertTrue(e.getMessage().contains("2 and 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Correlation.ranks(new double[] {1, Double.NaN}));
        assertTrue(e.getMessage().contains("NaN at index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Correlation.spearman(null, new double[1]));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }
}
