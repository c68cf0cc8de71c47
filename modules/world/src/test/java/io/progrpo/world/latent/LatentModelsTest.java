package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The cache of pretrained latent models: by configuration hash, with the hash inside each file. */
@ExtendWith(SingleThreadedTorch.class)
class LatentModelsTest {

    static Map<String, float[]> all(LatentModels m) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        LatentPretrainingTest.values(m.autoencoder()).forEach((k, v) -> out.put("ae." + k, v));
        LatentPretrainingTest.values(m.textEncoder()).forEach((k, v) -> out.put("text." + k, v));
        LatentPretrainingTest.values(m.generator()).forEach((k, v) -> out.put("flow." + k, v));
        out.put("scaling", new float[] {(float) m.autoencoder().shiftFactor(), (float) m.autoencoder().scalingFactor()});
        return out;
    }

    @Test
    void secondCallLoadsBothCheckpointsAndTheScaling(@TempDir Path dir) {
        List<String> log = new ArrayList<>();
        Map<String, float[]> first;
        try (LatentModels m = LatentModels.loadOrPretrain(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, log::add)) {
            first = all(m);
            assertFalse(m.generator().namedParameters().values().iterator().next().requiresGrad(), "returned frozen");
        }
        Path ae = LatentModels.autoencoderCachePath(dir, Tiny.CONFIG, Tiny.SCENES);
        Path gen = LatentModels.generatorCachePath(dir, Tiny.CONFIG, Tiny.SCENES);
        assertTrue(Files.isRegularFile(ae) && Files.isRegularFile(gen), "both files written");
        assertTrue(log.stream().anyMatch(s -> s.startsWith("saved the latent autoencoder")), String.join("\n", log));
        assertTrue(log.stream().anyMatch(s -> s.startsWith("saved the latent generator")), String.join("\n", log));
        log.clear();
        try (LatentModels m = LatentModels.loadOrPretrain(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, log::add)) {
            LatentPretrainingTest.assertSame(first, all(m));
        }
        assertEquals(List.of("loaded the latent autoencoder from " + ae, "loaded the latent generator and text encoder from " + gen), log);
    }

    @Test
    void aRenamedOrCorruptFileIsRegenerated(@TempDir Path dir) throws Exception {
        LatentConfig other = Tiny.CONFIG.withGeneratorTraining(Tiny.GEN_TRAIN.withSeed(99));
        try (LatentModels m = LatentModels.loadOrPretrain(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, null)) {
            assertTrue(m.autoencoder().scalingFactor() > 0);
        }
        Path gen = LatentModels.generatorCachePath(dir, Tiny.CONFIG, Tiny.SCENES);
        Path otherGen = LatentModels.generatorCachePath(dir, other, Tiny.SCENES);
        assertNotEquals(gen, otherGen, "the generator's options are part of its hash");
        assertEquals(LatentModels.autoencoderCachePath(dir, Tiny.CONFIG, Tiny.SCENES), LatentModels.autoencoderCachePath(dir, other, Tiny.SCENES),
                "the generator's options are not part of the autoencoder's");
        Files.copy(gen, otherGen);
        List<String> log = new ArrayList<>();
        try (LatentModels m = LatentModels.loadOrPretrain(dir, other, Tiny.SCENES, Device.CPU, log::add)) {
            assertTrue(m.generator() != null);
        }
        assertTrue(log.stream().anyMatch(s -> s.contains("is invalid (its fingerprint is not this config's)")), String.join("\n", log));

        // a NaN in the autoencoder file
        Path ae = LatentModels.autoencoderCachePath(dir, Tiny.CONFIG, Tiny.SCENES);
        Map<String, Tensor> state = TensorIO.load(ae);
        try {
            Tensor w = state.get("encIn.weight");
            float[] v = w.toFloatArray();
            v[0] = Float.NaN;
            state.put("encIn.weight", Tensor.of(v, w.shape()));
            w.close();
            TensorIO.save(ae, state);
        } finally {
            state.values().forEach(Tensor::close);
        }
        log.clear();
        try (LatentModels m = LatentModels.loadOrPretrain(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, log::add)) {
            assertTrue(Float.isFinite(m.autoencoder().namedParameters().get("encIn.weight").toFloatArray()[0]));
        }
        assertTrue(log.stream().anyMatch(s -> s.contains("latent autoencoder cache") && s.contains("must be finite")), String.join("\n", log));
        assertTrue(log.stream().anyMatch(s -> s.startsWith("loaded the latent generator")),
                "the regenerated autoencoder is the same computation, so the generator's file still fits: " + String.join("\n", log));
    }

    @Test
    void autoencoderOptionsAreInBothHashesAndATimeBoundRunIsNotCached(@TempDir Path dir) {
        LatentConfig otherAe = Tiny.CONFIG.withAutoencoderTraining(Tiny.AE_TRAIN.withKlWeight(1e-3));
        assertNotEquals(LatentModels.autoencoderCachePath(dir, Tiny.CONFIG, Tiny.SCENES), LatentModels.autoencoderCachePath(dir, otherAe, Tiny.SCENES));
        assertNotEquals(LatentModels.generatorCachePath(dir, Tiny.CONFIG, Tiny.SCENES), LatentModels.generatorCachePath(dir, otherAe, Tiny.SCENES),
                "a retrained autoencoder retrains the generator");
        assertNotEquals(LatentModels.generatorCachePath(dir, Tiny.CONFIG, Tiny.SCENES),
                LatentModels.generatorCachePath(dir, Tiny.CONFIG, new DelegatingScenes(Tiny.SCENES) {
                    @Override
                    public String identity() {
                        return "another grammar";
                    }
                }), "the scene source is part of the hash");

        LatentConfig bounded = Tiny.CONFIG.withGeneratorTraining(Tiny.GEN_TRAIN.withSteps(1000).withMaxSeconds(1e-9));
        List<String> log = new ArrayList<>();
        try (LatentModels m = LatentModels.loadOrPretrain(dir, bounded, Tiny.SCENES, Device.CPU, log::add)) {
            assertTrue(m.generator() != null);
        }
        assertTrue(log.stream().anyMatch(s -> s.startsWith("not caching the latent generator")), String.join("\n", log));
        assertFalse(Files.exists(LatentModels.generatorCachePath(dir, bounded, Tiny.SCENES)));
    }
}
