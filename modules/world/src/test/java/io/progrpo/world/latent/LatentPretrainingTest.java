package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.world.model.PretrainOptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class LatentPretrainingTest {

    static Map<String, float[]> values(Module m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, t) -> out.put(k, t.toFloatArray()));
        return out;
    }

    static void assertSame(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), k);
    }

    static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / (to - from);
    }

    @Test
    void bothLoopsAreDeterministicInTheirSeed() {
        List<Map<String, float[]>> runs = new ArrayList<>();
        List<double[]> scaling = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
                LatentPretraining.trainAutoencoder(m.autoencoder(), Tiny.SCENES, Tiny.AE_TRAIN, null);
                LatentPretraining.trainGenerator(m.generator(), m.autoencoder(), Tiny.SCENES, Tiny.GEN_TRAIN, null);
                Map<String, float[]> all = new LinkedHashMap<>();
                values(m.autoencoder()).forEach((k, v) -> all.put("ae." + k, v));
                values(m.textEncoder()).forEach((k, v) -> all.put("text." + k, v));
                values(m.generator()).forEach((k, v) -> all.put("flow." + k, v));
                runs.add(all);
                scaling.add(new double[] {m.autoencoder().shiftFactor(), m.autoencoder().scalingFactor()});
            }
        }
        assertSame(runs.get(0), runs.get(1));
        assertArrayEquals(scaling.get(0), scaling.get(1));
        try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
            LatentPretraining.trainAutoencoder(m.autoencoder(), Tiny.SCENES, Tiny.AE_TRAIN.withSeed(4), null);
            assertTrue(!Arrays.equals(runs.get(0).get("ae.encIn.weight"), m.autoencoder().namedParameters().get("encIn.weight").toFloatArray()),
                    "another seed trains other weights");
        }
    }

    @Test
    void autoencoderReconstructionLossFalls() {
        try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
            List<String> log = new ArrayList<>();
            LatentPretraining.Result r = LatentPretraining.trainAutoencoder(m.autoencoder(), Tiny.SCENES,
                    new AutoencoderTrainOptions(80, 8, 3e-3, 5, 1e-4, 1.0, 1, 40), log::add);
            double[] l = r.losses();
            assertEquals(80, l.length);
            assertTrue(mean(l, 70, 80) < 0.7 * mean(l, 0, 10), "loss " + mean(l, 0, 10) + " -> " + mean(l, 70, 80));
            assertTrue(log.stream().anyMatch(s -> s.startsWith("autoencoder step 40/80")), String.join("\n", log));
            assertTrue(log.stream().anyMatch(s -> s.startsWith("latent scaling measured on 256 scenes")), String.join("\n", log));
            assertTrue(m.autoencoder().scalingFactor() != 1.0, "the scaling was measured");
        }
    }

    @Test
    void generatorFlowLossFalls() {
        try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
            LatentPretraining.trainAutoencoder(m.autoencoder(), Tiny.SCENES, Tiny.AE_TRAIN, null);
            PretrainOptions o = Tiny.GEN_TRAIN.withSteps(60).withBatchSize(16).withLr(3e-3).withWarmupSteps(5);
            List<String> log = new ArrayList<>();
            LatentPretraining.Result r = LatentPretraining.trainGenerator(m.generator(), m.autoencoder(), Tiny.SCENES,
                    o.withLogEvery(30), log::add);
            double[] l = r.losses();
            assertTrue(mean(l, 50, 60) < 0.8 * mean(l, 0, 10), "flow loss " + mean(l, 0, 10) + " -> " + mean(l, 50, 60));
            assertTrue(log.stream().anyMatch(s -> s.startsWith("generator step 30/60")), String.join("\n", log));
            m.generator().adapterParameters().forEach((k, a) -> {
                if (k.contains("lora_B")) assertEquals(0.0, a.abs().sum().item(), k + ": pretraining leaves the adapters' B at zero");
            });
        }
    }

    @Test
    void aNonFiniteLossStopsNamingTheStep() {
        SceneSource nan = new DelegatingScenes(Tiny.SCENES) {
            @Override
            public float[] render(List<String> prompts, long seed) {
                float[] out = super.render(prompts, seed);
                out[5] = Float.NaN;
                return out;
            }
        };
        try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
            var e = assertThrows(IllegalStateException.class, () ->
                    LatentPretraining.trainAutoencoder(m.autoencoder(), nan, Tiny.AE_TRAIN, null));
            assertTrue(e.getMessage().contains("autoencoder pretraining loss became NaN at step 0"), e.getMessage());
        }
    }

    @Test
    void mismatchedScenesAreRejected() {
        try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
            var e = assertThrows(IllegalArgumentException.class, () -> LatentPretraining.trainAutoencoder(m.autoencoder(),
                    new EmbeddedScenes(32), Tiny.AE_TRAIN, null));
            assertTrue(e.getMessage().contains("16x16 images, the scenes are 32x32"), e.getMessage());
            SceneSource none = new DelegatingScenes(Tiny.SCENES) {
                @Override
                public List<String> trainPrompts() {
                    return List.of();
                }
            };
            e = assertThrows(IllegalArgumentException.class, () -> LatentPretraining.trainGenerator(m.generator(), m.autoencoder(),
                    none, Tiny.GEN_TRAIN, null));
            assertTrue(e.getMessage().contains("at least one training prompt"), e.getMessage());
            SceneSource longer = new DelegatingScenes(Tiny.SCENES) {
                @Override
                public int sequenceLength() {
                    return 5;
                }
            };
            e = assertThrows(IllegalArgumentException.class, () -> LatentPretraining.trainGenerator(m.generator(), m.autoencoder(),
                    longer, Tiny.GEN_TRAIN, null));
            assertTrue(e.getMessage().contains("takes 3 tokens") && e.getMessage().contains("gives 5"), e.getMessage());
        }
    }
}
