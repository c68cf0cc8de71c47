package io.progrpo.world.latent;

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
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class LatentFlowTransformerTest {
    /** The zero-initialised layers (adaLN-Zero modulation, final layer) and the adapters' B. */
    static boolean zeroInitialised(String name) {
        return name.contains("adaLN") || name.contains("finalAdaLN") || name.contains("finalOut") || name.contains("lora_B");
    }

    @Test
    void predictsFloat32VelocitiesOfTheLatentShapeAndStartsAtZero() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = new LatentFlowTransformer(Tiny.GEN, te, 2);
             Scope s = Scope.open(); Generator gen = Generator.create(3); var ng = Autograd.noGrad()) {
            Tensor x = Tensor.randn(gen, 3, 4, 4, 4);
            Tensor t = Tensor.rand(gen, 3);
            Tensor cond = Tiny.ids(Tiny.SCENES.trainPrompts().subList(0, 3).toArray(String[]::new));
            Tensor v = g.predict(x, t, cond);
            assertArrayEquals(x.shape(), v.shape());
            assertEquals(DType.FLOAT32, v.dtype());
            for (float f : v.toFloatArray()) assertEquals(0f, f, "zero output layer and gates: the untrained model predicts 0");
            Tiny.randomise(g, LatentFlowTransformerTest::zeroInitialised, 0.2, 4);
            float[] base = g.predict(x, t, cond).toFloatArray();
            for (float f : base) assertTrue(Float.isFinite(f));
            assertFalse(Arrays.equals(base, g.predict(x, t.mul(0.5), cond).toFloatArray()), "time matters");
            Tensor other = Tiny.ids(Tiny.SCENES.trainPrompts().subList(3, 6).toArray(String[]::new));
            assertFalse(Arrays.equals(base, g.predict(x, t, other).toFloatArray()), "the prompt matters");
            assertFalse(Arrays.equals(base, g.predict(x, t, cond, 0).toFloatArray()), "the adapters matter once B is non-zero");
            // rows are independent: row 0 alone gives row 0 of the batch
            float[] alone = g.predict(x.narrow(0, 0, 1), t.narrow(0, 0, 1), cond.narrow(0, 0, 1)).toFloatArray();
            assertArrayEquals(Arrays.copyOf(base, alone.length), alone, 1e-5f);
        }
    }

    @Test
    void runsInBfloat16AndReturnsFloat32CloseToTheFloat32Model() {
        try (LatentModels a = LatentModels.fresh(Tiny.CONFIG, Device.CPU); LatentModels b = LatentModels.fresh(Tiny.CONFIG, Device.CPU);
             Scope s = Scope.open(); Generator gen = Generator.create(3); var ng = Autograd.noGrad()) {
            Tiny.randomise(a.generator(), LatentFlowTransformerTest::zeroInitialised, 0.2, 4);
            Tiny.randomise(b.generator(), LatentFlowTransformerTest::zeroInitialised, 0.2, 4);
            b.to(Device.CPU, DType.BFLOAT16);
            assertEquals(DType.BFLOAT16, b.generator().dtype());
            Tensor x = Tensor.randn(gen, 3, 4, 4, 4);
            Tensor t = Tensor.rand(gen, 3);
            Tensor cond = Tiny.ids(Tiny.SCENES.trainPrompts().subList(0, 3).toArray(String[]::new));
            Tensor ya = a.generator().predict(x, t, cond);
            Tensor yb = b.generator().predict(x, t, cond);
            assertEquals(DType.FLOAT32, yb.dtype());
            double err = ya.sub(yb).abs().amax().item();
            double scale = ya.abs().amax().item();
            assertTrue(scale > 0, "a non-trivial output");
            assertTrue(err <= 0.1 * scale + 0.02, "bf16 within bf16 precision of float32: max error " + err + ", max |v| " + scale);
            var e = assertThrows(IllegalArgumentException.class, () -> b.to(Device.CPU, DType.INT64));
            assertTrue(e.getMessage().contains("floating-point dtype"), e.getMessage());
        }
    }

    @Test
    void sameSeedSameWeights() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer a = new LatentFlowTransformer(Tiny.GEN, te, 7);
             LatentFlowTransformer b = new LatentFlowTransformer(Tiny.GEN, te, 7); LatentFlowTransformer c = new LatentFlowTransformer(Tiny.GEN, te, 8)) {
            Map<String, Tensor> pa = a.namedParameters(), pb = b.namedParameters();
            assertEquals(pa.keySet(), pb.keySet());
            for (String k : pa.keySet()) assertArrayEquals(pa.get(k).toFloatArray(), pb.get(k).toFloatArray(), k);
            assertFalse(Arrays.equals(pa.get("block0.fc1.weight").toFloatArray(), c.namedParameters().get("block0.fc1.weight").toFloatArray()));
        }
    }

    @Test
    void forwardMacsMatchADirectCountOfTheLayersRun() {
        TextEncoderConfig longText = new TextEncoderConfig(30, 9, 16, 2, 4);
        List<Object[]> cases = List.of(
                new Object[] {Tiny.TEXT, Tiny.GEN},
                new Object[] {longText, new FlowTransformerConfig(4, 8, 2, 32, 2, 4, 4, 16, 9, 4, 8)},
                new Object[] {longText, new FlowTransformerConfig(3, 6, 3, 24, 1, 3, 2, 16, 9, 0, 1)},
                new Object[] {TextEncoderConfig.of(40, 9), FlowTransformerConfig.of(4, 8, TextEncoderConfig.of(40, 9))});
        for (Object[] c : cases) {
            TextEncoderConfig tc = (TextEncoderConfig) c[0];
            FlowTransformerConfig fc = (FlowTransformerConfig) c[1];
            try (TextEncoder te = new TextEncoder(tc, 1); LatentFlowTransformer g = new LatentFlowTransformer(fc, te, 2);
                 Scope s = Scope.open(); var ng = Autograd.noGrad()) {
                int b = 2;
                Tensor x = Tensor.zeros(b, fc.latentChannels(), fc.latentSize(), fc.latentSize());
                Tensor t = Tensor.full(0.5, DType.FLOAT32, Device.CPU, b);
                Tensor cond = Tensor.zeros(DType.INT64, Device.CPU, b, tc.tokens());
                for (double scale : new double[] {1, 0}) {
                    MacCounter.start();
                    g.predict(x, t, cond, scale);
                    long counted = MacCounter.stop();
                    long formula = LatentFlowTransformer.forwardMacs(fc, scale != 0) + te.macsPerRow();
                    assertEquals(counted, b * formula, fc + " adapter scale " + scale);
                }
                assertEquals(LatentFlowTransformer.forwardMacs(fc, true) + te.macsPerRow(), g.forwardMacsPerRow());
            }
        }
    }

    @Test
    void defaultGeneratorStaysWithinTwiceTheWorldModelsForwardCost() {
        long worldModel = io.progrpo.world.model.WorldModel.forwardMacs(16, 32, 3);
        assertEquals(16_138_240L, worldModel);
        for (int tokens : new int[] {3, 8, 12}) {
            TextEncoderConfig tc = TextEncoderConfig.of(60, tokens);
            long macs = LatentFlowTransformer.forwardMacs(FlowTransformerConfig.of(4, 8, tc), true) + TextEncoder.macsPerRow(tc);
            assertTrue(macs <= 2 * worldModel, tokens + " tokens: " + macs + " MACs per row > 2 x " + worldModel);
        }
    }

    @Test
    void gradientsMatchCentralFiniteDifferencesInDoublePrecision() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = new LatentFlowTransformer(Tiny.GEN, te, 2);
             Scope s = Scope.open(); Generator gen = Generator.create(3)) {
            Tiny.randomise(g, LatentFlowTransformerTest::zeroInitialised, 0.3, 4);
            te.to(Device.CPU, DType.FLOAT64);
            g.to(Device.CPU, DType.FLOAT64);
            Tensor x = Tensor.randn(gen, 2, 4, 4, 4);
            Tensor t = Tensor.rand(gen, 2);
            Tensor cond = Tiny.ids(Tiny.SCENES.trainPrompts().subList(0, 2).toArray(String[]::new));
            Tensor w = Tensor.randn(gen, 2, 4, 4, 4).to(DType.FLOAT64);
            Map<String, Tensor> params = new java.util.LinkedHashMap<>();
            for (String n : new String[] {"block0.crossAttention.k.lora_A", "block0.selfAttention.q.weight", "block0.fc1.weight",
                    "position", "block0.adaLN.weight", "finalOut.weight", "pooledIn.weight"}) {
                params.put("flow." + n, g.namedParameters().get(n));
            }
            params.put("text.tokenEmbedding.weight", te.namedParameters().get("tokenEmbedding.weight"));
            params.put("text.layer0.attention.v.weight", te.namedParameters().get("layer0.attention.v.weight"));
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor p = e.getValue();
                Tensor dir = Tensor.randn(gen, p.shape()).to(DType.FLOAT64);
                g.parameters().forEach(Tensor::zeroGrad);
                te.parameters().forEach(Tensor::zeroGrad);
                Tensor loss = g.predict(x, t, cond).to(DType.FLOAT64).mul(w).sum();
                loss.backward();
                double analytic = p.grad().mul(dir).sum().item();
                double eps = 1e-4;
                double up, down;
                try (var ng = Autograd.noGrad()) {
                    p.addInPlace(dir, eps);
                    up = g.predict(x, t, cond).to(DType.FLOAT64).mul(w).sum().item();
                    p.addInPlace(dir, -2 * eps);
                    down = g.predict(x, t, cond).to(DType.FLOAT64).mul(w).sum().item();
                    p.addInPlace(dir, eps);
                }
                double numeric = (up - down) / (2 * eps);
                assertTrue(Math.abs(analytic) > 1e-3, e.getKey() + ": a gradient flows (" + analytic + ")");
                assertEquals(numeric, analytic, 2e-2 * Math.abs(numeric) + 2e-3, e.getKey());
            }
        }
    }

    @Test
    void badShapesRaiseClearExceptions() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = new LatentFlowTransformer(Tiny.GEN, te, 2);
             Scope s = Scope.open()) {
            Tensor cond = Tiny.ids(Tiny.SCENES.trainPrompts().get(0));
            Tensor t = Tensor.zeros(1);
            var e = assertThrows(IllegalArgumentException.class, () -> g.predict(Tensor.zeros(1, 3, 4, 4), t, cond));
            assertTrue(e.getMessage().contains("[B, 4, 4, 4]") && e.getMessage().contains("[1, 3, 4, 4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> g.predict(Tensor.zeros(1, 4, 4, 4), Tensor.zeros(2), cond));
            assertTrue(e.getMessage().contains("t must be a float tensor [1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> g.predict(Tensor.zeros(1, 4, 4, 4), t, Tensor.zeros(1, 3)));
            assertTrue(e.getMessage().contains("int64 token ids [1, 3]") && e.getMessage().contains("float32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> g.trainableParameters(null));
            assertTrue(e.getMessage().contains("LORA or FULL"), e.getMessage());
        }
        try (TextEncoder te = new TextEncoder(new TextEncoderConfig(10, 5, 8, 1, 2), 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LatentFlowTransformer(Tiny.GEN, te, 2));
            assertTrue(e.getMessage().contains("over 3 tokens") && e.getMessage().contains("over 5"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new FlowTransformerConfig(4, 8, 3, 32, 1, 4, 4, 8, 3, 2, 2));
        assertTrue(e.getMessage().contains("multiple of patch"), e.getMessage());
    }
}
