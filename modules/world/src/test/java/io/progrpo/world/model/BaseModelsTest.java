package io.progrpo.world.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Tensor;
import io.progrpo.world.Prompt;
import io.progrpo.world.PromptSet;
import io.progrpo.world.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SingleThreadedTorch.class)
class BaseModelsTest {
    static final WorldModelConfig CFG = new WorldModelConfig(16, 8, Tokenizer.vocabularySize(), Tokenizer.SEQUENCE_LENGTH,
            Parameterization.VELOCITY);
    static final PretrainOptions OPTS = PretrainOptions.DEFAULTS.withSteps(3).withBatchSize(4).withWarmupSteps(1).withLogEvery(0);
    static final List<Prompt> PROMPTS = PromptSet.all().subList(0, 10);

    static Map<String, float[]> values(WorldModel m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, t) -> out.put(k, t.toFloatArray()));
        return out;
    }

    static void assertSameParameters(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), k);
    }

    @Test
    void secondCallLoadsTheCachedWeights(@TempDir Path dir) {
        List<String> log = new ArrayList<>();
        Map<String, float[]> first;
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            first = values(m);
        }
        Path file = BaseModels.cachePath(dir, CFG, OPTS, PROMPTS);
        assertTrue(Files.isRegularFile(file), "checkpoint written at " + file);
        assertTrue(log.stream().anyMatch(s -> s.startsWith("no base world model cached")), String.join("\n", log));
        assertTrue(log.stream().anyMatch(s -> s.startsWith("saved the base world model")), String.join("\n", log));

        log.clear();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertSameParameters(first, values(m));
            // a trained model, not a fresh one: the zero-initialised output layer moved
            assertTrue(Math.abs(m.namedParameters().get("out.weight").abs().sum().item()) > 0);
        }
        assertEquals(List.of("loaded the base world model from " + file), log);
    }

    @Test
    void corruptCacheFileIsRegeneratedWithALogLine(@TempDir Path dir) throws Exception {
        Map<String, float[]> fresh;
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, null)) {
            fresh = values(m);
        }
        Path file = BaseModels.cachePath(dir, CFG, OPTS, PROMPTS);
        Files.write(file, new byte[] {'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p'});
        List<String> log = new ArrayList<>();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertSameParameters(fresh, values(m)); // regenerated deterministically
        }
        assertTrue(log.stream().anyMatch(s -> s.contains(file.toString()) && s.contains("is invalid") && s.endsWith("regenerating it")),
                String.join("\n", log));
        log.clear();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertSameParameters(fresh, values(m));
        }
        assertTrue(log.getFirst().startsWith("loaded"), "the regenerated file is valid: " + log);
    }

    @Test
    void checkpointOfAnotherConfigIsNotTrusted(@TempDir Path dir) throws Exception {
        PretrainOptions other = OPTS.withSeed(77);
        Path otherFile = BaseModels.cachePath(dir, CFG, other, PROMPTS);
        Path file = BaseModels.cachePath(dir, CFG, OPTS, PROMPTS);
        assertNotEquals(file, otherFile, "options that change the weights change the file name");
        assertEquals(file, BaseModels.cachePath(dir, CFG, OPTS.withMaxSeconds(100).withLogEvery(7), PROMPTS),
                "the time bound and logging do not");
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, other, PROMPTS, null)) {
            assertTrue(m.parameterCount() > 0);
        }
        Files.copy(otherFile, file); // right shapes, wrong identity
        io.progrpo.tensor.files.Manifest.writeSidecar(file); // with a matching digest: the fingerprint must catch it
        List<String> log = new ArrayList<>();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertTrue(m.parameterCount() > 0);
        }
        assertTrue(log.stream().anyMatch(s -> s.contains("fingerprint")), String.join("\n", log));
    }

    @Test
    void nonFiniteCheckpointIsRegenerated(@TempDir Path dir) throws Exception {
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, null)) {
            assertTrue(m.parameterCount() > 0);
        }
        Path file = BaseModels.cachePath(dir, CFG, OPTS, PROMPTS);
        Map<String, Tensor> state = io.progrpo.tensor.TensorIO.load(file);
        try {
            state.get("stem.bias").fill(Double.NaN);
            io.progrpo.tensor.TensorIO.save(file, state);
            io.progrpo.tensor.files.Manifest.writeSidecar(file); // digest matches: the finiteness check must catch it
        } finally {
            state.values().forEach(Tensor::close);
        }
        List<String> log = new ArrayList<>();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            for (float v : m.namedParameters().get("stem.bias").toFloatArray()) assertTrue(Float.isFinite(v));
        }
        assertTrue(log.stream().anyMatch(s -> s.contains("stem.bias") && s.contains("regenerating")), String.join("\n", log));
    }

    @Test
    void aFlippedByteOrAMissingChecksumIsRegeneratedNamingWhy(@TempDir Path dir) throws Exception {
        Map<String, float[]> fresh;
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, null)) {
            fresh = values(m);
        }
        Path file = BaseModels.cachePath(dir, CFG, OPTS, PROMPTS);
        Path sums = io.progrpo.tensor.files.Manifest.sidecar(file);
        assertEquals(io.progrpo.tensor.files.Manifest.sha256(file) + "  " + file.getFileName() + "\n", Files.readString(sums),
                "the cache records its SHA-256 in sha256sum's format");
        String recorded = io.progrpo.tensor.files.Manifest.sha256(file);

        // one bit in the middle of the file (the parameters' bytes fill most of it): only its digest can tell
        byte[] b = Files.readAllBytes(file);
        b[b.length / 2] ^= 0x01;
        Files.write(file, b);
        String actual = io.progrpo.tensor.files.Manifest.sha256(file);
        List<String> log = new ArrayList<>();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertSameParameters(fresh, values(m));
        }
        assertTrue(log.stream().anyMatch(s -> s.contains(file.toString()) && s.contains("expected " + recorded) && s.contains("got " + actual)
                && s.endsWith("regenerating it")), String.join("\n", log));
        assertEquals(null, io.progrpo.tensor.files.Manifest.verifySidecar(file), "regenerated with its checksum");

        Files.delete(sums);
        log.clear();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertSameParameters(fresh, values(m));
        }
        assertTrue(log.stream().anyMatch(s -> s.contains("no checksum file " + sums) && s.endsWith("regenerating it")), String.join("\n", log));
        assertTrue(Files.isRegularFile(sums));
        log.clear();
        try (WorldModel m = BaseModels.loadOrPretrain(dir, CFG, OPTS, PROMPTS, log::add)) {
            assertSameParameters(fresh, values(m));
        }
        assertEquals(List.of("loaded the base world model from " + file), log);
    }
}
