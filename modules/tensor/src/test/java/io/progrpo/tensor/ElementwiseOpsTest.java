package io.progrpo.tensor;

import static io.progrpo.tensor.TestSupport.assertClose;
import static io.progrpo.tensor.TestSupport.assertShape;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.t;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;

/** Elementwise ops against plain-Java double recomputation on seeded random inputs. */
class ElementwiseOpsTest extends TensorTestBase {
    private static final long[] A_SHAPE = {3, 1, 4};
    private static final long[] B_SHAPE = {2, 4};
    private static final long[] OUT_SHAPE = {3, 2, 4};

    /** a [3,1,4] op b [2,4] broadcast to [3,2,4], in plain Java. */
    private static double[] broadcast(double[] a, double[] b, DoubleBinaryOperator op) {
        double[] out = new double[24];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 4; k++) out[(i * 2 + j) * 4 + k] = op.applyAsDouble(a[i * 4 + k], b[j * 4 + k]);
        return out;
    }

    private static double[] bool(boolean[] b) {
        double[] d = new double[b.length];
        for (int i = 0; i < b.length; i++) d[i] = b[i] ? 1 : 0;
        return d;
    }

    private static double b(boolean v) {
        return v ? 1 : 0;
    }

    private void checkBinary(String name, double[] a, double[] bv, BiFunction<Tensor, Tensor, Tensor> op, DoubleBinaryOperator ref,
                             boolean isBool) {
        Tensor r = op.apply(t(a, A_SHAPE), t(bv, B_SHAPE));
        assertShape(r, OUT_SHAPE);
        assertEquals(isBool ? DType.BOOL : DType.FLOAT32, r.dtype(), name + " dtype");
        double[] got = isBool ? bool(r.toBooleanArray()) : r.toDoubleArray();
        assertClose(broadcast(a, bv, ref), got, 1e-5, 1e-5, name);
    }

    @Test
    void binaryOpsBroadcastLikePlainJava() {
        Random r = new Random(11);
        double[] a = gaussian(r, 12);
        double[] bv = gaussian(r, 8);
        for (int k = 0; k < 4; k++) bv[k] = a[k]; // some equal pairs so eq/le/ge see ties: a[0,0,k] vs b[0,k]
        double[] bNonZero = bv.clone();
        for (int i = 0; i < bNonZero.length; i++) if (Math.abs(bNonZero[i]) < 0.1) bNonZero[i] = 0.5;
        double[] aPos = a.clone();
        for (int i = 0; i < aPos.length; i++) aPos[i] = (float) (Math.abs(aPos[i]) + 0.25);

        checkBinary("add", a, bv, Tensor::add, Double::sum, false);
        checkBinary("sub", a, bv, Tensor::sub, (x, y) -> x - y, false);
        checkBinary("mul", a, bv, Tensor::mul, (x, y) -> x * y, false);
        checkBinary("div", a, bNonZero, Tensor::div, (x, y) -> x / y, false);
        checkBinary("pow", aPos, bv, Tensor::pow, Math::pow, false);
        checkBinary("maximum", a, bv, Tensor::maximum, Math::max, false);
        checkBinary("minimum", a, bv, Tensor::minimum, Math::min, false);
        checkBinary("atan2", a, bv, Tensor::atan2, Math::atan2, false);
        checkBinary("eq", a, bv, Tensor::eq, (x, y) -> b(x == y), true);
        checkBinary("ne", a, bv, Tensor::ne, (x, y) -> b(x != y), true);
        checkBinary("lt", a, bv, Tensor::lt, (x, y) -> b(x < y), true);
        checkBinary("le", a, bv, Tensor::le, (x, y) -> b(x <= y), true);
        checkBinary("gt", a, bv, Tensor::gt, (x, y) -> b(x > y), true);
        checkBinary("ge", a, bv, Tensor::ge, (x, y) -> b(x >= y), true);
        // the ties really occur, so eq is not vacuously all-false
        try (Tensor e = t(a, A_SHAPE).eq(t(bv, B_SHAPE)); Tensor any = e.any()) {
            assertEquals(1.0, any.item());
        }
    }

    private void checkScalar(String name, double[] x, Function<Tensor, Tensor> op, DoubleUnaryOperator ref, boolean isBool) {
        Tensor r = op.apply(t(x, 4, 5));
        assertShape(r, 4, 5);
        double[] exp = new double[x.length];
        for (int i = 0; i < x.length; i++) exp[i] = ref.applyAsDouble(x[i]);
        assertClose(exp, isBool ? bool(r.toBooleanArray()) : r.toDoubleArray(), 1e-5, 1e-5, name);
    }

    @Test
    void scalarFormsMatchPlainJava() {
        Random r = new Random(12);
        double[] x = gaussian(r, 20);
        for (int i = 0; i < x.length; i++) if (Math.abs(x[i]) < 0.1) x[i] = -0.75;
        double[] pos = x.clone();
        for (int i = 0; i < pos.length; i++) pos[i] = Math.abs(pos[i]);
        double v = 0.375; // exact in float32, so float and double arithmetic agree to rounding
        double tie = x[3];
        checkScalar("add", x, t -> t.add(v), e -> e + v, false);
        checkScalar("sub", x, t -> t.sub(v), e -> e - v, false);
        checkScalar("mul", x, t -> t.mul(v), e -> e * v, false);
        checkScalar("div", x, t -> t.div(v), e -> e / v, false);
        checkScalar("pow", pos, t -> t.pow(2.5), e -> Math.pow(e, 2.5), false);
        checkScalar("maximum", x, t -> t.maximum(v), e -> Math.max(e, v), false);
        checkScalar("minimum", x, t -> t.minimum(v), e -> Math.min(e, v), false);
        checkScalar("rsub", x, t -> t.rsub(v), e -> v - e, false);
        checkScalar("rdiv", x, t -> t.rdiv(v), e -> v / e, false);
        checkScalar("eq", x, t -> t.eq(tie), e -> b(e == tie), true);
        checkScalar("ne", x, t -> t.ne(tie), e -> b(e != tie), true);
        checkScalar("lt", x, t -> t.lt(tie), e -> b(e < tie), true);
        checkScalar("le", x, t -> t.le(tie), e -> b(e <= tie), true);
        checkScalar("gt", x, t -> t.gt(tie), e -> b(e > tie), true);
        checkScalar("ge", x, t -> t.ge(tie), e -> b(e >= tie), true);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void unaryOpsMatchPlainJava() {
        Random r = new Random(13);
        double[] x = gaussian(r, 20);
        x[0] = 0;
        x[1] = -2.5;
        x[2] = 2.5;
        double[] pos = x.clone();
        for (int i = 0; i < pos.length; i++) pos[i] = (float) (Math.abs(pos[i]) + 0.1);
        checkScalar("neg", x, Tensor::neg, e -> -e, false);
        checkScalar("exp", x, Tensor::exp, Math::exp, false);
        checkScalar("log", pos, Tensor::log, Math::log, false);
        checkScalar("sqrt", pos, Tensor::sqrt, Math::sqrt, false);
        checkScalar("abs", x, Tensor::abs, Math::abs, false);
        checkScalar("tanh", x, Tensor::tanh, Math::tanh, false);
        checkScalar("sigmoid", x, Tensor::sigmoid, ElementwiseOpsTest::sigmoid, false);
        checkScalar("silu", x, Tensor::silu, e -> e * sigmoid(e), false);
        checkScalar("gelu", x, Tensor::gelu, e -> 0.5 * e * (1 + TestSupport.erf(e / Math.sqrt(2))), false);
        checkScalar("relu", x, Tensor::relu, e -> Math.max(e, 0), false);
        checkScalar("sin", x, Tensor::sin, Math::sin, false);
        checkScalar("cos", x, Tensor::cos, Math::cos, false);
        checkScalar("square", x, Tensor::square, e -> e * e, false);
        checkScalar("rsqrt", pos, Tensor::rsqrt, e -> 1 / Math.sqrt(e), false);
        checkScalar("reciprocal", pos, Tensor::reciprocal, e -> 1 / e, false);
        checkScalar("floor", x, Tensor::floor, Math::floor, false);
        checkScalar("sign", x, Tensor::sign, Math::signum, false);
        checkScalar("log1p", pos, Tensor::log1p, Math::log1p, false);
        checkScalar("expm1", x, Tensor::expm1, Math::expm1, false);
        checkScalar("logicalNot", x, Tensor::logicalNot, e -> b(e == 0), true);

        double[] special = x.clone();
        special[4] = Double.NaN;
        special[5] = Double.POSITIVE_INFINITY;
        special[6] = Double.NEGATIVE_INFINITY;
        checkScalar("isnan", special, Tensor::isnan, e -> b(Double.isNaN(e)), true);
        checkScalar("isfinite", special, Tensor::isfinite, e -> b(Double.isFinite(e)), true);
    }

    @Test
    void addcmulClampWhere() {
        Random r = new Random(14);
        double[] a = gaussian(r, 12), bv = gaussian(r, 12), c = gaussian(r, 12);
        double[] exp = new double[12];
        for (int i = 0; i < 12; i++) exp[i] = a[i] + 0.7 * bv[i] * c[i];
        assertClose(exp, t(a, 3, 4).addcmul(t(bv, 3, 4), t(c, 3, 4), 0.7), "addcmul");

        double[] lo = new double[12], hi = new double[12], both = new double[12];
        for (int i = 0; i < 12; i++) {
            both[i] = Math.min(Math.max(a[i], -0.5), 0.25);
            lo[i] = Math.max(a[i], -0.5);
            hi[i] = Math.min(a[i], 0.25);
        }
        assertClose(both, t(a, 3, 4).clamp(-0.5, 0.25), "clamp");
        assertClose(lo, t(a, 3, 4).clamp(-0.5, Double.POSITIVE_INFINITY), "clamp below only");
        assertClose(hi, t(a, 3, 4).clamp(Double.NEGATIVE_INFINITY, 0.25), "clamp above only");

        // where with a [3,4] condition, a [3,4] tensor and a broadcast [4] tensor
        boolean[] cond = new boolean[12];
        for (int i = 0; i < 12; i++) cond[i] = r.nextBoolean();
        double[] row = gaussian(r, 4);
        double[] w = new double[12];
        for (int i = 0; i < 12; i++) w[i] = cond[i] ? a[i] : row[i % 4];
        Tensor got = Tensor.where(Tensor.of(cond, 3, 4), t(a, 3, 4), t(row, 4));
        assertArrayEquals(TestSupport.f(w), got.toFloatArray(), "where");
    }

    @Test
    void softmaxAndLogSoftmaxOverAMiddleDimension() {
        Random r = new Random(15);
        long[] shape = {3, 5, 4};
        double[] x = gaussian(r, 60);
        for (int i = 0; i < 60; i++) x[i] *= 3;
        double[] sm = new double[60], lsm = new double[60];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 4; k++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < 5; j++) max = Math.max(max, x[(i * 5 + j) * 4 + k]);
                double z = 0;
                for (int j = 0; j < 5; j++) z += Math.exp(x[(i * 5 + j) * 4 + k] - max);
                for (int j = 0; j < 5; j++) {
                    int o = (i * 5 + j) * 4 + k;
                    sm[o] = Math.exp(x[o] - max) / z;
                    lsm[o] = x[o] - max - Math.log(z);
                }
            }
        assertClose(sm, t(x, shape).softmax(1), "softmax");
        assertClose(lsm, t(x, shape).logSoftmax(1), "log_softmax");
        assertClose(lsm, t(x, shape).logSoftmax(-2), "log_softmax with a negative dim");
    }

    @Test
    void inPlaceOpsMutateTheReceiver() {
        Random r = new Random(16);
        double[] a = gaussian(r, 6), bv = gaussian(r, 6);
        Tensor ta = t(a, 2, 3);
        Tensor same = ta.addInPlace(t(bv, 2, 3), -2).mulInPlace(0.5);
        double[] exp = new double[6];
        for (int i = 0; i < 6; i++) exp[i] = (a[i] - 2 * bv[i]) * 0.5;
        assertClose(exp, ta, "add_ then mul_");
        assertEquals(ta, same);
        ta.fill(1.5);
        assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, ta.toFloatArray());
        ta.copyFrom(t(java.util.Arrays.copyOf(bv, 3), 3));
        assertArrayEquals(TestSupport.f(new double[] {bv[0], bv[1], bv[2], bv[0], bv[1], bv[2]}), ta.toFloatArray(), "copy_ broadcasts");
    }
}
