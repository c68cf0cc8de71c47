package io.progrpo.tensor;

import static io.progrpo.tensor.TestSupport.assertClose;
import static io.progrpo.tensor.TestSupport.assertShape;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.offset;
import static io.progrpo.tensor.TestSupport.t;
import static io.progrpo.tensor.TestSupport.unravel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.util.Random;

/** Matrix products and nn functionals against loops in plain Java double. */
class LinalgFunctionalTest extends TensorTestBase {

    /** C[b] = A[b] B[b] with A [nb,n,k] and B [nb,k,m] (bStride 0 broadcasts one B). */
    static double[] matmul(double[] a, double[] b, int nb, int n, int k, int m, boolean broadcastB) {
        double[] c = new double[nb * n * m];
        for (int z = 0; z < nb; z++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) s += a[(z * n + i) * k + l] * b[((broadcastB ? 0 : z) * k + l) * m + j];
                    c[(z * n + i) * m + j] = s;
                }
        return c;
    }

    @Test
    void matmulTwoDimensionalBatchedAndBmm() {
        Random r = new Random(41);
        double[] a = gaussian(r, 2 * 4 * 5), b = gaussian(r, 2 * 5 * 3);
        assertClose(matmul(a, b, 1, 4, 5, 3, true), t(a, 2, 4, 5).select(0, 0).matmul(t(b, 2, 5, 3).select(0, 0)), "2-d matmul");
        Tensor bc = t(a, 2, 4, 5).matmul(t(b, 2, 5, 3).select(0, 0));
        assertShape(bc, 2, 4, 3);
        assertClose(matmul(a, b, 2, 4, 5, 3, true), bc, "batched matmul broadcasting the right operand");
        Tensor bb = t(a, 2, 4, 5).matmul(t(b, 2, 5, 3));
        assertShape(bb, 2, 4, 3);
        assertClose(matmul(a, b, 2, 4, 5, 3, false), bb, "batched matmul");
        assertClose(matmul(a, b, 2, 4, 5, 3, false), t(a, 2, 4, 5).bmm(t(b, 2, 5, 3)), "bmm");
    }

    static double[] linear(double[] x, double[] w, double[] b, int n, int in, int out) {
        double[] y = new double[n * out];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) s += x[i * in + k] * w[o * in + k];
                y[i * out + o] = s;
            }
        return y;
    }

    @Test
    void linearWithAndWithoutBias() {
        Random r = new Random(42);
        double[] x = gaussian(r, 4 * 5), w = gaussian(r, 3 * 5), b = gaussian(r, 3);
        assertClose(linear(x, w, b, 4, 5, 3), Functional.linear(t(x, 4, 5), t(w, 3, 5), t(b, 3)), "linear");
        assertClose(linear(x, w, null, 4, 5, 3), Functional.linear(t(x, 4, 5), t(w, 3, 5), null), "linear without bias");
    }

    /** Cross-correlation as torch defines conv2d, with zero padding, in plain loops. */
    static double[] conv2d(double[] x, long[] xs, double[] w, long[] ws, double[] b, int sh, int sw, int ph, int pw, long[] outShape) {
        int n = (int) xs[0], c = (int) xs[1], h = (int) xs[2], wd = (int) xs[3];
        int oc = (int) ws[0], kh = (int) ws[2], kw = (int) ws[3];
        int oh = (h + 2 * ph - kh) / sh + 1, ow = (wd + 2 * pw - kw) / sw + 1;
        outShape[0] = n;
        outShape[1] = oc;
        outShape[2] = oh;
        outShape[3] = ow;
        double[] y = new double[n * oc * oh * ow];
        for (int in = 0; in < n; in++)
            for (int o = 0; o < oc; o++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++) {
                        double s = b == null ? 0 : b[o];
                        for (int ci = 0; ci < c; ci++)
                            for (int u = 0; u < kh; u++)
                                for (int v = 0; v < kw; v++) {
                                    int yy = i * sh - ph + u, xx = j * sw - pw + v;
                                    if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                                    s += x[((in * c + ci) * h + yy) * wd + xx] * w[((o * c + ci) * kh + u) * kw + v];
                                }
                        y[((in * oc + o) * oh + i) * ow + j] = s;
                    }
        return y;
    }

    @Test
    void conv2dWithStrideAndPadding() {
        Random r = new Random(43);
        long[] xs = {2, 3, 7, 6}, ws = {4, 3, 3, 3};
        double[] x = gaussian(r, 2 * 3 * 7 * 6), w = gaussian(r, 4 * 3 * 3 * 3), b = gaussian(r, 4);
        long[] os = new long[4];
        double[] exp = conv2d(x, xs, w, ws, b, 2, 2, 1, 1, os);
        Tensor y = Functional.conv2d(t(x, xs), t(w, ws), t(b, 4), 2, 1);
        assertShape(y, os);
        assertClose(exp, y, 1e-4, "conv2d stride 2 padding 1");

        long[] ws2 = {2, 3, 2, 3};
        double[] w2 = gaussian(r, 2 * 3 * 2 * 3);
        double[] exp2 = conv2d(x, xs, w2, ws2, null, 1, 2, 0, 2, os);
        Tensor y2 = Functional.conv2d(t(x, xs), t(w2, ws2), null, 1, 2, 0, 2, 1, 1, 1);
        assertShape(y2, os);
        assertClose(exp2, y2, 1e-4, "conv2d with per-axis stride and padding, no bias");
    }

    @Test
    void groupNormAndLayerNorm() {
        Random r = new Random(44);
        long[] xs = {2, 6, 3, 3};
        double[] x = gaussian(r, 108), w = gaussian(r, 6), b = gaussian(r, 6);
        double eps = 1e-5;
        int groups = 3, per = 2 * 9;
        double[] exp = new double[108];
        for (int n = 0; n < 2; n++)
            for (int g = 0; g < groups; g++) {
                int base = (n * 6 + g * 2) * 9;
                double m = 0, v = 0;
                for (int i = 0; i < per; i++) m += x[base + i];
                m /= per;
                for (int i = 0; i < per; i++) v += (x[base + i] - m) * (x[base + i] - m);
                v /= per;
                for (int i = 0; i < per; i++) {
                    int ch = g * 2 + i / 9;
                    exp[base + i] = (x[base + i] - m) / Math.sqrt(v + eps) * w[ch] + b[ch];
                }
            }
        assertClose(exp, Functional.groupNorm(t(x, xs), groups, t(w, 6), t(b, 6), eps), 1e-4, "group_norm");

        long[] ls = {3, 4, 5};
        double[] lx = gaussian(r, 60), lw = gaussian(r, 20), lb = gaussian(r, 20);
        double[] last = new double[60], two = new double[60];
        for (int i = 0; i < 12; i++) normalize(lx, i * 5, 5, lw, lb, 5, eps, last);
        for (int i = 0; i < 3; i++) normalize(lx, i * 20, 20, lw, lb, 20, eps, two);
        assertClose(last, Functional.layerNorm(t(lx, ls), new long[] {5}, t(lw, 20).narrow(0, 0, 5), t(lb, 20).narrow(0, 0, 5), eps), 1e-4,
                "layer_norm over the last dim");
        assertClose(two, Functional.layerNorm(t(lx, ls), new long[] {4, 5}, t(lw, 4, 5), t(lb, 4, 5), eps), 1e-4,
                "layer_norm over the last two dims");
        double[] plain = new double[60];
        double[] ones = new double[20], zeros = new double[20];
        java.util.Arrays.fill(ones, 1);
        for (int i = 0; i < 12; i++) normalize(lx, i * 5, 5, ones, zeros, 5, eps, plain);
        assertClose(plain, Functional.layerNorm(t(lx, ls), new long[] {5}, null, null, eps), 1e-4, "layer_norm without affine");
    }

    /** (x - mean) / sqrt(var + eps) * w + b over x[start, start+len), w and b indexed within the slice modulo wLen. */
    static void normalize(double[] x, int start, int len, double[] w, double[] b, int wLen, double eps, double[] out) {
        double m = 0, v = 0;
        for (int i = 0; i < len; i++) m += x[start + i];
        m /= len;
        for (int i = 0; i < len; i++) v += (x[start + i] - m) * (x[start + i] - m);
        v /= len;
        for (int i = 0; i < len; i++) out[start + i] = (x[start + i] - m) / Math.sqrt(v + eps) * w[i % wLen] + b[i % wLen];
    }

    @Test
    void embeddingPicksRows() {
        Random r = new Random(45);
        double[] w = gaussian(r, 10 * 4);
        long[] idx = {3, 0, 9, 3, 7, 1};
        Tensor e = Functional.embedding(t(w, 10, 4), Tensor.of(idx, 2, 3));
        assertShape(e, 2, 3, 4);
        double[] exp = new double[24];
        for (int i = 0; i < 6; i++) for (int k = 0; k < 4; k++) exp[i * 4 + k] = w[(int) idx[i] * 4 + k];
        assertClose(exp, e, 0, "embedding");
    }

    /** softmax(q k^T / sqrt(d) + mask) v per (batch, head), with masked-out scores at -inf. */
    static double[] attention(double[] q, double[] k, double[] v, int bh, int l, int s, int d, int dv, boolean[] keep, boolean causal) {
        double[] out = new double[bh * l * dv];
        for (int z = 0; z < bh; z++)
            for (int i = 0; i < l; i++) {
                double[] sc = new double[s];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += q[(z * l + i) * d + c] * k[(z * s + j) * d + c];
                    boolean on = (keep == null || keep[i * s + j]) && (!causal || j <= i);
                    sc[j] = on ? dot / Math.sqrt(d) : Double.NEGATIVE_INFINITY;
                    max = Math.max(max, sc[j]);
                }
                double zsum = 0;
                for (int j = 0; j < s; j++) zsum += sc[j] = Math.exp(sc[j] - max);
                for (int c = 0; c < dv; c++) {
                    double acc = 0;
                    for (int j = 0; j < s; j++) acc += sc[j] / zsum * v[(z * s + j) * dv + c];
                    out[(z * l + i) * dv + c] = acc;
                }
            }
        return out;
    }

    @Test
    void scaledDotProductAttentionPlainMaskedAndCausal() {
        Random r = new Random(46);
        int l = 5, s = 6, d = 4, dv = 3;
        double[] q = gaussian(r, 2 * 2 * l * d), k = gaussian(r, 2 * 2 * s * d), v = gaussian(r, 2 * 2 * s * dv);
        Tensor tq = t(q, 2, 2, l, d), tk = t(k, 2, 2, s, d), tv = t(v, 2, 2, s, dv);
        Tensor plain = Functional.scaledDotProductAttention(tq, tk, tv, null, false);
        assertShape(plain, 2, 2, l, dv);
        assertClose(attention(q, k, v, 4, l, s, d, dv, null, false), plain, 1e-5, "attention without mask");

        boolean[] keep = new boolean[l * s];
        for (int i = 0; i < keep.length; i++) keep[i] = r.nextBoolean() || i % s == 0; // never a fully masked row
        Tensor masked = Functional.scaledDotProductAttention(tq, tk, tv, Tensor.of(keep, l, s), false);
        assertClose(attention(q, k, v, 4, l, s, d, dv, keep, false), masked, 1e-5, "attention with a bool mask");

        double[] k2 = gaussian(r, 2 * 2 * l * d), v2 = gaussian(r, 2 * 2 * l * dv);
        Tensor causal = Functional.scaledDotProductAttention(tq, t(k2, 2, 2, l, d), t(v2, 2, 2, l, dv), null, true);
        assertClose(attention(q, k2, v2, 4, l, l, d, dv, null, true), causal, 1e-5, "causal attention");
    }

    @Test
    void interpolateNearestAvgPoolAndMse() {
        Random r = new Random(47);
        long[] xs = {1, 2, 4, 6};
        double[] x = gaussian(r, 48);
        // nearest: source index floor(dst * in / out)
        for (long[] size : new long[][] {{8, 3}, {3, 4}}) {
            long oh = size[0], ow = size[1];
            Tensor y = Functional.interpolate(t(x, xs), oh, ow, Functional.Interpolation.NEAREST);
            long[] os = {1, 2, oh, ow};
            assertShape(y, os);
            double[] exp = new double[(int) (2 * oh * ow)];
            for (int i = 0; i < exp.length; i++) {
                int[] ix = unravel(i, os);
                int sy = (int) Math.min(Math.floor(ix[2] * (4.0 / oh)), 3), sx = (int) Math.min(Math.floor(ix[3] * (6.0 / ow)), 5);
                exp[i] = x[offset(xs, ix[0], ix[1], sy, sx)];
            }
            assertClose(exp, y, 0, "interpolate nearest to " + oh + "x" + ow);
        }
        Tensor bil = Functional.interpolate(t(x, xs), 8, 12, Functional.Interpolation.BILINEAR);
        assertShape(bil, 1, 2, 8, 12);

        long[] ps = {1, 2, 5, 6}; // 5 rows: the last one is dropped by a 2x2 pool
        double[] px = gaussian(r, 60);
        Tensor pooled = Functional.avgPool2d(t(px, ps), 2);
        assertShape(pooled, 1, 2, 2, 3);
        double[] pe = new double[12];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++) {
                    double s = 0;
                    for (int u = 0; u < 2; u++) for (int v = 0; v < 2; v++) s += px[offset(ps, 0, c, 2 * i + u, 2 * j + v)];
                    pe[(c * 2 + i) * 3 + j] = s / 4;
                }
        assertClose(pe, pooled, "avg_pool2d");

        double[] a = gaussian(r, 20), b = gaussian(r, 20);
        double mse = 0;
        for (int i = 0; i < 20; i++) mse += (a[i] - b[i]) * (a[i] - b[i]);
        Tensor loss = Functional.mseLoss(t(a, 4, 5), t(b, 4, 5));
        assertEquals(0, loss.dim());
        assertEquals(mse / 20, loss.item(), 1e-5);
    }

    @Test
    void requireFiniteNamesTheCountOfBadElements() {
        Functional.requireFinite(Tensor.ones(3), "ones");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Functional.requireFinite(Tensor.of(new float[] {1, Float.NaN, Float.POSITIVE_INFINITY, 2}, 4), "rewards"));
        assertEquals(true, e.getMessage().contains("rewards") && e.getMessage().contains("2 of 4"), e.getMessage());
    }

    @Test
    void requireFiniteDecidesByTheElementsNotByTheirSum() {
        // finite values whose float32 sum overflows to infinity: every element is finite, so no exception
        Functional.requireFinite(Tensor.of(new float[] {3e38f, 3e38f, 1f}, 3), "large but finite");
        // +inf and -inf: the sum is NaN; both elements are bad
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Functional.requireFinite(Tensor.of(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f}, 3), "pair"));
        assertEquals(true, e.getMessage().contains("2 of 3"), e.getMessage());
        // one NaN among many finite values, at a random position, in a larger tensor than the fast path's sum sees at once
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        float[] v = new float[100_000];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        Functional.requireFinite(Tensor.of(v, 100, 1000), "gaussian");
        v[r.nextInt(v.length)] = Float.NaN;
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Functional.requireFinite(Tensor.of(v, 100, 1000), "one NaN"));
        assertEquals(true, e.getMessage().contains("1 of 100000"), e.getMessage());
        // integer tensors are finite by construction
        Functional.requireFinite(Tensor.arange(0, 5, 1, DType.INT64, Device.CPU), "ints");
    }
}
