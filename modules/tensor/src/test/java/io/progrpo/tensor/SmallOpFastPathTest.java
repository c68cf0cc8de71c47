package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

/**
 * The shim computes small same-shape float32 arithmetic with a plain loop instead of libtorch's dispatcher. The
 * results must be bit-identical to libtorch's own kernels: checked against the same op on a tensor too large for the
 * fast path (whose first elements are the small operands) and against Java's IEEE float arithmetic.
 */
class SmallOpFastPathTest extends TensorTestBase {
    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
        v[0] = 0f;
        v[1] = Float.NaN;
        v[2] = Float.POSITIVE_INFINITY;
        return v;
    }

    @Test
    void smallBinaryOpsMatchLibtorchKernelsBitForBit() {
        Random r = new Random(7);
        int small = 16;
        int large = 8192; // above the fast path's limit
        float[] a = random(r, large);
        float[] b = random(r, large);
        Tensor ta = Tensor.of(Arrays.copyOf(a, small), small);
        Tensor tb = Tensor.of(Arrays.copyOf(b, small), small);
        Tensor la = Tensor.of(a, large);
        Tensor lb = Tensor.of(b, large);
        Tensor[] fast = {ta.add(tb), ta.sub(tb), ta.mul(tb), ta.div(tb), ta.add(0.1), ta.sub(3.7), ta.mul(1e-3), ta.div(7)};
        Tensor[] ref = {la.add(lb), la.sub(lb), la.mul(lb), la.div(lb), la.add(0.1), la.sub(3.7), la.mul(1e-3), la.div(7)};
        for (int k = 0; k < fast.length; k++) {
            float[] f = fast[k].toFloatArray();
            float[] g = Arrays.copyOf(ref[k].toFloatArray(), small);
            for (int i = 0; i < small; i++) {
                assertTrue(Float.floatToIntBits(f[i]) == Float.floatToIntBits(g[i]) || (Float.isNaN(f[i]) && Float.isNaN(g[i])),
                        "op " + k + " element " + i + ": fast " + f[i] + ", libtorch " + g[i]);
            }
        }
        float[] sum = fast[0].toFloatArray();
        for (int i = 3; i < small; i++) assertTrue(sum[i] == a[i] + b[i], "IEEE float add at " + i);
    }

    @Test
    void operandsThatNeedGradientTakeLibtorchsPathAndRecordTheGraph() {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3).setRequiresGrad(true);
        Tensor b = Tensor.of(new float[] {4, 5, 6}, 3);
        Tensor c = a.mul(b);
        assertTrue(c.requiresGrad());
        c.sum().backward();
        assertArrayEquals(new float[] {4, 5, 6}, a.grad().toFloatArray());
        try (var ng = Autograd.noGrad()) {
            assertFalse(a.mul(b).requiresGrad());
        }
    }

    @Test
    void broadcastingAndOtherDtypesStillWork() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor row = Tensor.of(new float[] {10, 20}, 2);
        assertArrayEquals(new float[] {11, 22, 13, 24}, a.add(row).toFloatArray());
        Tensor d = Tensor.of(new double[] {1.5, 2.5}, 2);
        assertArrayEquals(new double[] {4.5, 12.5}, d.mul(d.rdiv(1).rdiv(2)).toDoubleArray(), 1e-12); // d * 2d
    }
}
