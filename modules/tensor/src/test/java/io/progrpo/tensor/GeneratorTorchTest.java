package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Seeded generators, their saved state, and the runtime's self-description. */
class GeneratorTorchTest extends TensorTestBase {

    @Test
    void sameSeedSameSamplesDifferentSeedDifferentSamples() {
        try (Generator a = Generator.create(1234); Generator b = Generator.create(1234); Generator c = Generator.create(1235)) {
            float[] x = Tensor.randn(a, 64).toFloatArray();
            assertArrayEquals(x, Tensor.randn(b, 64).toFloatArray());
            assertFalse(java.util.Arrays.equals(x, Tensor.randn(c, 64).toFloatArray()));
            assertFalse(java.util.Arrays.equals(x, Tensor.randn(a, 64).toFloatArray()), "draws advance the generator");
            assertEquals(1234, a.initialSeed());
            assertEquals(Device.CPU, a.device());
            a.setSeed(1234);
            assertArrayEquals(x, Tensor.randn(a, 64).toFloatArray(), "setSeed restarts the sequence");
        }
    }

    @Test
    void randnLooksStandardNormalAndRandIsInUnitInterval() {
        try (Generator g = Generator.create(7)) {
            double[] x = Tensor.randn(g, DType.FLOAT64, Device.CPU, 20000).toDoubleArray();
            double m = 0, v = 0;
            for (double e : x) m += e / x.length;
            for (double e : x) v += (e - m) * (e - m) / x.length;
            assertEquals(0, m, 0.05, "mean");
            assertEquals(1, v, 0.05, "variance");
            for (float u : Tensor.rand(g, 1000).toFloatArray()) assertTrue(u >= 0 && u < 1, "rand in [0, 1): " + u);
        }
    }

    @Test
    void stateRestoresTheSequence() {
        try (Generator g = Generator.create(99)) {
            Tensor.randn(g, 10);
            Tensor saved = g.state();
            assertEquals(DType.UINT8, saved.dtype());
            float[] first = Tensor.randn(g, 32).toFloatArray();
            float[] uniform = Tensor.rand(g, 8).toFloatArray();
            g.setState(saved);
            assertArrayEquals(first, Tensor.randn(g, 32).toFloatArray());
            assertArrayEquals(uniform, Tensor.rand(g, 8).toFloatArray());
            TorchException bad = assertThrows(TorchException.class, () -> g.setState(Tensor.ones(3)));
            assertTrue(bad.getMessage().contains("generator_set_state") && bad.getMessage().contains("[3] float32"), bad.getMessage());
        }
        Generator closed = Generator.create(1);
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, () -> Tensor.randn(closed, 2));
    }

    @Test
    void runtimeDescribesItself() {
        assertTrue(Torch.isAvailable());
        assertTrue(Torch.unavailableReason().isEmpty());
        assertTrue(Character.isDigit(Torch.version().charAt(0)), Torch.version());
        assertTrue(Torch.version().matches("\\d+\\.\\d+\\.\\d+"), Torch.version());
        assertFalse(Torch.describe().isBlank());
        assertTrue(Torch.describe().contains(Torch.version()));
        assertEquals(2, Torch.abiVersion());
        assertTrue(Torch.numThreads() >= 1);
        assertTrue(Torch.shimPath().isPresent());
        int threads = Torch.numThreads();
        Torch.setNumThreads(1);
        assertEquals(1, Torch.numThreads());
        Torch.setNumThreads(threads);
        assertThrows(IllegalArgumentException.class, () -> Torch.setNumThreads(0));
        Torch.manualSeed(5);
        float[] a = Tensor.randn(null, 4).toFloatArray();
        Torch.manualSeed(5);
        assertArrayEquals(a, Tensor.randn(null, 4).toFloatArray(), "manualSeed seeds the default generator");
    }

    @Test
    void withoutCudaTheCudaQueriesAreInert() {
        Assumptions.assumeFalse(Torch.cudaAvailable(), "this check is for machines without CUDA");
        assertFalse(Torch.cudaAvailable());
        assertEquals(0, Torch.cudaDeviceCount());
        assertEquals(new MemoryLedger.CudaStats(0, 0, 0, 0), MemoryLedger.cudaStats(0));
        long bytes = MemoryLedger.bytes(Device.CPU);
        MemoryLedger.emptyCache();
        MemoryLedger.resetPeaks();
        assertEquals(bytes, MemoryLedger.bytes(Device.CPU));
        assertEquals(0, MemoryLedger.bytes(Device.cuda(0)));
        assertEquals(bytes, MemoryLedger.peakBytes(Device.CPU), "resetPeaks sets the peak to the current bytes");
    }

    @Test
    void devicesParseAndPrint() {
        assertEquals(Device.CPU, Device.parse(" CPU "));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(3), Device.parse("cuda:3"));
        assertEquals("cuda:3", Device.cuda(3).toString());
        assertTrue(Device.cuda(1).isCuda());
        assertEquals("bfloat16", DType.BFLOAT16.toString());
        assertEquals(2, DType.BFLOAT16.byteSize());
        assertFalse(DType.INT32.isFloatingPoint());
    }
}
