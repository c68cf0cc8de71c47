package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class LoraLinearTest {

    /** y = x (W + s (alpha / r) B A)^T + b, in double. */
    static double[] reference(double[] x, int rows, double[] w, double[] b, double[] a, double[] bb, int in, int out, int r,
                              double alpha, double s) {
        double[] y = new double[rows * out];
        for (int i = 0; i < rows; i++)
            for (int o = 0; o < out; o++) {
                double acc = b[o];
                for (int k = 0; k < in; k++) {
                    double wk = w[o * in + k];
                    for (int j = 0; j < r; j++) wk += s * alpha / r * bb[o * r + j] * a[j * in + k];
                    acc += x[i * in + k] * wk;
                }
                y[i * out + o] = acc;
            }
        return y;
    }

    @Test
    void forwardIsTheBasePlusScaledLowRankProductOnRandomInputs() {
        int[][] cases = {{5, 3, 2, 1}, {7, 4, 3, 2}, {8, 8, 4, 3}, {3, 6, 1, 4}};
        for (int[] c : cases) {
            int in = c[0], out = c[1], r = c[2], rows = c[3];
            double alpha = 1.5 + r;
            try (Generator g = Generator.create(in * 10L + r); LoraLinear l = new LoraLinear(in, out, true, r, alpha, g, Device.CPU);
                 Scope s = Scope.open()) {
                Tiny.randomise(l, n -> n.equals("lora_B"), 0.5, 7);
                Tensor x = Tensor.randn(g, rows, in);
                double[] w = l.namedParameters().get("weight").toDoubleArray();
                double[] b = l.namedParameters().get("bias").toDoubleArray();
                double[] a = l.namedParameters().get("lora_A").toDoubleArray();
                double[] bb = l.namedParameters().get("lora_B").toDoubleArray();
                for (double scale : new double[] {1.0, 0.5, 0.0}) {
                    double[] want = reference(x.toDoubleArray(), rows, w, b, a, bb, in, out, r, alpha, scale);
                    assertArrayEquals(want, l.forward(x, scale).toDoubleArray(), 1e-5, "in " + in + " out " + out + " r " + r + " scale " + scale);
                }
            }
        }
    }

    @Test
    void startsEqualToTheBaseLayerBecauseBIsZero() {
        try (Generator g = Generator.create(1); LoraLinear l = new LoraLinear(6, 5, true, 3, 6, g, Device.CPU); Scope s = Scope.open()) {
            for (float v : l.namedParameters().get("lora_B").toFloatArray()) assertEquals(0f, v);
            float[] a = l.namedParameters().get("lora_A").toFloatArray();
            double bound = 1 / Math.sqrt(6);
            boolean nonZero = false;
            for (float v : a) {
                assertTrue(Math.abs(v) <= bound, "A is Kaiming-uniform within 1/sqrt(in)");
                nonZero |= v != 0;
            }
            assertTrue(nonZero, "A is random, not zero");
            Tensor x = Tensor.randn(g, 4, 6);
            assertArrayEquals(l.forward(x, 0).toFloatArray(), l.forward(x, 1).toFloatArray(), "adapted == base at init, bit for bit");
        }
    }

    @Test
    void badInputsNameWhatWasExpected() {
        try (Generator g = Generator.create(1); LoraLinear l = new LoraLinear(6, 5, true, 2, 2, g, Device.CPU); Scope s = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> l.forward(Tensor.zeros(3, 7), 1));
            assertTrue(e.getMessage().contains("expects last dimension 6"), e.getMessage());
        }
        try (Generator g = Generator.create(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LoraLinear(4, 4, true, -1, 1, g, Device.CPU));
            assertTrue(e.getMessage().contains("rank must be >= 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new LoraLinear(4, 4, true, 2, 0, g, Device.CPU));
            assertTrue(e.getMessage().contains("alpha must be finite and > 0"), e.getMessage());
        }
    }

    /**
     * No-grad forwards use the merged weight: they equal the per-call adapter (forwards with grad recording) and the
     * double-precision reference up to float rounding, and the cache follows every change of a parameter (an AdamW
     * step, copyFrom, fill), of the scale and of the module's tensors; scale 0 never merges.
     */
    @Test
    void noGradForwardsUseTheMergedWeightAndFollowEveryParameterChange() {
        int in = 9, out = 7, r = 3, rows = 5;
        double alpha = 4;
        try (Generator g = Generator.create(11); LoraLinear l = new LoraLinear(in, out, true, r, alpha, g, Device.CPU);
             Scope s = Scope.open()) {
            Tiny.randomise(l, n -> n.equals("lora_B"), 0.5, 3);
            Tensor x = Tensor.randn(g, rows, in);
            var p = l.namedParameters();
            java.util.function.DoubleFunction<double[]> want = scale -> reference(x.toDoubleArray(), rows, p.get("weight").toDoubleArray(),
                    p.get("bias").toDoubleArray(), p.get("lora_A").toDoubleArray(), p.get("lora_B").toDoubleArray(), in, out, r, alpha, scale);
            java.util.function.DoubleFunction<double[]> noGrad = scale -> {
                try (var ng = io.progrpo.tensor.Autograd.noGrad()) {
                    return l.forward(x, scale).toDoubleArray();
                }
            };
            assertTrue(LoraLinear.MERGE, "merging is the default");
            assertArrayEquals(want.apply(1), noGrad.apply(1), 1e-5);
            assertTrue(l.hasMergedWeight(), "the no-grad forward merged");
            double[] perCall = l.forward(x, 1).toDoubleArray();
            assertFalse(l.hasMergedWeight(), "a gradient-recording forward frees the merged weight");
            assertArrayEquals(perCall, noGrad.apply(1), 1e-5, "merged == per-call adapter up to rounding");
            assertTrue(l.hasMergedWeight(), "merged again");
            // an optimizer step on the adapters changes B and A in place: the next no-grad forward sees the new values
            try (var opt = new io.progrpo.tensor.optim.AdamW(java.util.List.of(p.get("lora_A"), p.get("lora_B")),
                    io.progrpo.tensor.optim.AdamW.Options.DEFAULTS.withLr(0.05))) {
                l.forward(x, 1).square().sum().backward();
                opt.step();
            }
            assertArrayEquals(want.apply(1), noGrad.apply(1), 1e-5, "after an AdamW step");
            try (var ng = io.progrpo.tensor.Autograd.noGrad()) {
                p.get("weight").copyFrom(Tensor.randn(g, out, in));
            }
            assertArrayEquals(want.apply(1), noGrad.apply(1), 1e-5, "after copyFrom into the weight");
            assertArrayEquals(want.apply(0.5), noGrad.apply(0.5), 1e-5, "another scale");
            assertArrayEquals(want.apply(1), noGrad.apply(1), 1e-5, "back to scale 1");
            try (var ng = io.progrpo.tensor.Autograd.noGrad()) {
                p.get("lora_B").fill(0.25);
            }
            assertArrayEquals(want.apply(1), noGrad.apply(1), 1e-5, "after fill on B");
            assertArrayEquals(want.apply(0), noGrad.apply(0), 1e-5, "scale 0: the base layer");
            l.to(Device.CPU, io.progrpo.tensor.DType.FLOAT64); // new parameter tensors: the cache keyed on the old ones is stale
            try (Scope in64 = Scope.open()) {
                double[] base = reference(x.toDoubleArray(), rows, l.namedParameters().get("weight").toDoubleArray(),
                        l.namedParameters().get("bias").toDoubleArray(), l.namedParameters().get("lora_A").toDoubleArray(),
                        l.namedParameters().get("lora_B").toDoubleArray(), in, out, r, alpha, 1);
                try (var ng = io.progrpo.tensor.Autograd.noGrad()) {
                    Tensor y = l.forward(x.to(io.progrpo.tensor.DType.FLOAT64), 1);
                    assertEquals(io.progrpo.tensor.DType.FLOAT64, y.dtype());
                    assertArrayEquals(base, y.toDoubleArray(), 1e-12, "after to(float64): merged from the new tensors");
                }
            }
        }
    }

    @Test
    void aTensorVersionCountsInPlaceOps() {
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.zeros(3);
            long v0 = t.version();
            t.fill(1);
            assertTrue(t.version() > v0, "fill advances the version");
            long v1 = t.version();
            Tensor u = t.add(t); // out of place
            assertEquals(v1, t.version(), "an out-of-place op does not");
            u.close();
            assertThrows(IllegalStateException.class, u::version, "a closed tensor has no version");
        }
    }
}
