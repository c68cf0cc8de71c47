package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;

/**
 * Element-wise ops: the binary (tensor and scalar) and unary families, dispatched by the shim's op codes (the order
 * of {@link #BINARY} and {@link #UNARY}), and the others with a call of their own (addcmul, clamp, where, softmax,
 * the in-place ops, which return their tensor). The public methods are on {@link Tensor}.
 *
 * <p>{@link #binary}, {@link #binaryScalar} and {@link #unary} are the small-op hot path: one downcall, no allocation
 * before it, and the error text is built only after a failure. Keep them that small.
 */
final class ElementwiseOps {
    private ElementwiseOps() {}

    /** Names of the binary op codes of pt_binary and pt_binary_scalar (14 and 15: scalar only). */
    private static final String[] BINARY = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "atan2", "rsub", "rdiv"};
    /** Names of the op codes of pt_unary. */
    private static final String[] UNARY = {"neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "silu", "gelu", "relu",
        "sin", "cos", "square", "rsqrt", "reciprocal", "floor", "sign", "isnan", "isfinite", "log1p", "expm1", "logical_not"};

    static Tensor binary(Tensor t, int op, Tensor o) {
        MemorySegment a = t.handle();
        MemorySegment b = o.handle();
        Native.Scratch s = Native.scratch();
        int st = progrpo_torch_h.pt_binary(op, a, b, s.out);
        if (st != 0) Native.check(st, Tensor.describe(BINARY[op], t, o));
        return Tensor.adoptOut(0);
    }

    static Tensor binaryScalar(Tensor t, int op, double v) {
        MemorySegment a = t.handle();
        Native.Scratch s = Native.scratch();
        int st = progrpo_torch_h.pt_binary_scalar(op, a, v, s.out);
        if (st != 0) Native.check(st, Tensor.describe(BINARY[op] + " " + v, t));
        return Tensor.adoptOut(0);
    }

    static Tensor unary(Tensor t, int op) {
        MemorySegment a = t.handle();
        Native.Scratch s = Native.scratch();
        int st = progrpo_torch_h.pt_unary(op, a, s.out);
        if (st != 0) Native.check(st, Tensor.describe(UNARY[op], t));
        return Tensor.adoptOut(0);
    }

    static Tensor addcmul(Tensor t, Tensor b, Tensor c, double alpha) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_addcmul(t.handle(), b.handle(), c.handle(), alpha, s.out), () -> Tensor.describe("addcmul", t, b, c));
        return Tensor.adoptOut(0);
    }

    static Tensor clamp(Tensor t, double lo, double hi) {
        if (Double.isNaN(lo) || Double.isNaN(hi) || lo > hi) throw new IllegalArgumentException("clamp needs lo <= hi, got [" + lo + ", " + hi + "]");
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_clamp(t.handle(), lo, hi, s.out), () -> Tensor.describe("clamp", t));
        return Tensor.adoptOut(0);
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_where(cond.handle(), a.handle(), b.handle(), s.out), () -> Tensor.describe("where", cond, a, b));
        return Tensor.adoptOut(0);
    }

    static Tensor softmax(Tensor t, long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_softmax(t.handle(), d, s.out), () -> Tensor.describe("softmax(dim " + d + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor logSoftmax(Tensor t, long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_log_softmax(t.handle(), d, s.out), () -> Tensor.describe("log_softmax(dim " + d + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor addInPlace(Tensor t, Tensor other, double alpha) {
        Native.check(progrpo_torch_h.pt_add_(t.handle(), other.handle(), alpha), () -> Tensor.describe("add_", t, other));
        return t;
    }

    static Tensor mulInPlace(Tensor t, double v) {
        Native.check(progrpo_torch_h.pt_mul_scalar_(t.handle(), v), () -> Tensor.describe("mul_", t));
        return t;
    }

    static Tensor fill(Tensor t, double v) {
        Native.check(progrpo_torch_h.pt_fill_(t.handle(), v), () -> Tensor.describe("fill_", t));
        return t;
    }

    static Tensor copyFrom(Tensor t, Tensor src) {
        Native.check(progrpo_torch_h.pt_copy_(t.handle(), src.handle()), () -> Tensor.describe("copy_", t, src));
        return t;
    }
}
