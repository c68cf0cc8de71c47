package io.progrpo.tensor.nn;

import static io.progrpo.tensor.TestSupport.assertClose;
import static io.progrpo.tensor.TestSupport.assertShape;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.t;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorTestBase;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** nn modules' forward passes against plain Java; parameter naming, state dicts, modes and close. */
class ModuleTest extends TensorTestBase {

    /** A block with two sub-modules, to check dotted names. */
    static final class Block extends Module {
        final Linear lin;
        final LayerNorm norm;

        Block(Generator g) {
            lin = registerModule("lin", new Linear(4, 3, g));
            norm = registerModule("norm", new LayerNorm(3, 1e-5, Device.CPU));
        }
    }

    /** A net with an own parameter registered after its sub-modules; own parameters are listed first. */
    static final class Net extends Module {
        Net(Generator g) {
            registerModule("encoder", new Block(g));
            registerModule("head", new Linear(3, 2, g));
            registerParameter("scale", Tensor.ones(1));
        }
    }

    private static double[] values(Tensor t) {
        return t.toDoubleArray();
    }

    @Test
    void linearForwardAndInitBounds() {
        Random r = new Random(81);
        try (Generator g = Generator.create(81); Linear lin = new Linear(5, 3, g)) {
            double[] w = values(lin.weight()), b = values(lin.namedParameters().get("bias"));
            for (double e : w) assertTrue(Math.abs(e) <= 1 / Math.sqrt(5), "U(-1/sqrt(in), 1/sqrt(in)) init: " + e);
            double[] x = gaussian(r, 4 * 5);
            double[] exp = new double[12];
            for (int i = 0; i < 4; i++)
                for (int o = 0; o < 3; o++) {
                    double s = b[o];
                    for (int k = 0; k < 5; k++) s += x[i * 5 + k] * w[o * 5 + k];
                    exp[i * 3 + o] = s;
                }
            assertClose(exp, lin.forward(t(x, 4, 5)), "Linear.forward");
            assertEquals(5, lin.inFeatures());
            assertEquals(3, lin.outFeatures());
            assertEquals(18, lin.parameterCount());
            assertTrue(lin.weight().requiresGrad());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.ones(2, 4)));
            assertTrue(e.getMessage().contains("expects last dimension 5") && e.getMessage().contains("[2, 4]"), e.getMessage());
        }
        try (Generator g = Generator.create(1); Linear noBias = new Linear(2, 2, false, g, Device.CPU)) {
            assertEquals(List.of("weight"), List.copyOf(noBias.namedParameters().keySet()));
        }
    }

    @Test
    void conv2dForwardMatchesLoops() {
        Random r = new Random(82);
        try (Generator g = Generator.create(82); Conv2d conv = new Conv2d(2, 3, 3, 2, 1, g, Device.CPU)) {
            double[] w = values(conv.namedParameters().get("weight")), b = values(conv.namedParameters().get("bias"));
            long[] xs = {1, 2, 5, 5};
            double[] x = gaussian(r, 50);
            double[] exp = new double[3 * 3 * 3];
            for (int o = 0; o < 3; o++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) {
                        double s = b[o];
                        for (int c = 0; c < 2; c++)
                            for (int u = 0; u < 3; u++)
                                for (int v = 0; v < 3; v++) {
                                    int yy = 2 * i - 1 + u, xx = 2 * j - 1 + v;
                                    if (yy >= 0 && yy < 5 && xx >= 0 && xx < 5) s += x[(c * 5 + yy) * 5 + xx] * w[((o * 2 + c) * 3 + u) * 3 + v];
                                }
                        exp[(o * 3 + i) * 3 + j] = s;
                    }
            Tensor y = conv.forward(t(x, xs));
            assertShape(y, 1, 3, 3, 3);
            assertClose(exp, y, 1e-5, "Conv2d.forward");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conv.forward(Tensor.ones(1, 3, 5, 5)));
            assertTrue(e.getMessage().contains("[N, 2, H, W]") && e.getMessage().contains("[1, 3, 5, 5]"), e.getMessage());
        }
    }

    @Test
    void normsAndEmbeddingForward() {
        Random r = new Random(83);
        double eps = 1e-5;
        try (LayerNorm ln = new LayerNorm(4, eps, Device.CPU); GroupNorm gn = new GroupNorm(2, 4, eps, Device.CPU);
             Generator g = Generator.create(83); Embedding emb = new Embedding(6, 3, g, Device.CPU)) {
            double[] x = gaussian(r, 3 * 4);
            double[] exp = new double[12];
            for (int i = 0; i < 3; i++) {
                double m = 0, v = 0;
                for (int k = 0; k < 4; k++) m += x[i * 4 + k] / 4;
                for (int k = 0; k < 4; k++) v += (x[i * 4 + k] - m) * (x[i * 4 + k] - m) / 4;
                for (int k = 0; k < 4; k++) exp[i * 4 + k] = (x[i * 4 + k] - m) / Math.sqrt(v + eps);
            }
            assertClose(exp, ln.forward(t(x, 3, 4)), 1e-4, "LayerNorm.forward");

            double[] gx = gaussian(r, 2 * 4 * 3);
            double[] gexp = new double[24];
            for (int n = 0; n < 2; n++)
                for (int grp = 0; grp < 2; grp++) {
                    int base = (n * 4 + grp * 2) * 3;
                    double m = 0, v = 0;
                    for (int i = 0; i < 6; i++) m += gx[base + i] / 6;
                    for (int i = 0; i < 6; i++) v += (gx[base + i] - m) * (gx[base + i] - m) / 6;
                    for (int i = 0; i < 6; i++) gexp[base + i] = (gx[base + i] - m) / Math.sqrt(v + eps);
                }
            assertClose(gexp, gn.forward(t(gx, 2, 4, 3)), 1e-4, "GroupNorm.forward");

            double[] table = values(emb.namedParameters().get("weight"));
            long[] idx = {5, 0, 2, 2};
            double[] eexp = new double[12];
            for (int i = 0; i < 4; i++) for (int k = 0; k < 3; k++) eexp[i * 3 + k] = table[(int) idx[i] * 3 + k];
            Tensor rows = emb.forward(Tensor.of(idx, 2, 2));
            assertShape(rows, 2, 2, 3);
            assertClose(eexp, rows, 0, "Embedding.forward");
            assertClose(eexp, emb.forward(Tensor.of(new int[] {5, 0, 2, 2}, 4)), 0, "Embedding.forward with int32 indices");
            assertEquals(6, emb.count());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensor.ones(2)));
            assertTrue(e.getMessage().contains("float32"), e.getMessage());
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new GroupNorm(3, 4, 1e-5, Device.CPU));
        assertTrue(bad.getMessage().contains("4 channels") && bad.getMessage().contains("3 groups"), bad.getMessage());
    }

    @Test
    void namedParametersUseDottedPathsOwnFirst() {
        try (Generator g = Generator.create(84); Net net = new Net(g)) {
            assertEquals(List.of("scale", "encoder.lin.weight", "encoder.lin.bias", "encoder.norm.weight", "encoder.norm.bias",
                    "head.weight", "head.bias"), List.copyOf(net.namedParameters().keySet()));
            assertEquals(1 + 12 + 3 + 3 + 3 + 6 + 2, net.parameterCount());
            assertEquals(7, net.parameters().size());
            assertEquals(List.of("encoder", "head"), List.copyOf(net.namedChildren().keySet()));
            for (Tensor p : net.parameters()) assertTrue(p.requiresGrad());
            net.requiresGrad(false);
            for (Tensor p : net.parameters()) assertFalse(p.requiresGrad(), "frozen");
        }
    }

    @Test
    void stateDictRoundTripAndStrictErrors() {
        try (Generator g1 = Generator.create(85); Generator g2 = Generator.create(86); Net a = new Net(g1); Net b = new Net(g2)) {
            assertFalse(java.util.Arrays.equals(values(a.stateDict().get("head.weight")), values(b.stateDict().get("head.weight"))));
            b.loadStateDict(a.stateDict(), true);
            for (String k : a.stateDict().keySet()) {
                assertArrayEquals(values(a.stateDict().get(k)), values(b.stateDict().get(k)), k);
            }
            assertTrue(b.stateDict().get("head.weight").requiresGrad(), "loading keeps parameters trainable");

            Map<String, Tensor> missing = new LinkedHashMap<>(a.stateDict());
            missing.remove("head.bias");
            IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing, true));
            assertTrue(m.getMessage().contains("missing [head.bias]"), m.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing, false), "missing keys fail even when not strict");

            Map<String, Tensor> extra = new LinkedHashMap<>(a.stateDict());
            extra.put("decoder.weight", Tensor.ones(2));
            IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(extra, true));
            assertTrue(u.getMessage().contains("unexpected [decoder.weight]"), u.getMessage());
            b.loadStateDict(extra, false); // extra keys are ignored when not strict

            Map<String, Tensor> wrong = new LinkedHashMap<>(a.stateDict());
            wrong.put("head.weight", Tensor.zeros(3, 2));
            IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(wrong, true));
            assertTrue(s.getMessage().contains("head.weight") && s.getMessage().contains("[2, 3]") && s.getMessage().contains("[3, 2]"),
                    s.getMessage());
        }
    }

    @Test
    void trainEvalPropagatesToChildren() {
        try (Generator g = Generator.create(87); Net net = new Net(g)) {
            assertTrue(net.isTraining());
            net.eval();
            assertFalse(net.isTraining());
            for (Module c : net.namedChildren().values()) assertFalse(c.isTraining());
            assertFalse(((Block) net.namedChildren().get("encoder")).lin.isTraining(), "grandchildren too");
            net.train(true);
            assertTrue(((Block) net.namedChildren().get("encoder")).norm.isTraining());
        }
    }

    @Test
    void closeFreesParametersOnceAndForAll() {
        long before = MemoryLedger.liveTensors();
        Net net;
        List<Tensor> params;
        try (Generator g = Generator.create(88)) {
            net = new Net(g);
        }
        params = net.parameters();
        assertEquals(before + 7, MemoryLedger.liveTensors(), "parameters belong to the module, not to the open scope");
        net.close();
        assertEquals(before, MemoryLedger.liveTensors());
        for (Tensor p : params) assertTrue(p.isClosed());
        net.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, net::namedParameters);
        assertTrue(e.getMessage().contains("Net") && e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void closeFromAnotherThreadThrowsAndClosesNothing() throws Exception {
        long before = MemoryLedger.liveTensors();
        Net net;
        try (Generator g = Generator.create(90)) {
            net = new Net(g);
        }
        Thread other = new Thread(() -> {
            WrongThreadException e = assertThrows(WrongThreadException.class, net::close);
            assertTrue(e.getMessage().contains("confined"), e.getMessage());
        }, "other");
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        other.setUncaughtExceptionHandler((t, e) -> failed.set(e));
        other.start();
        other.join();
        assertEquals(null, failed.get());
        assertEquals(7, net.parameters().size(), "still open: nothing was half-closed");
        for (Tensor p : net.parameters()) assertFalse(p.isClosed());
        net.close();
        assertEquals(before, MemoryLedger.liveTensors());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ((Block) net.namedChildren().get("encoder")).lin.weight());
        assertTrue(e.getMessage().contains("Linear is closed"), e.getMessage());
    }

    @Test
    void toConvertsParametersInPlace() {
        try (Generator g = Generator.create(89); Linear lin = new Linear(3, 2, g)) {
            double[] w = values(lin.weight());
            lin.to(Device.CPU, DType.FLOAT64);
            assertEquals(DType.FLOAT64, lin.weight().dtype());
            assertTrue(lin.weight().requiresGrad());
            assertClose(w, lin.weight(), 0, "values survive the conversion");
        }
    }

    @Test
    void registrationRejectsBadNames() {
        class Bad extends Module {
            Bad(String name) {
                registerParameter(name, Tensor.ones(1));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Bad("a.b"));
        assertTrue(e.getMessage().contains("'a.b'"), e.getMessage());
    }
}
