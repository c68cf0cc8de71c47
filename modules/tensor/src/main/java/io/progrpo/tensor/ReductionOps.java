package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Reductions (sum, mean, amax, amin, prod, any, all by the shim's op codes; var and std; max with indices; argmax;
 * norm) and the matrix products that contract dimensions (matmul, bmm). The public methods are on {@link Tensor}.
 */
final class ReductionOps {
    private ReductionOps() {}

    /** Reduces over {@code dims} (none: all of them) with op code {@code op} of pt_reduce, named {@code name}. */
    static Tensor reduce(Tensor t, int op, String name, boolean keepdim, long... dims) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_reduce(op, t.handle(), s.longs(dims), dims.length, keepdim ? 1 : 0, s.out),
                () -> Tensor.describe(name + " over " + (dims.length == 0 ? "all" : Arrays.toString(dims)), t));
        return Tensor.adoptOut(0);
    }

    /** {@code dims} of the forms that name dimensions, which must name at least one. */
    static long[] requireDims(long[] dims) {
        if (dims.length == 0) throw new IllegalArgumentException("name at least one dimension (use the no-argument form to reduce all)");
        return dims;
    }

    static Tensor varStd(Tensor t, long correction, boolean keepdim, boolean sqrt, long[] dims) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_var(t.handle(), s.longs(dims), dims.length, correction, keepdim ? 1 : 0, sqrt ? 1 : 0, s.out),
                () -> Tensor.describe(sqrt ? "std" : "var", t));
        return Tensor.adoptOut(0);
    }

    static Tensor.MaxResult max(Tensor t, long d, boolean keepdim) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_max_dim(t.handle(), d, keepdim ? 1 : 0, s.out, s.out.asSlice(8)),
                () -> Tensor.describe("max(dim " + d + ")", t));
        Tensor v = Tensor.adoptOut(0);
        return new Tensor.MaxResult(v, Tensor.adoptOut(1));
    }

    static Tensor argmax(Tensor t, long d, boolean keepdim) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_argmax(t.handle(), d, keepdim ? 1 : 0, s.out), () -> Tensor.describe("argmax(dim " + d + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor norm(Tensor t, double p) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_norm(t.handle(), p, s.out), () -> Tensor.describe("norm", t));
        return Tensor.adoptOut(0);
    }

    static Tensor matmul(Tensor t, Tensor o) {
        Native.Scratch s = Native.scratch();
        MemorySegment a = t.handle();
        MemorySegment b = o.handle();
        int st = progrpo_torch_h.pt_matmul(a, b, s.out);
        if (st != 0) Native.check(st, Tensor.describe("matmul", t, o));
        return Tensor.adoptOut(0);
    }

    static Tensor bmm(Tensor t, Tensor o) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_bmm(t.handle(), o.handle(), s.out), () -> Tensor.describe("bmm", t, o));
        return Tensor.adoptOut(0);
    }
}
