package io.progrpo.world.scene;

import java.util.Arrays;

/**
 * Estimates an image's background from the image itself: per channel, a plane b(u, v) = a + bx u + by v (u, v the
 * pixel centre's coordinates as fractions of the width and height, minus 0.5) fitted by least squares to the pixels
 * of the border ring ({@link #ringWidth}), robustly: after each fit, ring pixels whose largest channel residual
 * exceeds max({@value #MIN_RESIDUAL}, 3 x the median residual) are dropped and the plane is refitted, twice. A
 * solid background is the constant plane and a linear gradient is exactly a plane; a faint texture is noise around
 * one; an object that touches the border is what the robust refit drops.
 */
public final class BackgroundFit {
    /** Residuals below this never drop a ring pixel. */
    public static final double MIN_RESIDUAL = 0.06;
    private static final int REFITS = 2;

    private BackgroundFit() {
    }

    /** The border ring's width: 2 pixels at 32 x 32, size / 16 above. */
    public static int ringWidth(int h, int w) {
        return Math.max(2, Math.round(Math.min(h, w) / 16f));
    }

    /**
     * The fitted planes, coefficients {a, bx, by} per channel ([3][3]).
     *
     * @param img planar channels, img[c][y * w + x]
     */
    public static double[][] fit(double[][] img, int h, int w) {
        int ring = ringWidth(h, w);
        int n = 0;
        int[] idx = new int[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (x < ring || y < ring || x >= w - ring || y >= h - ring) idx[n++] = y * w + x;
            }
        }
        idx = Arrays.copyOf(idx, n);
        double[] u = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            u[i] = coordinate(idx[i] % w, w);
            v[i] = coordinate(idx[i] / w, h);
        }
        boolean[] use = new boolean[n];
        Arrays.fill(use, true);
        double[][] coef = new double[3][];
        for (int round = 0; ; round++) {
            for (int c = 0; c < 3; c++) {
                double[] val = new double[n];
                for (int i = 0; i < n; i++) val[i] = img[c][idx[i]];
                coef[c] = plane(u, v, val, use);
            }
            if (round == REFITS) return coef;
            double[] res = new double[n];
            for (int i = 0; i < n; i++) {
                double r = 0;
                for (int c = 0; c < 3; c++) r = Math.max(r, Math.abs(img[c][idx[i]] - eval(coef[c], u[i], v[i])));
                res[i] = r;
            }
            double[] sorted = res.clone();
            Arrays.sort(sorted);
            double cut = Math.max(MIN_RESIDUAL, 3 * sorted[n / 2]);
            int kept = 0;
            for (int i = 0; i < n; i++) if (use[i] = res[i] <= cut) kept++;
            if (kept < 4) return coef;
        }
    }

    /** The pixel centre's coordinate as a fraction of the extent, minus 0.5 (in [-0.5, 0.5]). */
    public static double coordinate(int i, int extent) {
        return (i + 0.5) / extent - 0.5;
    }

    /** a + bx u + by v. */
    public static double eval(double[] coef, double u, double v) {
        return coef[0] + coef[1] * u + coef[2] * v;
    }

    /**
     * The least-squares plane {a, bx, by} through the used points (the 3 x 3 normal equations solved by Gaussian
     * elimination with partial pivoting); when the points do not span a plane (collinear), the mean as a constant.
     */
    static double[] plane(double[] u, double[] v, double[] val, boolean[] use) {
        double[][] m = new double[3][4];
        int count = 0;
        double mean = 0;
        for (int i = 0; i < u.length; i++) {
            if (!use[i]) continue;
            double[] f = {1, u[i], v[i]};
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 3; c++) m[r][c] += f[r] * f[c];
                m[r][3] += f[r] * val[i];
            }
            count++;
            mean += val[i];
        }
        if (count == 0) return new double[] {0, 0, 0};
        mean /= count;
        for (int col = 0; col < 3; col++) {
            int piv = col;
            for (int r = col + 1; r < 3; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
            if (Math.abs(m[piv][col]) < 1e-9 * count) return new double[] {mean, 0, 0};
            double[] t = m[col];
            m[col] = m[piv];
            m[piv] = t;
            for (int r = 0; r < 3; r++) {
                if (r == col) continue;
                double f = m[r][col] / m[col][col];
                for (int c = col; c < 4; c++) m[r][c] -= f * m[col][c];
            }
        }
        return new double[] {m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]};
    }
}
