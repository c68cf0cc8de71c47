package io.progrpo.world.scene.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardRegistry;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.world.scene.Neighbours;
import io.progrpo.world.scene.SceneGrammar;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneRenderer;
import io.progrpo.world.scene.SceneSplit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SceneRewardModelTest {
    static final RewardModelConfig TINY = RewardFormulasTest.TINY;
    static final RewardTrainOptions SHORT = new RewardTrainOptions(30, 12, 2, true, 3e-3, 3, 1e-4, 1.0, 5, 7, 0, 0);
    private static int threads;

    @BeforeAll
    static void oneThread() {
        threads = Torch.numThreads();
        Torch.setNumThreads(1);
    }

    @AfterAll
    static void restore() {
        Torch.setNumThreads(threads);
    }

    /** 20 batches of 16 scenes: the masks are SceneTruth's, hard negatives are neighbours, training prompts only. */
    @Test
    void batchesCarryHardNegativesAndMaskFalseNegatives() {
        SceneSplit split = SceneSplit.of(7);
        SceneRenderer r = new SceneRenderer(32);
        RewardTrainOptions o = SHORT.withBatchSize(16);
        Random rnd = new Random(1);
        Set<String> train = new HashSet<>(split.train().stream().map(ScenePrompt::text).toList());
        int masked = 0;
        for (int k = 0; k < 20; k++) {
            ContrastiveBatch b = ContrastiveBatch.draw(split, r, o, rnd);
            int n = b.count();
            assertEquals(16, n);
            assertEquals(n * (1 + o.negativeCaptions()), b.captions().size());
            assertEquals(n, b.negativeImageCount());
            for (int i = 0; i < n; i++) {
                String own = b.captions().get(i);
                assertTrue(train.contains(own), "a held-out prompt in training: " + own);
                assertFalse(b.maskI2T()[i][i] || b.maskT2I()[i][i]);
                Set<String> neighbours = new HashSet<>(Neighbours.of(ScenePrompt.parse(own)).stream().map(x -> x.prompt().text()).toList());
                for (int j = 0; j < o.negativeCaptions(); j++) {
                    assertTrue(neighbours.contains(b.captions().get(n + i * o.negativeCaptions() + j)), "not a neighbour of " + own);
                }
                for (int j = 0; j < n; j++) {
                    if (j != i && b.captions().get(j).equals(own)) assertTrue(b.maskI2T()[i][j], "a repeated caption is a negative");
                }
                for (boolean m : b.maskI2T()[i]) if (m) masked++;
            }
        }
        assertTrue(masked > 0, "no false negative was ever masked");
        assertEquals(ContrastiveBatch.draw(split, r, o, new Random(3)).captions(), ContrastiveBatch.draw(split, r, o, new Random(3)).captions());
    }

    @Test
    void trainingLowersTheLossAndIsDeterministicInTheSeed() {
        RewardTrainOptions o = SHORT.withSteps(40);
        List<String> lines = new ArrayList<>();
        try (SceneRewardModel a = new SceneRewardModel(TINY, o.seed()); SceneRewardModel b = new SceneRewardModel(TINY, o.seed())) {
            RewardModelTrainer.Result ra = RewardModelTrainer.train(a, o.withLogEvery(10), lines::add);
            RewardModelTrainer.Result rb = RewardModelTrainer.train(b, o, null);
            assertArrayEquals(ra.losses(), rb.losses());
            for (var e : a.stateDict().entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), b.stateDict().get(e.getKey()).toFloatArray(), "parameter " + e.getKey());
            }
            double first = 0;
            double last = 0;
            for (int i = 0; i < 10; i++) {
                first += ra.losses()[i];
                last += ra.losses()[ra.steps() - 1 - i];
            }
            assertTrue(last < first - 0.5, "loss went from " + first / 10 + " to " + last / 10);
            assertTrue(lines.stream().filter(l -> l.startsWith("reward model step")).count() == 4, "progress lines: " + lines);
            assertFalse(a.isTraining(), "the trained model is left in training mode");
        }
    }

    @Test
    void cacheLoadsTheSameWeightsAndDistrustsForeignOrBrokenFiles(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        double[] scores;
        Path file = RewardModels.cachePath(dir, TINY, SHORT);
        try (SceneRewardModel m = RewardModels.loadOrTrain(dir, TINY, SHORT, log::add)) {
            assertTrue(Files.exists(file));
            scores = score(m);
        }
        assertTrue(log.get(0).startsWith("no scene reward model cached"), log.toString());
        log.clear();
        try (SceneRewardModel m = RewardModels.loadOrTrain(dir, TINY, SHORT, log::add)) {
            assertArrayEquals(scores, score(m));
        }
        assertTrue(log.get(0).startsWith("loaded"), log.toString());
        // the file of one recipe under the name of another: its fingerprint gives it away
        RewardTrainOptions other = SHORT.withSeed(6);
        Files.copy(file, RewardModels.cachePath(dir, TINY, other));
        log.clear();
        RewardModels.loadOrTrain(dir, TINY, other, log::add).close();
        assertTrue(log.get(0).contains("fingerprint"), log.toString());
        // a truncated file is retrained
        Files.write(file, new byte[] {1, 2, 3});
        log.clear();
        try (SceneRewardModel m = RewardModels.loadOrTrain(dir, TINY, SHORT, log::add)) {
            assertArrayEquals(scores, score(m));
        }
        assertTrue(log.get(0).contains("invalid"), log.toString());
        // a run cut short by its time bound is not cached
        RewardTrainOptions bounded = SHORT.withSeed(8).withMaxSeconds(1e-9);
        RewardModels.loadOrTrain(dir, TINY, bounded, log::add).close();
        assertFalse(Files.exists(RewardModels.cachePath(dir, TINY, bounded)));
        assertTrue(RewardModels.cachePath(dir, TINY, SHORT).getFileName().toString().matches("scene-reward-[0-9a-f]{16}\\.pt"));
    }

    private static double[] score(SceneRewardModel m) {
        List<ScenePrompt> ps = SceneGrammar.all().subList(0, 6);
        try (Scope scope = Scope.open()) {
            return m.score(new SceneRenderer(32).batch(ps, 3), ps.stream().map(ScenePrompt::text).toList());
        }
    }

    @Test
    void scoresMoreImagesThanOneEncoderChunkAsEachImageAlone() {
        int n = ScenePreferenceReward.SCORE_CHUNK + 5;   // two chunks: 128 and 5
        List<ScenePrompt> ps = new ArrayList<>();
        for (int i = 0; i < n; i++) ps.add(SceneGrammar.all().get((37 * i) % SceneGrammar.all().size()));
        List<String> texts = ps.stream().map(ScenePrompt::text).toList();
        float[] px = new SceneRenderer(32).renderBatch(ps, 9);
        int per = 3 * 32 * 32;
        try (ScenePreferenceReward f = new ScenePreferenceReward(new SceneRewardModel(TINY, 4)); Scope scope = Scope.open()) {
            double[] all = f.scoreChecked(Tensor.of(px, n, 3, 32, 32), texts).scores();
            assertEquals(n, all.length);
            // a few images scored on their own, from both chunks and the seam between them
            for (int i : new int[] {0, 1, ScenePreferenceReward.SCORE_CHUNK - 1, ScenePreferenceReward.SCORE_CHUNK, n - 1}) {
                double alone = f.scoreChecked(Tensor.of(java.util.Arrays.copyOfRange(px, i * per, (i + 1) * per), 1, 3, 32, 32),
                        List.of(texts.get(i))).score(0);
                assertEquals(alone, all[i], 1e-5, "image " + i + " scored in a batch of " + n + " and alone");
            }
        }
    }

    @Test
    void rewardFunctionScoresFromAnyThreadAndRejectsBadInput() throws Exception {
        assertTrue(RewardRegistry.available().contains(ScenePreferenceReward.NAME), RewardRegistry.available().toString());
        List<ScenePrompt> ps = SceneGrammar.all().subList(100, 104);
        List<String> texts = ps.stream().map(ScenePrompt::text).toList();
        float[] px = new SceneRenderer(32).renderBatch(ps, 4);
        try (ScenePreferenceReward f = new ScenePreferenceReward(new SceneRewardModel(TINY, 2))) {
            RewardOutput out;
            try (Scope scope = Scope.open()) {
                out = f.scoreChecked(Tensor.of(px, 4, 3, 32, 32), texts);
            }
            double[] cos = out.metrics().get("cosine");
            double[] match = out.metrics().get("match");
            double s = f.model().scaleValue();
            for (int i = 0; i < 4; i++) {
                assertTrue(Math.abs(cos[i]) <= 1 + 1e-6);
                assertEquals(s * cos[i], match[i], 1e-4);
                // the log-probability among the prompt and its neighbours, recomputed caption by caption in double
                List<String> set = new java.util.ArrayList<>(List.of(texts.get(i)));
                for (var nb : io.progrpo.world.scene.Neighbours.of(ps.get(i))) set.add(nb.prompt().text());
                double[] z = new double[set.size()];
                try (Scope scope = Scope.open(); var ng = io.progrpo.tensor.Autograd.noGrad()) {
                    float[] img = f.model().imageEmbeddings(Tensor.of(java.util.Arrays.copyOfRange(px, i * 3 * 32 * 32, (i + 1) * 3 * 32 * 32),
                            1, 3, 32, 32)).toFloatArray();
                    for (int j = 0; j < z.length; j++) {
                        float[] txt = f.model().textEmbeddings(io.progrpo.world.scene.SceneTokenizer.tensor(List.of(set.get(j)), Device.CPU)).toFloatArray();
                        double dot = 0;
                        for (int q = 0; q < img.length; q++) dot += (double) img[q] * txt[q];
                        z[j] = s * dot;
                    }
                }
                double sum = 0;
                for (double v : z) sum += Math.exp(v);
                assertTrue(z.length > 3, "a prompt has several neighbours: " + set);
                assertEquals(z[0] - Math.log(sum), out.score(i), 1e-4, "score of image " + i);
                assertTrue(out.score(i) <= 1e-9, "a log-probability");
            }
            RewardOutput other = CompletableFuture.supplyAsync(() -> {
                try (Scope scope = Scope.open()) {
                    return f.scoreChecked(Tensor.of(px, 4, 3, 32, 32), texts);
                }
            }).get();
            assertArrayEquals(out.scores(), other.scores(), 1e-6);
            try (Scope scope = Scope.open()) {
                Tensor nan = Tensor.full(Double.NaN, DType.FLOAT32, Device.CPU, 4, 3, 32, 32);
                for (double v : f.scoreChecked(nan, texts).scores()) assertTrue(Double.isFinite(v));
                var e = assertThrows(IllegalArgumentException.class, () -> f.score(Tensor.zeros(1, 3, 48, 48), List.of("a circle")));
                assertTrue(e.getMessage().contains("[N, 3, 32, 32]") && e.getMessage().contains("[1, 3, 48, 48]"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> f.score(Tensor.zeros(DType.INT64, Device.CPU, 1, 3, 32, 32), List.of("a circle")));
                assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> f.score(Tensor.zeros(2, 3, 32, 32), List.of("a circle")));
                assertTrue(e.getMessage().contains("2 images and 1 prompts"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> f.score(Tensor.zeros(1, 3, 32, 32), List.of("a mauve circle")));
                assertTrue(e.getMessage().contains("'mauve'"), e.getMessage());
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new ScenePreferenceReward(null));
        assertTrue(e.getMessage().contains("needs a model"), e.getMessage());
    }

    @Test
    void badConfigsAndOptionsNameWhatIsWrong() {
        Map<String, Runnable> bad = Map.of(
                "imageSize must be >= 32", () -> new RewardModelConfig(16, 8, 32, 1, 2),
                "multiple of 4", () -> new RewardModelConfig(32, 6, 32, 1, 2),
                "multiple of heads", () -> new RewardModelConfig(32, 8, 30, 1, 4),
                "batchSize must be >= 2", () -> SHORT.withBatchSize(1),
                "steps must be >= 1", () -> SHORT.withSteps(0));
        bad.forEach((msg, r) -> {
            var e = assertThrows(IllegalArgumentException.class, r::run);
            assertTrue(e.getMessage().contains(msg), e.getMessage());
        });
        try (SceneRewardModel m = new SceneRewardModel(TINY, 1); Scope scope = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> m.textEmbeddings(Tensor.zeros(DType.INT64, Device.CPU, 2, 5)));
            assertTrue(e.getMessage().contains("[M, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.imageEmbeddings(Tensor.zeros(2, 3, 31, 32)));
            assertTrue(e.getMessage().contains("[N, 3, 32, 32]"), e.getMessage());
        }
    }
}
