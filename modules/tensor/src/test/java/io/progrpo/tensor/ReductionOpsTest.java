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

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

/** Reductions against plain-Java double recomputation: all dims, chosen dims, keepdim. */
class ReductionOpsTest extends TensorTestBase {
    private static final long[] SHAPE = {3, 4, 5};

    /** The values of {@code x} grouped by output position of a reduction over {@code dims} (keepdim layout). */
    private static double[][] groups(double[] x, long[] shape, long... dims) {
        long[] kept = shape.clone();
        for (long d : dims) kept[(int) d] = 1;
        int outN = TestSupport.numel(kept);
        int per = x.length / outN;
        double[][] g = new double[outN][per];
        int[] fill = new int[outN];
        for (int i = 0; i < x.length; i++) {
            int[] idx = unravel(i, shape);
            for (long d : dims) idx[(int) d] = 0;
            int o = offset(kept, idx);
            g[o][fill[o]++] = x[i];
        }
        return g;
    }

    private static long[] allDims(long[] shape) {
        long[] d = new long[shape.length];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return d;
    }

    private static double[] apply(double[][] groups, Function<double[], Double> f) {
        double[] out = new double[groups.length];
        for (int i = 0; i < groups.length; i++) out[i] = f.apply(groups[i]);
        return out;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double e : v) s += e;
        return s;
    }

    private static double mean(double[] v) {
        return sum(v) / v.length;
    }

    private static double var(double[] v, int correction) {
        double m = mean(v), s = 0;
        for (double e : v) s += (e - m) * (e - m);
        return s / (v.length - correction);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    private static double[] bools(boolean[] b) {
        double[] d = new double[b.length];
        for (int i = 0; i < b.length; i++) d[i] = b[i] ? 1 : 0;
        return d;
    }

    @Test
    void sumMeanAmaxAminOverAllAndChosenDims() {
        Random r = new Random(21);
        double[] x = gaussian(r, 60);
        Tensor tx = t(x, SHAPE);
        double[][] all = groups(x, SHAPE, allDims(SHAPE));
        double[][] d1 = groups(x, SHAPE, 1);
        double[][] d02 = groups(x, SHAPE, 0, 2);
        record R(String name, Function<double[], Double> ref, Function<Tensor, Tensor> allOp,
                 java.util.function.BiFunction<Tensor, long[], Tensor> keep, java.util.function.BiFunction<Tensor, long[], Tensor> drop) {}
        R[] rs = {
            new R("sum", ReductionOpsTest::sum, Tensor::sum, (t, d) -> t.sum(true, d), (t, d) -> t.sum(false, d)),
            new R("mean", ReductionOpsTest::mean, Tensor::mean, (t, d) -> t.mean(true, d), (t, d) -> t.mean(false, d)),
            new R("amax", ReductionOpsTest::max, Tensor::amax, (t, d) -> t.amax(true, d), (t, d) -> t.amax(false, d)),
            new R("amin", ReductionOpsTest::min, Tensor::amin, (t, d) -> t.amin(true, d), (t, d) -> t.amin(false, d)),
        };
        for (R op : rs) {
            Tensor a = op.allOp.apply(tx);
            assertEquals(0, a.dim(), op.name + " over all is 0-d");
            assertEquals(apply(all, op.ref)[0], a.item(), 1e-5, op.name + " over all");
            Tensor k1 = op.drop.apply(tx, new long[] {1});
            assertShape(k1, 3, 5);
            assertClose(apply(d1, op.ref), k1, op.name + " over dim 1");
            Tensor k02 = op.keep.apply(tx, new long[] {0, 2});
            assertShape(k02, 1, 4, 1);
            assertClose(apply(d02, op.ref), k02, op.name + " over dims 0,2 keepdim");
            Tensor neg = op.drop.apply(tx, new long[] {-1});
            assertShape(neg, 3, 4);
            assertClose(apply(groups(x, SHAPE, 2), op.ref), neg, op.name + " over dim -1");
        }
    }

    @Test
    void prodOverAllDims() {
        Random r = new Random(22);
        double[] x = TestSupport.uniform(r, 24, 0.8, 1.25);
        double p = 1;
        for (double e : x) p *= e;
        assertEquals(p, t(x, 2, 3, 4).prod().item(), 1e-5 * Math.abs(p));
    }

    @Test
    void anyAndAllTreatNonZeroAsTrue() {
        Random r = new Random(23);
        double[] x = new double[60];
        for (int i = 0; i < 60; i++) x[i] = r.nextDouble() < 0.7 ? 0 : r.nextGaussian();
        for (int j = 0; j < 5; j++) x[offset(SHAPE, 0, 1, j)] = 0; // row [0,1,:] all zero
        for (int j = 0; j < 5; j++) x[offset(SHAPE, 2, 2, j)] = 1; // row [2,2,:] all non-zero
        Tensor tx = t(x, SHAPE);
        double[] anyRef = apply(groups(x, SHAPE, 2), v -> Arrays.stream(v).anyMatch(e -> e != 0) ? 1.0 : 0.0);
        double[] allRef = apply(groups(x, SHAPE, 2), v -> Arrays.stream(v).allMatch(e -> e != 0) ? 1.0 : 0.0);
        Tensor any = tx.any(false, 2);
        assertEquals(DType.BOOL, any.dtype());
        assertShape(any, 3, 4);
        assertArrayEquals(anyRef, bools(any.toBooleanArray()), "any over dim 2");
        assertArrayEquals(allRef, bools(tx.all(false, 2).toBooleanArray()), "all over dim 2");
        Tensor anyKeep = tx.any(true, 1, 2);
        assertShape(anyKeep, 3, 1, 1);
        assertArrayEquals(apply(groups(x, SHAPE, 1, 2), v -> Arrays.stream(v).anyMatch(e -> e != 0) ? 1.0 : 0.0),
                bools(anyKeep.toBooleanArray()), "any over dims 1,2 keepdim");
        assertArrayEquals(apply(groups(x, SHAPE, 0, 2), v -> Arrays.stream(v).allMatch(e -> e != 0) ? 1.0 : 0.0),
                bools(tx.all(true, 0, 2).toBooleanArray()), "all over dims 0,2 keepdim");
        assertEquals(1.0, tx.any().item());
        assertEquals(0.0, tx.all().item());
        assertEquals(1.0, Tensor.ones(2, 2).all().item());
        assertEquals(0.0, Tensor.zeros(2, 2).any().item());
    }

    @Test
    void varAndStdWithCorrectionZeroAndOne() {
        Random r = new Random(24);
        double[] x = gaussian(r, 60);
        Tensor tx = t(x, SHAPE);
        for (int c = 0; c <= 1; c++) {
            final int corr = c;
            double v = var(x, corr);
            assertEquals(v, tx.var(corr, false).item(), 1e-5, "var over all, correction " + corr);
            assertEquals(Math.sqrt(v), tx.std(corr, false).item(), 1e-5, "std over all, correction " + corr);
            double[][] g = groups(x, SHAPE, 1);
            Tensor vk = tx.var(corr, true, 1);
            assertShape(vk, 3, 1, 5);
            assertClose(apply(g, e -> var(e, corr)), vk, "var over dim 1, correction " + corr);
            assertClose(apply(g, e -> Math.sqrt(var(e, corr))), tx.std(corr, false, 1), "std over dim 1, correction " + corr);
        }
    }

    @Test
    void maxWithIndicesArgmaxAndNorm() {
        Random r = new Random(25);
        double[] x = gaussian(r, 60);
        Tensor tx = t(x, SHAPE);
        Tensor.MaxResult m = tx.max(1, false);
        assertShape(m.values(), 3, 5);
        assertEquals(DType.INT64, m.indices().dtype());
        double[] vals = new double[15];
        long[] idx = new long[15];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 5; k++) {
                int best = 0;
                for (int j = 1; j < 4; j++) if (x[offset(SHAPE, i, j, k)] > x[offset(SHAPE, i, best, k)]) best = j;
                vals[i * 5 + k] = x[offset(SHAPE, i, best, k)];
                idx[i * 5 + k] = best;
            }
        assertClose(vals, m.values(), "max values");
        assertArrayEquals(idx, m.indices().toLongArray(), "max indices");
        assertArrayEquals(idx, tx.argmax(1, false).toLongArray(), "argmax");
        Tensor.MaxResult mk = tx.max(1, true);
        assertShape(mk.values(), 3, 1, 5);
        assertShape(mk.indices(), 3, 1, 5);
        assertShape(tx.argmax(1, true), 3, 1, 5);

        for (double p : new double[] {1, 2, 3}) {
            double s = 0;
            for (double e : x) s += Math.pow(Math.abs(e), p);
            assertEquals(Math.pow(s, 1 / p), tx.norm(p).item(), 1e-4, "norm p=" + p);
        }
    }
}
