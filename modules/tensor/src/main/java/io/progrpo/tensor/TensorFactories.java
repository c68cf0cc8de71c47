package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Creating tensors: filled, ranged and random ones through the shim's factories, and copies of (or, for
 * {@link #wrap}, views on) Java arrays and memory segments. Every new tensor goes to the scope open on the calling
 * thread, or to the caller. The public factories, and their documentation, are on {@link Tensor}.
 */
final class TensorFactories {
    private TensorFactories() {}

    private static void checkShape(long[] shape) {
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape must have sizes >= 0, got " + Arrays.toString(shape));
        }
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    static Tensor empty(DType dtype, Device device, long[] shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_empty(s.longs(shape), shape.length, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "empty(" + Arrays.toString(shape) + ", " + dtype + ", " + device + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor full(double value, DType dtype, Device device, long[] shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_full(s.longs(shape), shape.length, value, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "full(" + Arrays.toString(shape) + ", " + dtype + ", " + device + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor arange(double start, double end, double step, DType dtype, Device device) {
        Native.ensureLoaded();
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_arange(start, end, step, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "arange(" + start + ", " + end + ", " + step + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor linspace(double start, double end, long steps, DType dtype, Device device) {
        Native.ensureLoaded();
        if (steps < 1) throw new IllegalArgumentException("linspace needs steps >= 1, got " + steps);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_linspace(start, end, steps, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "linspace(" + start + ", " + end + ", " + steps + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor randn(Generator gen, DType dtype, Device device, long[] shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_randn(s.longs(shape), shape.length, dtype.code(), device.typeCode(),
                device.index(), g, s.out)), () -> "randn(" + Arrays.toString(shape) + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor rand(Generator gen, DType dtype, Device device, long[] shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_rand(s.longs(shape), shape.length, dtype.code(), device.typeCode(),
                device.index(), g, s.out)), () -> "rand(" + Arrays.toString(shape) + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor randint(Generator gen, long low, long high, Device device, long[] shape) {
        Native.ensureLoaded();
        if (high <= low) throw new IllegalArgumentException("randint needs low < high, got [" + low + ", " + high + ")");
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_randint(low, high, s.longs(shape), shape.length, device.typeCode(),
                device.index(), g, s.out)), () -> "randint(" + low + ", " + high + ")");
        return Tensor.adoptOut(0);
    }

    static Tensor randperm(Generator gen, long n, Device device) {
        Native.ensureLoaded();
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_randperm(n, device.typeCode(), device.index(), g, s.out)),
                () -> "randperm(" + n + ")");
        return Tensor.adoptOut(0);
    }

    /** A CPU tensor of {@code shape} holding a copy of a Java array of {@code length} elements of {@code layout}. */
    private static Tensor fromHeap(Object array, int length, DType dtype, ValueLayout layout, long[] shape) {
        checkShape(shape);
        if (count(shape) != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape)
                    + " elements, the array has " + length);
        }
        Tensor t = empty(dtype, Device.CPU, shape);
        if (length > 0) {
            MemorySegment dst = TensorData.rawData(t, length * layout.byteSize());
            switch (array) {
                case float[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfFloat) layout, 0, length);
                case double[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfDouble) layout, 0, length);
                case long[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfLong) layout, 0, length);
                case int[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfInt) layout, 0, length);
                case byte[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfByte) layout, 0, length);
                default -> throw new AssertionError(array.getClass());
            }
        }
        return t;
    }

    static Tensor of(float[] data, long[] shape) {
        return fromHeap(data, data.length, DType.FLOAT32, ValueLayout.JAVA_FLOAT, shape);
    }

    static Tensor of(double[] data, long[] shape) {
        return fromHeap(data, data.length, DType.FLOAT64, ValueLayout.JAVA_DOUBLE, shape);
    }

    static Tensor of(long[] data, long[] shape) {
        return fromHeap(data, data.length, DType.INT64, ValueLayout.JAVA_LONG, shape);
    }

    static Tensor of(int[] data, long[] shape) {
        return fromHeap(data, data.length, DType.INT32, ValueLayout.JAVA_INT, shape);
    }

    static Tensor of(boolean[] data, long[] shape) {
        byte[] b = new byte[data.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
        return fromHeap(b, b.length, DType.BOOL, ValueLayout.JAVA_BYTE, shape);
    }

    static Tensor copyOf(MemorySegment segment, DType dtype, long[] shape) {
        checkShape(shape);
        long bytes = count(shape) * dtype.byteSize();
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment has " + segment.byteSize() + " bytes, shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs " + bytes);
        }
        Tensor t = empty(dtype, Device.CPU, shape);
        if (bytes > 0) MemorySegment.copy(segment, 0, TensorData.rawData(t, bytes), 0, bytes);
        return t;
    }

    static Tensor wrap(MemorySegment segment, DType dtype, long[] shape) {
        Native.ensureLoaded();
        checkShape(shape);
        if (!segment.isNative()) throw new IllegalArgumentException("wrap needs a native segment; use copyOf for heap segments");
        if (!segment.scope().equals(Arena.global().scope())) {
            throw new IllegalArgumentException("wrap views memory without copying, so the memory must outlive every libtorch reference"
                    + " to it; it needs a segment of the global scope (Arena.global(), or MemorySegment.ofAddress(address).reinterpret(size)"
                    + " for memory you keep valid yourself), got one of an arena that frees it when closed or collected;"
                    + " use Tensor.copyOf(segment, ...) to copy it, or write into Tensor.empty(...).dataSegment()");
        }
        long bytes = count(shape) * dtype.byteSize();
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment has " + segment.byteSize() + " bytes, shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs " + bytes);
        }
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_from_blob(segment, s.longs(shape), shape.length, dtype.code(), s.out), "from_blob");
        return Tensor.adoptOut(0);
    }
}
