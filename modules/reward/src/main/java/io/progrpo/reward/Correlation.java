package io.progrpo.reward;

/**
 * The correlation of two reward vectors, e.g. the proxy reward at a checkpoint against the final reward of the
 * survivors (the expand-and-prune driver per run, the trainer's metrics per epoch): one formula for both.
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
}
