package io.progrpo.tensor;

import static io.progrpo.tensor.TestSupport.assertShape;
import static io.progrpo.tensor.TestSupport.f;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.offset;
import static io.progrpo.tensor.TestSupport.t;
import static io.progrpo.tensor.TestSupport.unravel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.function.Function;

/** Joining, slicing, indexing and re-shaping, checked element by element against plain-Java indexing. */
class ShapeOpsTest extends TensorTestBase {
    private static final long[] S = {2, 3, 4};

    /** Expected values of an op whose result element at {@code idx} is x at {@code source(idx)}. */
    private static float[] gatherBy(double[] x, long[] inShape, long[] outShape, Function<int[], int[]> source) {
        float[] out = new float[TestSupport.numel(outShape)];
        for (int i = 0; i < out.length; i++) out[i] = (float) x[offset(inShape, source.apply(unravel(i, outShape)))];
        return out;
    }

    @Test
    void catAndStack() {
        Random r = new Random(31);
        double[] a = gaussian(r, 24), b = gaussian(r, 12);
        Tensor c = Tensor.cat(List.of(t(a, S), t(b, 2, 3, 2)), 2);
        assertShape(c, 2, 3, 6);
        float[] exp = new float[36];
        for (int i = 0; i < 36; i++) {
            int[] ix = unravel(i, new long[] {2, 3, 6});
            exp[i] = (float) (ix[2] < 4 ? a[offset(S, ix[0], ix[1], ix[2])] : b[offset(new long[] {2, 3, 2}, ix[0], ix[1], ix[2] - 4)]);
        }
        assertArrayEquals(exp, c.toFloatArray(), "cat along dim 2");

        double[] b2 = gaussian(r, 24);
        Tensor s = Tensor.stack(List.of(t(a, S), t(b2, S)), 1);
        assertShape(s, 2, 2, 3, 4);
        float[] se = new float[48];
        for (int i = 0; i < 48; i++) {
            int[] ix = unravel(i, new long[] {2, 2, 3, 4});
            se[i] = (float) (ix[1] == 0 ? a : b2)[offset(S, ix[0], ix[2], ix[3])];
        }
        assertArrayEquals(se, s.toFloatArray(), "stack along dim 1");
    }

    @Test
    void narrowSelectIndexSelectGather() {
        Random r = new Random(32);
        double[] x = gaussian(r, 24);
        Tensor tx = t(x, S);
        Tensor n = tx.narrow(2, 1, 2);
        assertShape(n, 2, 3, 2);
        assertArrayEquals(gatherBy(x, S, new long[] {2, 3, 2}, ix -> new int[] {ix[0], ix[1], ix[2] + 1}), n.toFloatArray(), "narrow");

        Tensor sel = tx.select(1, 2);
        assertShape(sel, 2, 4);
        assertArrayEquals(gatherBy(x, S, new long[] {2, 4}, ix -> new int[] {ix[0], 2, ix[1]}), sel.toFloatArray(), "select");
        assertArrayEquals(gatherBy(x, S, new long[] {2, 4}, ix -> new int[] {ix[0], 2, ix[1]}), tx.select(-2, -1).toFloatArray(),
                "select with negative dim and index");

        long[] rows = {2, 0, 2, 1};
        Tensor is = tx.indexSelect(1, rows);
        assertShape(is, 2, 4, 4);
        assertArrayEquals(gatherBy(x, S, new long[] {2, 4, 4}, ix -> new int[] {ix[0], (int) rows[ix[1]], ix[2]}), is.toFloatArray(),
                "index_select with long rows");
        assertArrayEquals(is.toFloatArray(), tx.indexSelect(1, Tensor.of(rows, 4)).toFloatArray(), "index_select with a tensor");

        long[] g = new long[2 * 3 * 2];
        for (int i = 0; i < g.length; i++) g[i] = r.nextInt(4);
        Tensor ga = tx.gather(2, Tensor.of(g, 2, 3, 2));
        assertShape(ga, 2, 3, 2);
        long[] gs = {2, 3, 2};
        assertArrayEquals(gatherBy(x, S, gs, ix -> new int[] {ix[0], ix[1], (int) g[offset(gs, ix)]}), ga.toFloatArray(), "gather");
    }

