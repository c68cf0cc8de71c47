package io.progrpo.pruning;

import java.util.Arrays;

/**
 * Optimal Variance Filtering (OVF): the k-subset of a group's rewards with maximal variance,
 * <pre>
 *     K* = argmax_{|K| = k} (1/k) sum_{g in K} (R_g - mean_K)^2
 * </pre>
 * (Pro-GRPO, arXiv 2512.15347, section 4 of the project spec).
 *
 * <p>Exact in O(G log G): some optimal subset is always "the j lowest plus the k - j highest" rewards for some
 * j in 0..k (moving any inner element outward never lowers the variance). The rewards are sorted once, partial
 * sums from the bottom and from the top give every candidate's variance in O(1), and the best candidate wins.
 *
 * <p>Deterministic tie-breaking, so that a run is reproducible bit for bit:
 * <ul>
 *   <li>equal rewards are ordered by their original index (the lower index counts as the lower reward);</li>
 *   <li>among candidates with equal computed variance the smallest j (fewest lowest rewards) wins.</li>
 * </ul>
 *
 * <p>Numerics: the partial sums are taken over rewards centred on the group mean, and the low and high parts are
 * summed separately (never as a difference of two long prefix sums), so rewards with a huge common offset
 * (1e9 + small noise) keep their variance instead of cancelling to noise.
 */
public final class OptimalVarianceFilter {
    private OptimalVarianceFilter() {}

    /**
     * Indices (ascending) of a k-subset of {@code rewards} with maximal population variance.
     *
     * @param rewards the group's rewards, all finite
     * @param k       the subset size, 1 &lt;= k &lt;= G; k == G returns every index
     * @return k distinct indices into {@code rewards}, ascending
     * @throws IllegalArgumentException if k is out of range or a reward is NaN or infinite (the message names
     *                                  the index and the value)
     */
    public static int[] select(double[] rewards, int k) {
        checkRewardsAndK(rewards, k);
        int g = rewards.length;
        if (k == g) {
            return allIndices(g);
        }
        int[] order = sortedOrder(rewards);
        int best = bestLowCount(rewards, order, k);
        return lowPlusHigh(order, best, k);
    }

    /**
     * Population variance (1/|subset|) of {@code r} over the given indices, by the corrected two-pass formula
     * (mean first, then squared deviations, minus the rounding left in the mean).
     *
     * @throws IllegalArgumentException if the subset is empty, an index is out of range or repeated, or a
     *                                  selected value is not finite
     */
    public static double variance(double[] r, int[] subset) {
        if (r == null || subset == null) {
            throw new IllegalArgumentException("rewards and subset must not be null, got rewards=" + r
                    + ", subset=" + subset);
        }
        if (subset.length == 0) {
            throw new IllegalArgumentException("subset must not be empty, got length 0");
        }
        boolean[] seen = new boolean[r.length];
        for (int p = 0; p < subset.length; p++) {
            int i = subset[p];
            if (i < 0 || i >= r.length) {
                throw new IllegalArgumentException(
                        "subset[" + p + "] must be an index in [0, " + r.length + "), got " + i);
            }
            if (seen[i]) {
                throw new IllegalArgumentException("subset[" + p + "] repeats index " + i);
            }
            seen[i] = true;
            checkFinite(r, i);
        }
        int n = subset.length;
        // Shift by one member so that equal values give exactly zero and large offsets do not enter the sums.
        double shift = r[subset[0]];
        double sum = 0;
        for (int i : subset) {
            sum += r[i] - shift;
        }
        double mean = sum / n;
        double sq = 0;
        double lin = 0;
        for (int i : subset) {
            double d = (r[i] - shift) - mean;
            sq += d * d;
            lin += d;
        }
        double v = (sq - lin * lin / n) / n;
        return v < 0 ? 0 : v;
    }

    // ---- shared with SubsetStrategy ----------------------------------------------------------------------

