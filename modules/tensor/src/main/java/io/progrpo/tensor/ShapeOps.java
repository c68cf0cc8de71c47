package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * Conversion, views and indexing: dtype and device changes, copies, reshapes, dimension moves, slices, gathers and
 * the joins of several tensors. Each makes one shim call and adopts its new handle; a failure names the op, its
 * arguments and the operands' shapes. The public methods are on {@link Tensor}.
 */
final class ShapeOps {
    private ShapeOps() {}

    static Tensor to(Tensor t, Device dev, DType dt) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_to(t.handle(), dt.code(), dev.typeCode(), dev.index(), s.out),
                () -> Tensor.describe("to(" + dev + ", " + dt + ")", t));
        return Tensor.adoptOut(0);
    }

    /** clone (0), contiguous (1) or detach (2). */
    static Tensor copyOp(Tensor t, int which) {
        Native.Scratch s = Native.scratch();
        MemorySegment h = t.handle();
        int st = switch (which) {
            case 0 -> progrpo_torch_h.pt_clone(h, s.out);
            case 1 -> progrpo_torch_h.pt_contiguous(h, s.out);
            default -> progrpo_torch_h.pt_detach(h, s.out);
        };
        Native.check(st, () -> Tensor.describe(which == 0 ? "clone" : which == 1 ? "contiguous" : "detach", t));
        return Tensor.adoptOut(0);
    }

    static Tensor reshape(Tensor t, long[] shape) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_reshape(t.handle(), s.longs(shape), shape.length, s.out),
                () -> Tensor.describe("reshape to " + Arrays.toString(shape), t));
        return Tensor.adoptOut(0);
    }

    static Tensor view(Tensor t, long[] shape) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_view(t.handle(), s.longs(shape), shape.length, s.out),
                () -> Tensor.describe("view as " + Arrays.toString(shape), t));
        return Tensor.adoptOut(0);
    }

    static Tensor expand(Tensor t, long[] shape) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_expand(t.handle(), s.longs(shape), shape.length, s.out),
                () -> Tensor.describe("expand to " + Arrays.toString(shape), t));
        return Tensor.adoptOut(0);
    }

    static Tensor permute(Tensor t, long[] dims) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_permute(t.handle(), s.longs(dims), dims.length, s.out),
                () -> Tensor.describe("permute " + Arrays.toString(dims), t));
        return Tensor.adoptOut(0);
    }

    static Tensor transpose(Tensor t, long dim0, long dim1) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_transpose(t.handle(), dim0, dim1, s.out), () -> Tensor.describe("transpose(" + dim0 + ", " + dim1 + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor squeeze(Tensor t, long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_squeeze(t.handle(), d, s.out), () -> Tensor.describe("squeeze(" + d + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor unsqueeze(Tensor t, long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_unsqueeze(t.handle(), d, s.out), () -> Tensor.describe("unsqueeze(" + d + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor narrow(Tensor t, long d, long start, long length) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_narrow(t.handle(), d, start, length, s.out),
                () -> Tensor.describe("narrow(dim " + d + ", start " + start + ", length " + length + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor select(Tensor t, long d, long index) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_select(t.handle(), d, index, s.out), () -> Tensor.describe("select(dim " + d + ", index " + index + ")", t));
        return Tensor.adoptOut(0);
    }

    static Tensor indexSelect(Tensor t, long d, Tensor index) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_index_select(t.handle(), d, index.handle(), s.out),
                () -> Tensor.describe("index_select(dim " + d + ")", t, index));
        return Tensor.adoptOut(0);
    }

    static Tensor indexSelect(Tensor t, long d, long[] rows) {
        // libtorch reports only "index out of range in self"; name the offending index here instead
        long n = t.size(Math.toIntExact(d));
        for (long r : rows) {
            if (r < 0 || r >= n) {
                throw new IndexOutOfBoundsException("index_select: index " + r + " out of range [0, " + n + ") for dimension " + d
                        + " of size " + n + " in " + t.describe());
            }
        }
        try (Tensor idx = Tensor.of(rows, rows.length)) {
            return indexSelect(t, d, idx);
        }
    }

    static Tensor gather(Tensor t, long d, Tensor index) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_gather(t.handle(), d, index.handle(), s.out), () -> Tensor.describe("gather(dim " + d + ")", t, index));
        return Tensor.adoptOut(0);
    }

    static Tensor repeatInterleave(Tensor t, long repeats, long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_repeat_interleave(t.handle(), repeats, d, s.out), () -> Tensor.describe("repeat_interleave", t));
        return Tensor.adoptOut(0);
    }

    static Tensor cat(List<Tensor> ts, long d) {
        if (ts.isEmpty()) throw new IllegalArgumentException("cat needs at least one tensor");
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_cat(s.handles(ts), ts.size(), d, s.out),
                () -> Tensor.describe("cat(dim " + d + ")", ts.toArray(Tensor[]::new)));
        return Tensor.adoptOut(0);
    }

    static Tensor stack(List<Tensor> ts, long d) {
        if (ts.isEmpty()) throw new IllegalArgumentException("stack needs at least one tensor");
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_stack(s.handles(ts), ts.size(), d, s.out),
                () -> Tensor.describe("stack(dim " + d + ")", ts.toArray(Tensor[]::new)));
        return Tensor.adoptOut(0);
    }
}
