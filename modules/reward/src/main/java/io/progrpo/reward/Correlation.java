package io.progrpo.reward;

/**
 * The correlation of two reward vectors, e.g. the proxy reward at a checkpoint against the final reward of the
 * survivors (the expand-and-prune driver per run, the trainer's metrics per epoch, the within-group preview agreement
 * of shadow groups): one formula for each of Pearson and Spearman.
 */
public final class Correlation {
    private Correlation() {}

    /**
     * Pearson's r of {@code a} and {@code b} (same length), by the two-pass formula on the plain means; NaN when either
     * side has zero variance (or the vectors are empty).
     *
     * @throws IllegalArgumentException for null arrays or different lengths
     */
    public static double pearson(double[] a, double[] b) {
        if (a == null || b == null) throw new IllegalArgumentException("pearson needs two arrays, got " + (a == null ? "null" : "an array") + " and " + (b == null ? "null" : "an array"));
        if (a.length != b.length) throw new IllegalArgumentException("pearson needs arrays of one length, got " + a.length + " and " + b.length);
        int n = a.length;
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= n;
        mb /= n;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < n; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }

    /**
     * Spearman's rho of {@code a} and {@code b}: {@link #pearson} of their {@link #ranks} (tied values share their
     * mean rank, so ties need no special formula); NaN when either side is constant (or the vectors are empty).
     *
     * @throws IllegalArgumentException for null arrays, different lengths or a NaN value (which has no rank)
     */
    public static double spearman(double[] a, double[] b) {
        if (a == null || b == null) throw new IllegalArgumentException("spearman needs two arrays, got " + (a == null ? "null" : "an array") + " and " + (b == null ? "null" : "an array"));
        if (a.length != b.length) throw new IllegalArgumentException("spearman needs arrays of one length, got " + a.length + " and " + b.length);
        return pearson(ranks(a), ranks(b));
    }

    /**
     * The ranks 0..n-1 of {@code v} in ascending order, each run of equal values sharing its mean rank.
     *
     * @throws IllegalArgumentException for a null array or a NaN value
     */
    public static double[] ranks(double[] v) {
        if (v == null) throw new IllegalArgumentException("ranks needs an array, got null");
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(v[i])) throw new IllegalArgumentException("ranks needs numbers, got NaN at index " + i + " of " + v.length);
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, java.util.Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) j++;
            for (int k = i; k <= j; k++) r[idx[k]] = (i + j) / 2.0;
            i = j + 1;
        }
        return r;
    }
}
