package io.progrpo.world.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class WorldModelTest {
    static final int VOCAB = 16;
    static final int TOKENS = 3;

    static WorldModelConfig small(int size, Parameterization p) {
        return new WorldModelConfig(size, 8, VOCAB, TOKENS, p);
    }

    /** Replaces the zero-initialised output layer by small random values so outputs are not trivially 0. */
    static void randomiseOutput(WorldModel m, long seed) {
        try (var ng = Autograd.noGrad(); Generator g = Generator.create(seed); Scope s = Scope.open()) {
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                if (e.getKey().startsWith("out.")) e.getValue().copyFrom(Tensor.randn(g, e.getValue().shape()).mul(0.1));
            }
        }
    }

    static Tensor tokens(long[] ids, int rows) {
        return Tensor.of(ids, rows, TOKENS);
    }

    @Test
    void outputHasTheLatentShapeAndIsFloat32AtBothSizes() {
        for (int size : new int[] {16, 32}) {
            for (Parameterization p : Parameterization.values()) {
                try (WorldModel m = new WorldModel(small(size, p), 1); Scope s = Scope.open(); Generator g = Generator.create(2)) {
                    randomiseOutput(m, 3);
                    Tensor x = Tensor.randn(g, 2, 3, size, size);
                    Tensor t = Tensor.of(new float[] {0.3f, p == Parameterization.VELOCITY ? 1f : 999f}, 2);
                    Tensor y = m.predict(x, t, tokens(new long[] {1, 7, 11, 0, 0, 0}, 2)); // second row: unconditional
                    assertArrayEquals(new long[] {2, 3, size, size}, y.shape());
                    assertEquals(DType.FLOAT32, y.dtype());
                    for (float v : y.toFloatArray()) assertTrue(Float.isFinite(v), "finite output at " + size + " " + p);
                }
            }
        }
    }

    @Test
    void untrainedOutputIsZeroBecauseTheLastConvIsZeroInitialised() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.VELOCITY), 1); Scope s = Scope.open(); Generator g = Generator.create(2)) {
            Tensor y = m.predict(Tensor.randn(g, 2, 3, 16, 16), Tensor.rand(g, 2), tokens(new long[] {1, 7, 11, 2, 8, 12}, 2));
            for (float v : y.toFloatArray()) assertEquals(0f, v);
        }
    }

    @Test
    void runsInBfloat16AndReturnsFloat32CloseToTheFloat32Model() {
        try (WorldModel a = new WorldModel(small(16, Parameterization.VELOCITY), 5);
             WorldModel b = new WorldModel(small(16, Parameterization.VELOCITY), 5);
             Scope s = Scope.open(); Generator g = Generator.create(2)) {
            randomiseOutput(a, 9);
            randomiseOutput(b, 9);
            b.to(Device.CPU, DType.BFLOAT16);
            assertEquals(DType.BFLOAT16, b.dtype());
            Tensor x = Tensor.randn(g, 3, 3, 16, 16);
            Tensor t = Tensor.rand(g, 3);
            Tensor c = tokens(new long[] {1, 7, 11, 3, 9, 15, 0, 0, 0}, 3);
            Tensor ya = a.predict(x, t, c);
            Tensor yb = b.predict(x, t, c);
            assertEquals(DType.FLOAT32, yb.dtype());
            assertArrayEquals(ya.shape(), yb.shape());
            double err = ya.sub(yb).abs().amax().item();
            double scale = ya.abs().amax().item();
            assertTrue(scale > 0, "a non-trivial output");
            assertTrue(err <= 0.1 * scale + 0.02, "bf16 output within bf16 precision of float32: max error " + err + ", max |y| " + scale);
        }
    }

    @Test
    void sameSeedSameParametersAndOutputs() {
        WorldModelConfig cfg = small(16, Parameterization.VELOCITY);
        try (WorldModel a = new WorldModel(cfg, 42); WorldModel b = new WorldModel(cfg, 42); WorldModel c = new WorldModel(cfg, 43);
             Scope s = Scope.open(); Generator g = Generator.create(2)) {
            Map<String, Tensor> pa = a.namedParameters();
            Map<String, Tensor> pb = b.namedParameters();
            assertEquals(pa.keySet(), pb.keySet());
            for (String k : pa.keySet()) assertArrayEquals(pa.get(k).toFloatArray(), pb.get(k).toFloatArray(), k);
            assertFalse(Arrays.equals(pa.get("stem.weight").toFloatArray(), c.namedParameters().get("stem.weight").toFloatArray()),
                    "another seed gives other parameters");
            randomiseOutput(a, 1);
            randomiseOutput(b, 1);
            Tensor x = Tensor.randn(g, 2, 3, 16, 16);
            Tensor t = Tensor.rand(g, 2);
            Tensor cond = tokens(new long[] {1, 7, 11, 2, 8, 12}, 2);
            assertArrayEquals(a.predict(x, t, cond).toFloatArray(), b.predict(x, t, cond).toFloatArray());
        }
    }

    @Test
    void conditioningAndTimeChangeTheOutput() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.VELOCITY), 7); Scope s = Scope.open(); Generator g = Generator.create(2)) {
            randomiseOutput(m, 4);
            Tensor x = Tensor.randn(g, 1, 3, 16, 16);
            float[] base = m.predict(x, Tensor.of(new float[] {0.5f}, 1), tokens(new long[] {1, 7, 11}, 1)).toFloatArray();
            float[] otherWord = m.predict(x, Tensor.of(new float[] {0.5f}, 1), tokens(new long[] {2, 7, 11}, 1)).toFloatArray();
            float[] otherTime = m.predict(x, Tensor.of(new float[] {0.9f}, 1), tokens(new long[] {1, 7, 11}, 1)).toFloatArray();
            assertFalse(Arrays.equals(base, otherWord), "the color token matters");
            assertFalse(Arrays.equals(base, otherTime), "the time matters");
        }
    }

    /**
     * predict frees its intermediates as soon as they are consumed: without gradient that returns memory at once, with
     * gradient autograd keeps what backward needs. Both modes give the same output bit for bit, the gradient still
     * reaches every parameter, and no tensor handle is left behind in either mode.
     */
    @Test
    void eagerFreeingKeepsOutputsAndGradientsInBothGradModes() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.VELOCITY), 9); Generator g = Generator.create(5);
             Scope outer = Scope.open()) {
            randomiseOutput(m, 6);
            Tensor x = Tensor.randn(g, 3, 3, 16, 16);
            Tensor t = Tensor.rand(g, 3);
            Tensor c = tokens(new long[] {1, 7, 11, 2, 8, 12, 3, 9, 13}, 3);
            long live = io.progrpo.tensor.MemoryLedger.liveTensors();
            float[] noGrad;
            try (var ng = Autograd.noGrad(); Tensor y = m.predict(x, t, c).unscoped()) {
                noGrad = y.toFloatArray();
                assertFalse(y.requiresGrad());
            }
            assertEquals(live, io.progrpo.tensor.MemoryLedger.liveTensors(), "no handle left behind without gradient");
            try (Tensor y = m.predict(x, t, c).unscoped()) {
                assertArrayEquals(noGrad, y.toFloatArray(), "the same output with and without gradient");
                assertTrue(y.requiresGrad());
                try (Scope inner = Scope.open()) {
                    y.square().sum().backward();
                }
            }
            assertEquals(live, io.progrpo.tensor.MemoryLedger.liveTensors(), "no handle left behind with gradient");
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                try (Scope inner = Scope.open()) {
                    Tensor grad = e.getValue().grad();
                    assertTrue(grad != null && grad.abs().sum().item() > 0, "gradient reaches " + e.getKey());
                }
            }
        }
    }

    @Test
    void predictDoesNotLeakIntermediates() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.EPSILON), 7); Generator g = Generator.create(2);
             Scope outer = Scope.open()) {
            Tensor x = Tensor.randn(g, 2, 3, 16, 16);
            Tensor t = Tensor.of(new float[] {10f, 500f}, 2);
            Tensor c = tokens(new long[] {1, 7, 11, 2, 8, 12}, 2);
            int before = outer.size();
            m.predict(x, t, c);
            assertEquals(before + 1, outer.size(), "only the output lands in the caller's scope");
        }
    }

    @Test
    void wrongImageShapeNamesExpectedAndActual() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.VELOCITY), 1); Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(2, 3, 8, 8);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> m.predict(x, Tensor.zeros(2), tokens(new long[6], 2)));
            assertTrue(e.getMessage().contains("[B, 3, 16, 16]") && e.getMessage().contains("[2, 3, 8, 8]"), e.getMessage());
            var channels = assertThrows(IllegalArgumentException.class,
                    () -> m.predict(Tensor.zeros(2, 1, 16, 16), Tensor.zeros(2), tokens(new long[6], 2)));
            assertTrue(channels.getMessage().contains("[2, 1, 16, 16]"), channels.getMessage());
        }
    }

    @Test
    void wrongTokenDtypeNamesExpectedAndActual() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.VELOCITY), 1); Scope s = Scope.open()) {
            Tensor ints = Tensor.of(new int[] {1, 7, 11, 2, 8, 12}, 2, 3);
            var e = assertThrows(IllegalArgumentException.class, () -> m.predict(Tensor.zeros(2, 3, 16, 16), Tensor.zeros(2), ints));
            assertTrue(e.getMessage().contains("int64") && e.getMessage().contains("int32"), e.getMessage());
            Tensor floats = Tensor.zeros(2, 3);
            var f = assertThrows(IllegalArgumentException.class, () -> m.predict(Tensor.zeros(2, 3, 16, 16), Tensor.zeros(2), floats));
            assertTrue(f.getMessage().contains("float32"), f.getMessage());
        }
    }

    @Test
    void wrongTokenCountOrTimeShapeNamesExpectedAndActual() {
        try (WorldModel m = new WorldModel(small(16, Parameterization.VELOCITY), 1); Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(2, 3, 16, 16);
            var e = assertThrows(IllegalArgumentException.class, () -> m.predict(x, Tensor.zeros(2), Tensor.of(new long[8], 2, 4)));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 4]"), e.getMessage());
            var t = assertThrows(IllegalArgumentException.class, () -> m.predict(x, Tensor.zeros(3), tokens(new long[6], 2)));
            assertTrue(t.getMessage().contains("[2]") && t.getMessage().contains("[3]"), t.getMessage());
        }
    }

    @Test
    void configRejectsBadValuesNamingThem() {
        var odd = assertThrows(IllegalArgumentException.class, () -> new WorldModelConfig(15, 32, 16, 3, Parameterization.VELOCITY));
        assertTrue(odd.getMessage().contains("15"), odd.getMessage());
        var width = assertThrows(IllegalArgumentException.class, () -> new WorldModelConfig(16, 30, 16, 3, Parameterization.VELOCITY));
        assertTrue(width.getMessage().contains("30"), width.getMessage());
        var vocab = assertThrows(IllegalArgumentException.class, () -> new WorldModelConfig(16, 32, 1, 3, Parameterization.VELOCITY));
        assertTrue(vocab.getMessage().contains("1"), vocab.getMessage());
        var tokens = assertThrows(IllegalArgumentException.class, () -> new WorldModelConfig(16, 32, 16, 0, Parameterization.VELOCITY));
        assertTrue(tokens.getMessage().contains("0"), tokens.getMessage());
        var p = assertThrows(IllegalArgumentException.class, () -> new WorldModelConfig(16, 32, 16, 3, null));
        assertTrue(p.getMessage().contains("null"), p.getMessage());
    }
}
