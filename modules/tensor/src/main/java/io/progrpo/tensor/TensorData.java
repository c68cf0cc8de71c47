package io.progrpo.tensor;

import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A tensor's elements to and from Java: copies into Java arrays (through a contiguous CPU copy of the wanted dtype),
 * single values, the raw address internal copies write through, the checks of {@link Tensor#dataSegment()}, and the
 * identity that tells two handles of the same elements apart from copies. The public methods are on {@link Tensor}.
 */
final class TensorData {
    private TensorData() {}

    /** The first element's address as an unbounded-scope segment of {@code bytes}; for internal copies only. */
    static MemorySegment rawData(Tensor t, long bytes) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_tensor_data_ptr(t.handle(), s.out), "data_ptr");
        return s.outAddress(0).reinterpret(bytes);
    }

    /** The data address of an open, confined, contiguous CPU tensor, for {@link Tensor#dataSegment()}. */
    static MemorySegment segmentAddress(Tensor t) {
        if (t.device().isCuda()) throw new IllegalStateException("dataSegment() needs a CPU tensor, this one is on " + t.device());
        long[] st = t.strides();
        long[] sh = t.shapeRef();
        long expect = 1;
        for (int i = sh.length - 1; i >= 0; i--) {
            if (sh[i] != 1 && st[i] != expect) throw new IllegalStateException("dataSegment() needs a contiguous tensor; call contiguous() first");
            expect *= sh[i];
        }
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_tensor_data_ptr(t.handle(), s.out), "data_ptr");
        return s.outAddress(0);
    }

    /** Storage, first element's address, sizes and strides: equal for two handles of the same elements. */
    static TensorAccess.Identity identity(Tensor t) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_tensor_data_ptr(t.handle(), s.out), "data_ptr");
        long address = s.outAddress(0).address();
        return new TensorAccess.Identity(t.storageKey(), address,
                Arrays.stream(t.shapeRef()).boxed().toList(), Arrays.stream(t.strides()).boxed().toList());
    }

    private static Tensor cpuContiguous(Tensor t, DType want) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_to(t.handle(), want.code(), 0, 0, s.out), () -> Tensor.describe("to", t));
        MemorySegment h = s.outAddress(0);
        int st = progrpo_torch_h.pt_contiguous(h, s.out);
        progrpo_torch_h.pt_tensor_free(h); // the intermediate is freed on failure too
        Native.check(st, "contiguous");
        return Tensor.adoptOut(0);
    }

    static float[] toFloatArray(Tensor t) {
        try (Tensor c = cpuContiguous(t, DType.FLOAT32)) {
            return c.numel() == 0 ? new float[0] : rawData(c, c.numel() * 4).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    static double[] toDoubleArray(Tensor t) {
        try (Tensor c = cpuContiguous(t, DType.FLOAT64)) {
            return c.numel() == 0 ? new double[0] : rawData(c, c.numel() * 8).toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    static long[] toLongArray(Tensor t) {
        try (Tensor c = cpuContiguous(t, DType.INT64)) {
            return c.numel() == 0 ? new long[0] : rawData(c, c.numel() * 8).toArray(ValueLayout.JAVA_LONG);
        }
    }

    static int[] toIntArray(Tensor t) {
        try (Tensor c = cpuContiguous(t, DType.INT32)) {
            return c.numel() == 0 ? new int[0] : rawData(c, c.numel() * 4).toArray(ValueLayout.JAVA_INT);
        }
    }

    static boolean[] toBooleanArray(Tensor t) {
        try (Tensor c = cpuContiguous(t, DType.BOOL)) {
            byte[] b = c.numel() == 0 ? new byte[0] : rawData(c, c.numel()).toArray(ValueLayout.JAVA_BYTE);
            boolean[] r = new boolean[b.length];
            for (int i = 0; i < b.length; i++) r[i] = b[i] != 0;
            return r;
        }
    }

    static double item(Tensor t) {
        if (t.numel() != 1) throw new IllegalStateException("item() needs a one-element tensor, got " + t.describe());
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_item_double(t.handle(), s.doubles), () -> Tensor.describe("item", t));
        return s.doubles.getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
    }

    static long itemLong(Tensor t) {
        if (t.numel() != 1) throw new IllegalStateException("itemLong() needs a one-element tensor, got " + t.describe());
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_item_int64(t.handle(), s.longs), () -> Tensor.describe("item", t));
        return s.longs.getAtIndex(ValueLayout.JAVA_LONG, 0);
    }
}
