package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OptimalVarianceFilterTest {

    /** Population variance, plain two-pass in double: the test's independent reference. */
    static double refVariance(double[] r, int[] subset) {
        double sum = 0;
        for (int i : subset) {
            sum += r[i];
        }
        double mean = sum / subset.length;
        double sq = 0;
        for (int i : subset) {
            sq += (r[i] - mean) * (r[i] - mean);
        }
        return sq / subset.length;
    }

    /** Reward generators: continuous, rounded (many ties), three levels (heavy ties), constant, bimodal. */
    static double[] rewards(SplittableRandom rnd, int g, int kind) {
        double[] r = new double[g];
        for (int i = 0; i < g; i++) {
            r[i] = switch (kind) {
                case 0 -> rnd.nextDouble();
                case 1 -> Math.round(rnd.nextDouble() * 10) / 10.0;
                case 2 -> rnd.nextInt(3);
                case 3 -> 0.3;
                default -> (rnd.nextBoolean() ? 5 : -5) + 0.01 * rnd.nextGaussian();
            };
        }
        return r;
    }

    static void assertValidSubset(int[] s, int k, int g) {
        assertEquals(k, s.length, "subset size");
        for (int p = 0; p < s.length; p++) {
            int at = p;
            assertTrue(s[p] >= 0 && s[p] < g, () -> "index in range: " + s[at]);
            if (p > 0) {
                assertTrue(s[p] > s[p - 1], () -> "ascending and distinct at position " + at);
            }
        }
    }

    @Test
    void matchesBruteForceOverAllSubsetsForEveryGUpTo14AndEveryK() {
        SplittableRandom rnd = new SplittableRandom(20251215L);
        int checked = 0;
        for (int g = 1; g <= 14; g++) {
            int trials = g <= 10 ? 12 : 4;
            for (int kind = 0; kind < 5; kind++) {
                for (int trial = 0; trial < trials; trial++) {
                    double[] r = rewards(rnd, g, kind);
                    // Brute force: best variance for every subset size in one pass over all 2^G masks.
                    double[] best = new double[g + 1];
                    Arrays.fill(best, Double.NEGATIVE_INFINITY);
                    int[] buf = new int[g];
                    for (int mask = 1; mask < (1 << g); mask++) {
                        int n = 0;
                        for (int i = 0; i < g; i++) {
                            if ((mask & (1 << i)) != 0) {
                                buf[n++] = i;
                            }
                        }
                        best[n] = Math.max(best[n], refVariance(r, Arrays.copyOf(buf, n)));
                    }
                    for (int k = 1; k <= g; k++) {
                        int[] s = OptimalVarianceFilter.select(r, k);
                        assertValidSubset(s, k, g);
                        double v = refVariance(r, s);
                        // 1e-12 relative; the absolute floor only matters for constant groups (variance ~ 0).
                        assertEquals(best[k], v, 1e-12 * best[k] + 1e-24,
                                () -> "G=" + r.length + " k=" + s.length + " r=" + Arrays.toString(r)
                                        + " chose " + Arrays.toString(s));
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 3000, "checked " + checked);
    }

    @Test
    void varianceHelperMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            int g = 1 + rnd.nextInt(40);
            double[] r = rewards(rnd, g, trial % 5);
            int k = 1 + rnd.nextInt(g);
            int[] s = SubsetStrategy.UNIFORM.select(r, k, rnd);
            double ref = refVariance(r, s);
            assertEquals(ref, OptimalVarianceFilter.variance(r, s), 1e-12 * ref + 1e-24);
        }
        assertEquals(0.0, OptimalVarianceFilter.variance(new double[] {0.3, 0.3, 0.3}, new int[] {0, 1, 2}));
        assertEquals(1.0, OptimalVarianceFilter.variance(new double[] {-1, 7, 1}, new int[] {2, 0}));
    }

    @Test
    void kEqualsGReturnsEveryIndex() {
        assertArrayEquals(new int[] {0, 1, 2, 3}, OptimalVarianceFilter.select(new double[] {3, 1, 2, 0}, 4));
        assertArrayEquals(new int[] {0}, OptimalVarianceFilter.select(new double[] {42}, 1));
    }

    @Test
    void tieBreakingIsDocumentedAndDeterministic() {
        // Equal variances for j = 1 ({0,2,3}) and j = 2 ({0,1,3}): the smallest j wins.
        assertArrayEquals(new int[] {0, 2, 3}, OptimalVarianceFilter.select(new double[] {0, 1, 2, 3}, 3));
        // All rewards equal: every candidate has variance 0, j = 0 takes the k "highest", i.e. the highest indices
        // since equal rewards are ordered by index.
        assertArrayEquals(new int[] {2, 3, 4}, OptimalVarianceFilter.select(new double[] {1, 1, 1, 1, 1}, 3));
        // Ties inside the sort: the lower index counts as the lower reward.
        assertArrayEquals(new int[] {0, 3}, OptimalVarianceFilter.select(new double[] {0, 0, 1, 1}, 2));
        // The same call twice gives the same answer.
        double[] r = rewards(new SplittableRandom(3), 50, 1);
        assertArrayEquals(OptimalVarianceFilter.select(r, 17), OptimalVarianceFilter.select(r, 17));
    }

    @Test
    void hugeOffsetDoesNotCancel() {
        SplittableRandom rnd = new SplittableRandom(11);
        int g = 48;
        double offset = 1e9;
        double[] noise = new double[g];
        double[] shifted = new double[g];
        for (int i = 0; i < g; i++) {
            // Multiples of 2^-7 are exact next to 1e9 (ulp 1.2e-7), so shifted[i] - offset == noise[i] exactly.
            noise[i] = rnd.nextInt(1000) / 128.0;
            shifted[i] = offset + noise[i];
            assertEquals(noise[i], shifted[i] - offset);
        }
        for (int k : new int[] {2, 8, 12, 24, 47}) {
            int[] a = OptimalVarianceFilter.select(shifted, k);
            int[] b = OptimalVarianceFilter.select(noise, k);
            assertArrayEquals(b, a, "k=" + k);
            double vNoise = refVariance(noise, b);
            assertEquals(vNoise, OptimalVarianceFilter.variance(shifted, a), 1e-9 * vNoise, "k=" + k);
            // The naive E[r^2] - E[r]^2 is far off here, which is what this test guards against.
            double s1 = 0, s2 = 0;
            for (int i : a) {
                s1 += shifted[i];
                s2 += shifted[i] * shifted[i];
            }
            double naive = s2 / k - (s1 / k) * (s1 / k);
            assertTrue(Math.abs(naive - vNoise) > 1e-3 * vNoise, "naive formula unexpectedly exact: " + naive);
        }
    }

    @Test
    void millionRewardsRunAndBeatExtremes() {
        SplittableRandom rnd = new SplittableRandom(1_000_000);
        int g = 1_000_000;
        double[] r = new double[g];
        for (int i = 0; i < g; i++) {
            // Skewed, with ties, so that the best j is not k/2.
            r[i] = Math.round(Math.exp(rnd.nextGaussian()) * 1000) / 1000.0;
        }
        for (int k : new int[] {12, 1000, 500_000}) {
            int[] s = OptimalVarianceFilter.select(r, k);
            assertValidSubset(s, k, g);
            double v = OptimalVarianceFilter.variance(r, s);
            double ve = OptimalVarianceFilter.variance(r, SubsetStrategy.EXTREMES.select(r, k, null));
            assertTrue(v >= ve, "k=" + k + ": ovf " + v + " < extremes " + ve);
        }
    }

    @Test
    void rejectsBadK() {
        double[] r = {1, 2, 3};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimalVarianceFilter.select(r, 0));
        assertTrue(e.getMessage().contains("k = 0") && e.getMessage().contains("G = 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.select(r, 4));
        assertTrue(e.getMessage().contains("k = 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.select(r, -2));
        assertTrue(e.getMessage().contains("k = -2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.select(new double[0], 1));
        assertTrue(e.getMessage().contains("G = 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.select(null, 1));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void rejectsNonFiniteRewardsNamingIndexAndValue() {
        double[][] bad = {
            {0, 1, 2, Double.NaN, 4},
            {0, 1, 2, Double.POSITIVE_INFINITY, 4},
            {0, 1, 2, Double.NEGATIVE_INFINITY, 4},
        };
        String[] shown = {"NaN", "Infinity", "-Infinity"};
        for (int c = 0; c < bad.length; c++) {
            double[] r = bad[c];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OptimalVarianceFilter.select(r, 2));
            assertTrue(e.getMessage().contains("rewards[3]") && e.getMessage().contains(shown[c]), e.getMessage());
            // k == G takes the early exit, but still validates.
            e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.select(r, 5));
            assertTrue(e.getMessage().contains("rewards[3]"), e.getMessage());
        }
    }

    @Test
    void varianceRejectsBadSubsets() {
        double[] r = {1, 2, Double.NaN};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimalVarianceFilter.variance(r, new int[0]));
        assertTrue(e.getMessage().contains("length 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.variance(r, new int[] {0, 5}));
        assertTrue(e.getMessage().contains("subset[1]") && e.getMessage().contains("5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.variance(r, new int[] {1, 1}));
        assertTrue(e.getMessage().contains("repeats index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimalVarianceFilter.variance(r, new int[] {0, 2}));
        assertTrue(e.getMessage().contains("rewards[2]") && e.getMessage().contains("NaN"), e.getMessage());
    }
}
