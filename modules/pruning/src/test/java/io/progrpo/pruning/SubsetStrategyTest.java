package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class SubsetStrategyTest {

    @Test
    void looksUpEveryBuiltInByName() {
        assertEquals(List.of("ovf", "uniform", "extremes", "none"), SubsetStrategy.names());
        assertSame(SubsetStrategy.OVF, SubsetStrategy.byName("ovf"));
        assertSame(SubsetStrategy.UNIFORM, SubsetStrategy.byName("uniform"));
        assertSame(SubsetStrategy.EXTREMES, SubsetStrategy.byName("extremes"));
        assertSame(SubsetStrategy.NONE, SubsetStrategy.byName("none"));
        for (String n : SubsetStrategy.names()) {
            assertEquals(n, SubsetStrategy.byName(n).name());
        }
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SubsetStrategy.byName("random"));
        assertTrue(e.getMessage().contains("'random'"), e.getMessage());
        for (String n : SubsetStrategy.names()) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> SubsetStrategy.byName(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void ovfStrategyIsTheFilter() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int t = 0; t < 50; t++) {
            double[] r = OptimalVarianceFilterTest.rewards(rnd, 2 + rnd.nextInt(60), t % 5);
            int k = 1 + rnd.nextInt(r.length);
            assertArrayEquals(OptimalVarianceFilter.select(r, k), SubsetStrategy.OVF.select(r, k, null));
        }
    }

    @Test
    void uniformIsReproducibleWithASeedAndCoversIndicesEvenly() {
        double[] r = OptimalVarianceFilterTest.rewards(new SplittableRandom(1), 24, 0);
        int k = 12;
        int[] a = SubsetStrategy.UNIFORM.select(r, k, new SplittableRandom(99));
        int[] b = SubsetStrategy.UNIFORM.select(r, k, new SplittableRandom(99));
        assertArrayEquals(a, b);
        OptimalVarianceFilterTest.assertValidSubset(a, k, r.length);

        RandomGenerator rng = new SplittableRandom(123);
        int draws = 20_000;
        int[] hits = new int[r.length];
        boolean differs = false;
        for (int d = 0; d < draws; d++) {
            int[] s = SubsetStrategy.UNIFORM.select(r, k, rng);
            OptimalVarianceFilterTest.assertValidSubset(s, k, r.length);
            differs |= !Arrays.equals(s, a);
            for (int i : s) {
                hits[i]++;
            }
        }
        assertTrue(differs, "different draws must give different subsets");
        double expected = (double) draws * k / r.length; // 10_000; binomial sd ~ 71
        for (int i = 0; i < r.length; i++) {
            assertEquals(expected, hits[i], 0.05 * expected, "index " + i + " chosen " + hits[i] + " times");
        }
        assertArrayEquals(new int[] {0, 1, 2}, SubsetStrategy.UNIFORM.select(new double[] {5, 6, 7}, 3, rng));
    }

    @Test
    void uniformNeedsAGenerator() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SubsetStrategy.UNIFORM.select(new double[] {1, 2, 3}, 2, null));
        assertTrue(e.getMessage().contains("uniform") && e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void extremesTakesHalfLowestAndTheRestHighest() {
        SplittableRandom rnd = new SplittableRandom(17);
        for (int t = 0; t < 200; t++) {
            int g = 2 + rnd.nextInt(40);
            double[] r = new double[g];
            for (int i = 0; i < g; i++) {
                r[i] = rnd.nextGaussian(); // distinct with probability 1, so "lowest" is unambiguous
            }
            int k = 1 + rnd.nextInt(g);
            double[] sorted = r.clone();
            Arrays.sort(sorted);
            int low = k / 2;
            int high = k - low;
            int[] expected = new int[k];
            int n = 0;
            for (int i = 0; i < g; i++) {
                int rank = Arrays.binarySearch(sorted, r[i]);
                if (rank < low || rank >= g - high) {
                    expected[n++] = i;
                }
            }
            assertEquals(k, n);
            assertArrayEquals(expected, SubsetStrategy.EXTREMES.select(r, k, null), "G=" + g + " k=" + k);
        }
        // Ties: equal rewards are ordered by index, as in OVF.
        assertArrayEquals(new int[] {0, 1, 3, 4}, SubsetStrategy.EXTREMES.select(new double[] {0, 0, 0, 1, 1}, 4, null));
    }

    @Test
    void noneKeepsAllAndRejectsPruning() {
        assertArrayEquals(new int[] {0, 1, 2}, SubsetStrategy.NONE.select(new double[] {3, 2, 1}, 3, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SubsetStrategy.NONE.select(new double[] {3, 2, 1}, 2, null));
        assertTrue(e.getMessage().contains("k = 2") && e.getMessage().contains("G = 3"), e.getMessage());
    }

    @Test
    void everyStrategyRejectsBadRewardsAndK() {
        RandomGenerator rng = new SplittableRandom(0);
        for (String n : SubsetStrategy.names()) {
            SubsetStrategy s = SubsetStrategy.byName(n);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.select(new double[] {1, Double.NaN, 2}, 3, rng));
            assertTrue(e.getMessage().contains("rewards[1]") && e.getMessage().contains("NaN"), n + ": " + e);
            e = assertThrows(IllegalArgumentException.class, () -> s.select(new double[] {1, 2}, 0, rng));
            assertTrue(e.getMessage().contains("k = 0"), n + ": " + e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> s.select(new double[] {1, 2}, 3, rng));
            assertTrue(e.getMessage().contains("k = 3"), n + ": " + e.getMessage());
        }
        assertFalse(SubsetStrategy.OVF.equals(SubsetStrategy.UNIFORM));
    }
}
