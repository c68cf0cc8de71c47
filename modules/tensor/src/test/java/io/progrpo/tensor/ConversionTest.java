package io.progrpo.tensor;

import static io.progrpo.tensor.TestSupport.assertClose;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.t;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** dtype conversion, Java arrays in and out, and MemorySegment interop (copy and zero-copy). */
class ConversionTest extends TensorTestBase {

    @Test
    void toEveryDtypeAndBackKeepsExactValues() {
        Random r = new Random(51);
        float[] ints = new float[24];
        for (int i = 0; i < ints.length; i++) ints[i] = r.nextInt(101); // 0..100: exact in every dtype but bool
        Tensor src = Tensor.of(ints, 2, 3, 4);
        for (DType dt : DType.values()) {
            Tensor c = src.to(dt);
            assertEquals(dt, c.dtype(), "to(" + dt + ")");
            TestSupport.assertShape(c, 2, 3, 4);
            float[] back = c.to(DType.FLOAT32).toFloatArray();
            if (dt == DType.BOOL) {
                for (int i = 0; i < ints.length; i++) assertEquals(ints[i] != 0 ? 1f : 0f, back[i], "bool round trip at " + i);
            } else {
                assertArrayEquals(ints, back, "round trip through " + dt);
            }
        }
        // fractional values: exact through float64, rounded to the format's precision through the half types
        double[] g = gaussian(r, 24);
        Tensor tg = t(g, 24);
        assertArrayEquals(TestSupport.f(g), tg.to(DType.FLOAT64).to(DType.FLOAT32).toFloatArray(), "float64 round trip");
        assertClose(g, tg.to(DType.FLOAT16).toDoubleArray(), 1e-3, 1e-3, "float16 round trip (11-bit significand)");
        assertClose(g, tg.to(DType.BFLOAT16).toDoubleArray(), 1e-2, 8e-3, "bfloat16 round trip (8-bit significand)");
        assertEquals(DType.FLOAT32, tg.to(Device.CPU).dtype(), "to(device) keeps the dtype");
        assertArrayEquals(new long[] {1, -2, 3}, Tensor.of(new float[] {1.9f, -2.7f, 3.2f}, 3).to(DType.INT64).toLongArray(),
                "float to int truncates toward zero as in torch");
    }

    @Test
    void ofAndToArrayForEveryArrayType() {
        Random r = new Random(52);
        float[] fl = TestSupport.f(gaussian(r, 6));
        double[] db = new double[6];
        long[] lg = new long[6];
        int[] in = new int[6];
        boolean[] bo = new boolean[6];
        for (int i = 0; i < 6; i++) {
            db[i] = r.nextGaussian();
            lg[i] = r.nextLong() >> 8; // beyond float and int range
            in[i] = r.nextInt();
            bo[i] = r.nextBoolean();
        }
        Tensor tf = Tensor.of(fl, 2, 3), td = Tensor.of(db, 3, 2), tl = Tensor.of(lg, 6), ti = Tensor.of(in, 1, 6), tb = Tensor.of(bo, 6, 1);
        assertEquals(DType.FLOAT32, tf.dtype());
        assertEquals(DType.FLOAT64, td.dtype());
        assertEquals(DType.INT64, tl.dtype());
        assertEquals(DType.INT32, ti.dtype());
        assertEquals(DType.BOOL, tb.dtype());
        assertArrayEquals(fl, tf.toFloatArray());
        assertArrayEquals(db, td.toDoubleArray());
        assertArrayEquals(lg, tl.toLongArray());
        assertArrayEquals(in, ti.toIntArray());
        assertArrayEquals(bo, tb.toBooleanArray());
        assertArrayEquals(new long[] {3, 2}, td.shape());
        // cross-type reads convert
        double[] fd = new double[6];
        for (int i = 0; i < 6; i++) fd[i] = fl[i];
        assertArrayEquals(fd, tf.toDoubleArray());
        long[] il = new long[6];
        for (int i = 0; i < 6; i++) il[i] = in[i];
        assertArrayEquals(il, ti.toLongArray());
        assertArrayEquals(new float[] {1, 2, 3}, Tensor.vector(1, 2, 3).toFloatArray());
        assertEquals(0, Tensor.of(new float[0], 0, 4).toFloatArray().length);
        // a non-contiguous tensor reads in logical (row-major) order
        assertArrayEquals(new float[] {fl[0], fl[3], fl[1], fl[4], fl[2], fl[5]}, tf.transpose(0, 1).toFloatArray());
        assertEquals(fl[4], (float) tf.select(0, 1).select(0, 1).item());
    }

    @Test
    void copyOfCopiesHeapAndNativeSegments() {
        float[] data = {1, 2, 3, 4, 5, 6};
        MemorySegment heap = MemorySegment.ofArray(data);
        Tensor fromHeap = Tensor.copyOf(heap, DType.FLOAT32, 2, 3);
        data[0] = 100;
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, fromHeap.toFloatArray(), "copyOf is a copy");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocateFrom(ValueLayout.JAVA_LONG, 7, 8, 9);
            Tensor fromNative = Tensor.copyOf(seg, DType.INT64, 3);
            seg.setAtIndex(ValueLayout.JAVA_LONG, 0, -1);
            assertArrayEquals(new long[] {7, 8, 9}, fromNative.toLongArray());
        }
    }

    @Test
    void wrapIsZeroCopyBothWays() {
        MemorySegment seg = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1, 2, 3, 4); // never freed (16 bytes)
        Tensor w = Tensor.wrap(seg, DType.FLOAT32, 2, 2);
        assertArrayEquals(new float[] {1, 2, 3, 4}, w.toFloatArray());
        seg.setAtIndex(ValueLayout.JAVA_FLOAT, 3, 40);
        assertArrayEquals(new float[] {1, 2, 3, 40}, w.toFloatArray(), "writing the segment changes the tensor");
        w.mulInPlace(2);
        assertEquals(2f, seg.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "writing the tensor changes the segment");
        w.close();
        IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                () -> Tensor.wrap(MemorySegment.ofArray(new float[4]), DType.FLOAT32, 4));
        assertTrue(heap.getMessage().contains("native"), heap.getMessage());
        MemorySegment small = Arena.global().allocate(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(small, DType.FLOAT32, 3));
        assertTrue(e.getMessage().contains("8 bytes") && e.getMessage().contains("needs 12"), e.getMessage());
    }

    @Test
    void dataSegmentViewsTheTensorsMemoryUntilClose() {
        Tensor x = Tensor.of(new double[] {1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, 2, 3);
        MemorySegment seg = x.dataSegment();
        assertEquals(48, seg.byteSize());
        assertArrayEquals(new double[] {1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, seg.toArray(ValueLayout.JAVA_DOUBLE));
        seg.setAtIndex(ValueLayout.JAVA_DOUBLE, 5, -1);
        assertEquals(-1.0, x.select(0, 1).select(0, 2).item(), "writes through the segment reach the tensor");
        IllegalStateException nc = assertThrows(IllegalStateException.class, () -> x.transpose(0, 1).dataSegment());
        assertTrue(nc.getMessage().contains("contiguous"), nc.getMessage());
        x.close();
        assertThrows(IllegalStateException.class, () -> seg.getAtIndex(ValueLayout.JAVA_DOUBLE, 0),
                "the segment is invalid once the tensor is closed, instead of reading freed memory");
    }
}
