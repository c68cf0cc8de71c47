package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The generator's formulas against independent double-precision loops on random inputs. */
@ExtendWith(SingleThreadedTorch.class)
class LatentOpsTest {

    @Test
    void patchifyPutsEachPatchInOneTokenInRowColumnChannelOrderAndUnpatchifyInvertsIt() {
        int[][] shapes = {{2, 4, 8, 8, 2}, {3, 3, 6, 4, 2}, {1, 2, 6, 6, 3}, {2, 1, 4, 4, 1}};
        for (int[] sh : shapes) {
            int b = sh[0], c = sh[1], hh = sh[2], ww = sh[3], p = sh[4];
            try (Scope s = Scope.open(); Generator g = Generator.create(hh * 31L + c)) {
                Tensor x = Tensor.randn(g, b, c, hh, ww);
                double[] xv = x.toDoubleArray();
                Tensor tokens = LatentOps.patchify(x, p);
                int gh = hh / p, gw = ww / p;
                assertArrayEquals(new long[] {b, (long) gh * gw, (long) p * p * c}, tokens.shape());
                double[] tv = tokens.toDoubleArray();
                double[] expected = new double[tv.length];
                for (int n = 0; n < b; n++)
                    for (int i = 0; i < gh; i++)
                        for (int j = 0; j < gw; j++)
                            for (int pr = 0; pr < p; pr++)
                                for (int pc = 0; pc < p; pc++)
                                    for (int ch = 0; ch < c; ch++) {
                                        int token = i * gw + j;
                                        int k = (pr * p + pc) * c + ch;
                                        int src = ((n * c + ch) * hh + i * p + pr) * ww + j * p + pc;
                                        expected[(n * gh * gw + token) * p * p * c + k] = xv[src];
                                    }
                assertArrayEquals(expected, tv, 0.0, "patchify of " + java.util.Arrays.toString(sh));
                assertArrayEquals(xv, LatentOps.unpatchify(tokens, p, c, gh, gw).toDoubleArray(), 0.0, "round trip");
            }
        }
    }

    @Test
    void modulateIsXTimesOnePlusScalePlusShiftPerRow() {
        try (Scope s = Scope.open(); Generator g = Generator.create(3)) {
            int b = 3, n = 5, d = 7;
            Tensor x = Tensor.randn(g, b, n, d);
            Tensor shift = Tensor.randn(g, b, d);
            Tensor scale = Tensor.randn(g, b, d);
            double[] xv = x.toDoubleArray(), sv = shift.toDoubleArray(), cv = scale.toDoubleArray();
            double[] got = LatentOps.modulate(x, shift, scale).toDoubleArray();
            for (int i = 0; i < b; i++)
                for (int t = 0; t < n; t++)
                    for (int k = 0; k < d; k++) {
                        int idx = (i * n + t) * d + k;
                        assertEquals(xv[idx] * (1 + cv[i * d + k]) + sv[i * d + k], got[idx], 1e-5, "at " + i + "," + t + "," + k);
                    }
        }
    }

    @Test
    void timestepFeaturesAreCosThenSinOfThousandSigmaTimesGeometricFrequencies() {
        try (Scope s = Scope.open(); Generator g = Generator.create(4)) {
            int features = 16;
            Tensor sigma = Tensor.rand(g, 6);
            double[] sv = sigma.toDoubleArray();
            double[] got = LatentOps.timestepFeatures(sigma, features).toDoubleArray();
            int half = features / 2;
            for (int i = 0; i < sv.length; i++)
                for (int k = 0; k < half; k++) {
                    double arg = 1000 * sv[i] * Math.exp(-Math.log(10000) * k / half);
                    // float32 arguments up to 1000: absolute error up to ~1e-4 in the angle
                    assertEquals(Math.cos(arg), got[i * features + k], 2e-3, "cos at row " + i + " k " + k);
                    assertEquals(Math.sin(arg), got[i * features + half + k], 2e-3, "sin at row " + i + " k " + k);
                }
        }
    }

    @Test
    void positionCodeIsRowCodeThenColumnCode() {
        int rows = 4, cols = 3, d = 12;
        float[] code = LatentOps.sincos2d(rows, cols, d);
        int q = d / 4;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                for (int k = 0; k < q; k++) {
                    double freq = 1 / Math.pow(10000, k / (double) q);
                    int base = (r * cols + c) * d;
                    assertEquals(Math.sin(r * freq), code[base + k], 1e-6);
                    assertEquals(Math.cos(r * freq), code[base + q + k], 1e-6);
                    assertEquals(Math.sin(c * freq), code[base + 2 * q + k], 1e-6);
                    assertEquals(Math.cos(c * freq), code[base + 3 * q + k], 1e-6);
                }
        // every token gets its own code
        for (int a = 0; a < rows * cols; a++)
            for (int b2 = a + 1; b2 < rows * cols; b2++) {
                double dist = 0;
                for (int k = 0; k < d; k++) dist += Math.abs(code[a * d + k] - code[b2 * d + k]);
                assertEquals(true, dist > 1e-3, "tokens " + a + " and " + b2 + " differ");
            }
    }

    @Test
    void edgeLossIsTheMeanSquaredDifferenceOfHorizontalAndVerticalPixelDifferences() {
        try (Scope s = Scope.open(); Generator g = Generator.create(8)) {
            int n = 2, c = 3, h = 5, w = 4;
            Tensor a = Tensor.randn(g, n, c, h, w);
            Tensor b = Tensor.randn(g, n, c, h, w);
            double[] av = a.toDoubleArray(), bv = b.toDoubleArray();
            double sx = 0, sy = 0;
            for (int i = 0; i < n * c; i++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int o = (i * h + y) * w + x;
                        if (x + 1 < w) sx += Math.pow((av[o + 1] - av[o]) - (bv[o + 1] - bv[o]), 2);
                        if (y + 1 < h) sy += Math.pow((av[o + w] - av[o]) - (bv[o + w] - bv[o]), 2);
                    }
            double want = sx / (n * c * h * (w - 1)) + sy / (n * c * (h - 1) * w);
            assertEquals(want, LatentPretraining.edgeLoss(a, b).item(), 1e-5 * want);
            assertEquals(0.0, LatentPretraining.edgeLoss(a, a.add(0.7)).item(), 1e-10, "a constant offset has no edges");
        }
    }

    @Test
    void learningRateWarmsUpLinearlyThenDecaysByCosineToATenth() {
        double lr = 1e-3;
        assertEquals(lr / 10, LatentPretraining.learningRate(0, 100, 10, lr), 1e-15);
        assertEquals(lr, LatentPretraining.learningRate(9, 100, 10, lr), 1e-15);
        assertEquals(lr, LatentPretraining.learningRate(10, 100, 10, lr), 1e-15);
        assertEquals(lr / 10, LatentPretraining.learningRate(99, 100, 10, lr), 1e-15);
        double mid = LatentPretraining.learningRate(10 + 89 / 2, 100, 10, lr);
        assertEquals(lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * (44 / 89.0)))), mid, 1e-15);
    }
}