    /** Validates k in [1, G] and every reward finite; messages name the offending value. */
    static void checkRewardsAndK(double[] rewards, int k) {
        if (rewards == null) {
            throw new IllegalArgumentException("rewards must not be null");
        }
        int g = rewards.length;
        if (k < 1 || k > g) {
            throw new IllegalArgumentException("k must be in [1, G] with G = " + g + ", got k = " + k);
        }
        for (int i = 0; i < g; i++) {
            checkFinite(rewards, i);
        }
    }

    static void checkFinite(double[] r, int i) {
        if (!Double.isFinite(r[i])) {
            throw new IllegalArgumentException("rewards[" + i + "] must be finite, got " + r[i]);
        }
    }

    static int[] allIndices(int g) {
        int[] all = new int[g];
        for (int i = 0; i < g; i++) {
            all[i] = i;
        }
        return all;
    }

    /** The j lowest plus the k - j highest entries of {@code order}, as ascending original indices. */
    static int[] lowPlusHigh(int[] order, int j, int k) {
        int g = order.length;
        int[] out = new int[k];
        System.arraycopy(order, 0, out, 0, j);
        System.arraycopy(order, g - (k - j), out, j, k - j);
        Arrays.sort(out);
        return out;
    }

    /**
     * Indices sorted by reward ascending; equal rewards keep ascending index order (a stable merge sort on
     * primitive ints, so a million rewards cost no boxing). -0.0 and 0.0 compare equal.
     */
    static int[] sortedOrder(double[] r) {
        int n = r.length;
        int[] a = allIndices(n);
        int[] b = new int[n];
        final int run = 32;
        for (int lo = 0; lo < n; lo += run) {
            int hi = Math.min(lo + run, n);
            for (int i = lo + 1; i < hi; i++) { // insertion sort: stable, strict '<' keeps equal keys in order
                int x = a[i];
                int j = i - 1;
                while (j >= lo && r[x] < r[a[j]]) {
                    a[j + 1] = a[j];
                    j--;
                }
                a[j + 1] = x;
            }
        }
        for (int width = run; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n);
                int hi = Math.min(lo + 2 * width, n);
                int i = lo, j = mid, o = lo;
                while (i < mid && j < hi) {
                    b[o++] = r[a[j]] < r[a[i]] ? a[j++] : a[i++]; // left wins ties: stable
                }
                while (i < mid) {
                    b[o++] = a[i++];
                }
                while (j < hi) {
                    b[o++] = a[j++];
                }
            }
            int[] t = a;
            a = b;
            b = t;
        }
        return a;
    }

    /** The j in 0..k whose "j lowest + k - j highest" subset has the largest variance (smallest j on ties). */
    private static int bestLowCount(double[] r, int[] order, int k) {
        int g = order.length;
        double centre = groupMean(r);
        // low1[j], low2[j]: sums of d and d^2 over the j lowest; high1[m], high2[m]: over the m highest,
        // with d = r - centre. Summed from each end separately so no long prefix sums are subtracted.
        double[] low1 = new double[k + 1];
        double[] low2 = new double[k + 1];
        double[] high1 = new double[k + 1];
        double[] high2 = new double[k + 1];
        for (int j = 0; j < k; j++) {
            double d = r[order[j]] - centre;
            low1[j + 1] = low1[j] + d;
            low2[j + 1] = low2[j] + d * d;
            double e = r[order[g - 1 - j]] - centre;
            high1[j + 1] = high1[j] + e;
            high2[j + 1] = high2[j] + e * e;
        }
        int best = 0;
        double bestVar = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= k; j++) {
            double s1 = low1[j] + high1[k - j];
            double s2 = low2[j] + high2[k - j];
            double m = s1 / k;
            double v = s2 / k - m * m;
            if (v > bestVar) {
                bestVar = v;
                best = j;
            }
        }
        return best;
    }

    /** Mean via a shift by the first reward: exact for a constant group and immune to a large common offset. */
    private static double groupMean(double[] r) {
        double shift = r[0];
        double sum = 0;
        for (double x : r) {
            sum += x - shift;
        }
        return shift + sum / r.length;
    }
}
