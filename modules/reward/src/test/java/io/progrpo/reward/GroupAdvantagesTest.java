package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.GroupAdvantages.Centring;
import io.progrpo.reward.GroupAdvantages.StdMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class GroupAdvantagesTest {

    /** Independent reference: plain loops over each group id, population std, as numpy would compute it. */
    static double[] reference(double[] r, int[] ids, boolean global, double clip, double eps) {
        int n = r.length;
        double gsum = 0;
        for (double x : r) {
            gsum += x;
        }
        double gmean = gsum / n;
        double gsq = 0;
        for (double x : r) {
            gsq += (x - gmean) * (x - gmean);
        }
        double gstd = Math.sqrt(gsq / n);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            int cnt = 0;
            for (int j = 0; j < n; j++) {
                if (ids[j] == ids[i]) {
                    sum += r[j];
                    cnt++;
                }
            }
            double mean = sum / cnt;
            double sq = 0;
            for (int j = 0; j < n; j++) {
                if (ids[j] == ids[i]) {
                    sq += (r[j] - mean) * (r[j] - mean);
                }
            }
            double std = global ? gstd : Math.sqrt(sq / cnt);
            double z = (r[i] - mean) / (std + eps);
            a[i] = Math.max(-clip, Math.min(clip, z));
        }
        return a;
    }

    /** Random batch: groups of random size in shuffled order, some constant, some with one far outlier. */
    static Object[] batch(SplittableRandom rnd) {
        int groups = 1 + rnd.nextInt(8);
        int[] sizes = new int[groups];
        int n = 0;
        for (int g = 0; g < groups; g++) {
            sizes[g] = 1 + rnd.nextInt(30);
            n += sizes[g];
        }
        double[] r = new double[n];
        int[] ids = new int[n];
        int p = 0;
        for (int g = 0; g < groups; g++) {
            int id = rnd.nextInt(1000) * 10 + g; // arbitrary, distinct ids
            int kind = rnd.nextInt(4);
            double base = rnd.nextGaussian() * 3;
            for (int m = 0; m < sizes[g]; m++) {
                ids[p] = id;
                r[p] = switch (kind) {
                    case 0 -> base + rnd.nextGaussian();
                    case 1 -> base; // zero-std group
                    case 2 -> m == 0 ? base + 1 : base; // one outlier: z = sqrt(n - 1), clipped for n > 26
                    default -> Math.round(rnd.nextDouble() * 4) / 4.0;
                };
                p++;
            }
        }
        for (int i = n - 1; i > 0; i--) { // shuffle so groups interleave
            int j = rnd.nextInt(i + 1);
            double tr = r[i];
            r[i] = r[j];
            r[j] = tr;
            int ti = ids[i];
            ids[i] = ids[j];
            ids[j] = ti;
        }
        return new Object[] {r, ids};
    }

    @Test
    void matchesReferenceOnRandomBatchesInBothStdModes() {
        SplittableRandom rnd = new SplittableRandom(2505);
        int clipped = 0;
        int zero = 0;
        for (int trial = 0; trial < 400; trial++) {
            Object[] b = batch(rnd);
            double[] r = (double[]) b[0];
            int[] ids = (int[]) b[1];
            for (StdMode mode : StdMode.values()) {
                double[] expected = reference(r, ids, mode == StdMode.GLOBAL, 5.0, 1e-4);
                double[] actual = GroupAdvantages.compute(r, ids, mode, 5.0, 1e-4);
                assertArrayEquals(expected, actual, 1e-9, "mode " + mode + " trial " + trial);
                for (double a : actual) {
                    assertTrue(Math.abs(a) <= 5.0);
                    clipped += Math.abs(a) == 5.0 ? 1 : 0;
                    zero += a == 0.0 ? 1 : 0;
                }
            }
            double[] dflt = GroupAdvantages.compute(r, ids);
            assertArrayEquals(GroupAdvantages.compute(r, ids, StdMode.GROUP, 5.0, 1e-4), dflt);
            // Other clip and eps values follow the same formula.
            assertArrayEquals(reference(r, ids, false, 2.0, 0.5),
                    GroupAdvantages.compute(r, ids, StdMode.GROUP, 2.0, 0.5), 1e-9);
        }
        assertTrue(clipped > 0, "the clip at +-5 must be exercised");
        assertTrue(zero > 0, "zero-std groups must be exercised");
    }

    @Test
    void clipsAnOutlierAtFive() {
        // 30 samples, one at 1 and 29 at 0: z = (1 - 1/30) / sqrt(29/900) = sqrt(29) ~ 5.39 -> 5.
        double[] r = new double[30];
        r[0] = 1;
        int[] ids = new int[30];
        double[] a = GroupAdvantages.compute(r, ids);
        assertEquals(5.0, a[0]);
        double zLow = (-1.0 / 30) / (Math.sqrt(29.0 / 900) + 1e-4);
        for (int i = 1; i < 30; i++) {
            assertEquals(zLow, a[i], 1e-12);
        }
        r[0] = -1;
        assertEquals(-5.0, GroupAdvantages.compute(r, ids)[0]);
        assertEquals(Math.sqrt(29.0) * Math.sqrt(29.0 / 900) / (Math.sqrt(29.0 / 900) + 1e-4),
                GroupAdvantages.compute(new double[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0, 0, 0, 0, 0, 0, 0}, ids, StdMode.GROUP, Double.POSITIVE_INFINITY, 1e-4)[0], 1e-9);
    }

    @Test
    void zeroStdGroupsGetExactlyZeroAndAreMaskedOut() {
        // 0.1 repeated: its naive mean 0.1 * 3 / 3 is not exactly 0.1, the shifted mean is.
        double[] r = {0.1, 0.7, 0.1, 0.2, 0.1, 42, 42};
        int[] ids = {1, 2, 1, 2, 1, 3, 3};
        for (StdMode mode : StdMode.values()) {
            for (double eps : new double[] {1e-4, 0.0}) {
                double[] a = GroupAdvantages.compute(r, ids, mode, 5.0, eps);
                assertEquals(0.0, a[0]);
                assertEquals(0.0, a[2]);
                assertEquals(0.0, a[4]);
                assertEquals(0.0, a[5]);
                assertEquals(0.0, a[6]);
                assertTrue(a[1] > 0 && a[3] < 0, mode + " " + eps);
                assertArrayEquals(new boolean[] {false, true, false, true, false, false, false},
                        GroupAdvantages.trainMask(a));
            }
        }
        assertEquals(2.0 / 3.0, GroupAdvantages.zeroStdGroupFraction(r, ids), 1e-15);
        // A single-sample group is a zero-std group.
        assertArrayEquals(new double[] {0.0}, GroupAdvantages.compute(new double[] {3.5}, new int[] {9}));
        assertEquals(1.0, GroupAdvantages.zeroStdGroupFraction(new double[] {3.5}, new int[] {9}));
    }

    @Test
    void groupStatisticsMatchReference() {
        SplittableRandom rnd = new SplittableRandom(77);
        for (int trial = 0; trial < 200; trial++) {
            Object[] b = batch(rnd);
            double[] r = (double[]) b[0];
            int[] ids = (int[]) b[1];
            java.util.Map<Integer, java.util.List<Double>> byId = new java.util.HashMap<>();
            for (int i = 0; i < r.length; i++) {
                byId.computeIfAbsent(ids[i], k -> new java.util.ArrayList<>()).add(r[i]);
            }
            double stdSum = 0;
            int constant = 0;
            for (java.util.List<Double> g : byId.values()) {
                double mean = g.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
                double var = g.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / g.size();
                stdSum += Math.sqrt(var);
                constant += g.stream().distinct().count() == 1 ? 1 : 0;
            }
            assertEquals(stdSum / byId.size(), GroupAdvantages.withinGroupStd(r, ids), 1e-9);
            assertEquals((double) constant / byId.size(), GroupAdvantages.zeroStdGroupFraction(r, ids), 1e-15);
        }
        assertEquals(0.0, GroupAdvantages.withinGroupStd(new double[0], new int[0]));
        assertEquals(0.0, GroupAdvantages.zeroStdGroupFraction(new double[0], new int[0]));
        assertEquals(0, GroupAdvantages.compute(new double[0], new int[0]).length);
    }

    @Test
    void largeCommonOffsetKeepsTheAdvantages() {
        SplittableRandom rnd = new SplittableRandom(4);
        double[] noise = new double[24];
        double[] shifted = new double[24];
        int[] ids = new int[24];
        for (int i = 0; i < 24; i++) {
            noise[i] = rnd.nextInt(1000) / 128.0; // exact next to 1e9
            shifted[i] = 1e9 + noise[i];
            ids[i] = i / 12;
        }
        assertArrayEquals(GroupAdvantages.compute(noise, ids), GroupAdvantages.compute(shifted, ids), 1e-9);
    }

    @Test
    void trainMaskFollowsNonZeroAdvantages() {
        assertArrayEquals(new boolean[] {true, false, true, false},
                GroupAdvantages.trainMask(new double[] {0.5, 0.0, -5, -0.0}));
        assertMessage(() -> GroupAdvantages.trainMask(new double[] {0, Double.NaN}), "advantages[1]", "NaN");
        assertMessage(() -> GroupAdvantages.trainMask(null), "null");
    }

    private static void assertMessage(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing in: " + e.getMessage());
        }
    }

    @Test
    void rejectsBadInputsNamingTheValue() {
        int[] ids = {0, 0, 1, 1};
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, Double.NaN, 4}, ids), "rewards[2]", "NaN");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, Double.POSITIVE_INFINITY, 3, 4}, ids),
                "rewards[1]", "Infinity");
        assertMessage(() -> GroupAdvantages.compute(new double[] {Double.NEGATIVE_INFINITY, 2, 3, 4}, ids,
                StdMode.GLOBAL, 5, 1e-4), "rewards[0]", "-Infinity");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, 3}, ids), "same length", "3", "4");
        assertMessage(() -> GroupAdvantages.compute(null, ids), "rewards", "null");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, 3, 4}, ids, StdMode.GROUP, 0, 1e-4),
                "clip", "0");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, 3, 4}, ids, StdMode.GROUP, Double.NaN, 1e-4),
                "clip", "NaN");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, 3, 4}, ids, StdMode.GROUP, 5, -1e-4),
                "eps", "-1.0E-4");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, 3, 4}, ids, StdMode.GROUP, 5,
                Double.POSITIVE_INFINITY), "eps", "Infinity");
        assertMessage(() -> GroupAdvantages.compute(new double[] {1, 2, 3, 4}, ids, null, 5, 1e-4), "mode", "null");
        assertMessage(() -> GroupAdvantages.zeroStdGroupFraction(new double[] {Double.NaN}, new int[] {0}),
                "rewards[0]", "NaN");
        assertMessage(() -> GroupAdvantages.withinGroupStd(new double[] {1}, new int[] {0, 1}), "same length");
        assertFalse(GroupAdvantages.trainMask(GroupAdvantages.compute(new double[] {2, 2}, new int[] {0, 0}))[0]);
    }

    /** MultiReward.groupAdvantages as it was before the merge (plain mean, population std, no clip), term for term. */
    static double[] formerMultiRewardAdvantages(double[] r, int[] groupIds) {
        java.util.Map<Integer, double[]> stats = new java.util.HashMap<>();
        for (int i = 0; i < r.length; i++) {
            double[] s = stats.computeIfAbsent(groupIds[i], g -> new double[3]);
            s[0]++;
            s[1] += r[i];
        }
        for (int i = 0; i < r.length; i++) {
            double[] s = stats.get(groupIds[i]);
            double d = r[i] - s[1] / s[0];
            s[2] += d * d;
        }
        double[] a = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            double[] s = stats.get(groupIds[i]);
            a[i] = (r[i] - s[1] / s[0]) / (Math.sqrt(s[2] / s[0]) + 1e-4);
        }
        return a;
    }

    /** ExpandAndPruneDriver.meanGroupStd as it was before the merge (groups 0..groups-1, plain mean), term for term. */
    static double formerDriverMeanGroupStd(double[] r, int[] groupOf, int groups) {
        double sum = 0;
        int counted = 0;
        for (int g = 0; g < groups; g++) {
            double s = 0;
            double s2 = 0;
            int n = 0;
            for (int i = 0; i < r.length; i++) {
                if (groupOf[i] == g) {
                    s += r[i];
                    n++;
                }
            }
            if (n == 0) continue;
            double mean = s / n;
            for (int i = 0; i < r.length; i++) if (groupOf[i] == g) s2 += (r[i] - mean) * (r[i] - mean);
            sum += Math.sqrt(s2 / n);
            counted++;
        }
        return counted == 0 ? 0 : sum / counted;
    }

    /**
     * The merged computation keeps each former caller's numbers bit for bit: PLAIN centring is what MultiReward's
     * ADVANTAGE_SUM and the driver's checkpoint std computed, SHIFTED what the trainer computed (checked above against
     * the double-precision reference); the two differ by rounding only.
     */
    @Test
    void plainCentringIsTheFormerMultiRewardAndDriverArithmeticBitForBit() {
        SplittableRandom rnd = new SplittableRandom(1605);
        int differing = 0;
        for (int trial = 0; trial < 400; trial++) {
            Object[] b = batch(rnd);
            double[] r = (double[]) b[0];
            int[] ids = (int[]) b[1];
            double[] plain = GroupAdvantages.compute(r, ids, StdMode.GROUP, Double.POSITIVE_INFINITY, 1e-4, Centring.PLAIN);
            assertArrayEquals(formerMultiRewardAdvantages(r, ids), plain, "trial " + trial); // bit for bit
            assertArrayEquals(reference(r, ids, false, Double.POSITIVE_INFINITY, 1e-4), plain, 1e-9, "trial " + trial);
            double[] shifted = GroupAdvantages.compute(r, ids, StdMode.GROUP, Double.POSITIVE_INFINITY, 1e-4, Centring.SHIFTED);
            assertArrayEquals(plain, shifted, 1e-8, "trial " + trial);
            differing += java.util.Arrays.equals(plain, shifted) ? 0 : 1;

            // the driver's layout: rows group by group, group ids 0..groups-1 (what the driver passes)
            int[] sortedIds = ids.clone();
            java.util.Map<Integer, Integer> dense = new java.util.TreeMap<>();
            for (int id : sortedIds) dense.putIfAbsent(id, 0);
            int next = 0;
            for (var e : dense.entrySet()) e.setValue(next++);
            double[] byGroup = new double[r.length];
            int at = 0;
            for (var e : dense.entrySet()) {
                for (int i = 0; i < r.length; i++) {
                    if (ids[i] == e.getKey()) {
                        byGroup[at] = r[i];
                        sortedIds[at++] = e.getValue();
                    }
                }
            }
            assertEquals(formerDriverMeanGroupStd(byGroup, sortedIds, dense.size()),
                    GroupAdvantages.withinGroupStd(byGroup, sortedIds, Centring.PLAIN), "trial " + trial); // bit for bit
            assertEquals(GroupAdvantages.withinGroupStd(byGroup, sortedIds), GroupAdvantages.withinGroupStd(byGroup,
                    sortedIds, Centring.PLAIN), 1e-9, "trial " + trial);
        }
        assertTrue(differing > 0, "the two centrings round differently on some batches");
        // the difference that made them two: a constant group keeps a rounding residue under PLAIN only
        double[] constant = {0.1, 0.1, 0.1};
        int[] one = {0, 0, 0};
        double[] plain = GroupAdvantages.compute(constant, one, StdMode.GROUP, Double.POSITIVE_INFINITY, 1e-4, Centring.PLAIN);
        double[] shifted = GroupAdvantages.compute(constant, one, StdMode.GROUP, Double.POSITIVE_INFINITY, 1e-4, Centring.SHIFTED);
        assertArrayEquals(new double[] {0, 0, 0}, shifted);
        assertTrue(plain[0] != 0 && Math.abs(plain[0]) < 1e-12, java.util.Arrays.toString(plain));
        assertArrayEquals(formerMultiRewardAdvantages(constant, one), plain);
        assertMessage(() -> GroupAdvantages.compute(constant, one, StdMode.GROUP, 5, 1e-4, null), "centring", "null");
        assertMessage(() -> GroupAdvantages.withinGroupStd(constant, one, null), "centring", "null");
    }
}