    @Test
    void reshapeViewPermuteTransposeExpand() {
        Random r = new Random(33);
        double[] x = gaussian(r, 24);
        Tensor tx = t(x, S);
        assertArrayEquals(f(x), tx.reshape(4, 6).toFloatArray(), "reshape keeps row-major order");
        assertShape(tx.reshape(4, -1), 4, 6);
        Tensor v = tx.view(6, 4);
        assertShape(v, 6, 4);
        assertArrayEquals(f(x), v.toFloatArray(), "view");

        Tensor p = tx.permute(2, 0, 1);
        assertShape(p, 4, 2, 3);
        assertArrayEquals(gatherBy(x, S, new long[] {4, 2, 3}, ix -> new int[] {ix[1], ix[2], ix[0]}), p.toFloatArray(), "permute");
        assertArrayEquals(new long[] {1, 12, 4}, p.strides(), "permute is a view with permuted strides");

        Tensor tr = tx.transpose(0, 2);
        assertShape(tr, 4, 3, 2);
        assertArrayEquals(gatherBy(x, S, new long[] {4, 3, 2}, ix -> new int[] {ix[2], ix[1], ix[0]}), tr.toFloatArray(), "transpose");
        assertArrayEquals(tr.toFloatArray(), tr.contiguous().toFloatArray(), "contiguous keeps values");
        assertArrayEquals(new long[] {6, 2, 1}, tr.contiguous().strides());

        double[] col = gaussian(r, 3);
        Tensor e = t(col, 3, 1).expand(2, 3, 4);
        assertShape(e, 2, 3, 4);
        assertArrayEquals(gatherBy(col, new long[] {3, 1}, S, ix -> new int[] {ix[1], 0}), e.toFloatArray(), "expand");
        assertArrayEquals(new long[] {0, 1, 0}, e.strides(), "expand does not copy");
    }

    @Test
    void squeezeUnsqueezeRepeatInterleave() {
        Random r = new Random(34);
        double[] x = gaussian(r, 6);
        Tensor tx = t(x, 2, 1, 3);
        assertShape(tx.squeeze(1), 2, 3);
        assertShape(tx.squeeze(0), 2, 1, 3); // a non-1 dimension is left alone, as in torch
        assertShape(tx.unsqueeze(0), 1, 2, 1, 3);
        assertShape(tx.unsqueeze(-1), 2, 1, 3, 1);
        assertArrayEquals(f(x), tx.squeeze(1).unsqueeze(2).toFloatArray());

        Tensor ri = t(x, 2, 3).repeatInterleave(2, 0);
        assertShape(ri, 4, 3);
        assertArrayEquals(gatherBy(x, new long[] {2, 3}, new long[] {4, 3}, ix -> new int[] {ix[0] / 2, ix[1]}), ri.toFloatArray(), "repeat_interleave dim 0");
        Tensor rc = t(x, 2, 3).repeatInterleave(3, 1);
        assertShape(rc, 2, 9);
        assertArrayEquals(gatherBy(x, new long[] {2, 3}, new long[] {2, 9}, ix -> new int[] {ix[0], ix[1] / 3}), rc.toFloatArray(), "repeat_interleave dim 1");
    }

    @Test
    void metadataAndFactories() {
        Tensor z = Tensor.zeros(DType.FLOAT64, Device.CPU, 2, 5);
        assertEquals(DType.FLOAT64, z.dtype());
        assertEquals(Device.CPU, z.device());
        assertEquals(2, z.dim());
        assertEquals(10, z.numel());
        assertEquals(5, z.size(-1));
        assertArrayEquals(new double[] {3, 3, 3}, Tensor.full(3, DType.FLOAT32, Device.CPU, 3).toDoubleArray());
        assertArrayEquals(new long[] {0, 2, 4, 6}, Tensor.arange(0, 8, 2, DType.INT64, Device.CPU).toLongArray());
        assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1}, Tensor.linspace(0, 1, 5, DType.FLOAT64, Device.CPU).toDoubleArray(), 1e-12);
        assertEquals(2.5, Tensor.scalar(2.5).item());
        assertEquals(0, Tensor.scalar(2.5).dim());
        assertEquals(7, Tensor.scalar(7, DType.INT64, Device.CPU).itemLong());
        assertEquals(0, Tensor.empty(DType.FLOAT32, Device.CPU, 0, 3).numel());
        long[] perm = Tensor.randperm(Generator.create(1), 10, Device.CPU).toLongArray();
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, java.util.Arrays.stream(perm).sorted().toArray(), "randperm is a permutation");
        for (long v : Tensor.randint(Generator.create(2), 3, 7, Device.CPU, 50).toLongArray()) {
            assertEquals(true, v >= 3 && v < 7, "randint in [3, 7): " + v);
        }
        Tensor d = t(new double[] {1, 2}, 2).setRequiresGrad(true);
        Tensor det = d.detach();
        assertEquals(false, det.requiresGrad());
        Tensor cl = d.clone_();
        assertArrayEquals(new float[] {1, 2}, cl.toFloatArray());
    }
}
