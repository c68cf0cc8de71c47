package io.progrpo.app.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.LatentPolicy;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.scene.Category;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@code world=latent-quick} job end to end (the latent world's smoke recipes, pretrained once into a temporary
 * cache): pro-grpo trains the LoRA adapters on the learned reward, every evaluation is judged by the held-out
 * evaluator as well, a resume continues the run, and every tensor is freed.
 */
class LatentJobTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    static Path cache;
    @TempDir
    Path tmp;

    @BeforeAll
    static void useATemporaryCache() {
        CACHE.point(cache);
    }

    private TrainConfig config(String method, int epochs) {
        return TrainConfig.resolve(method + "+quick+latent", null, List.of("world=latent-quick", "epochs=" + epochs,
                "groupsPerEpoch=1", "evalEvery=1", "evalPrompts=6", "evalSteps=4", "checkpointEvery=1", "beta=0.01",
                "outDir=" + tmp.resolve(method)));
    }

    @Test
    void proGrpoTrainsTheAdaptersOnTheLearnedRewardAndIsJudgedByTheEvaluator() throws Exception {
        long live = MemoryLedger.liveTensors();
        TrainConfig c = config("pro-grpo", 1);
        List<String> log = new ArrayList<>();
        try (Jobs.Job job = Jobs.build(c, log::add)) {
            LatentWorld world = assertInstanceOf(LatentWorld.class, job.world());
            LatentPolicy policy = assertInstanceOf(LatentPolicy.class, job.policy());
            assertEquals(32, job.imageSize());
            assertEquals(world.generator().trainableParameters(io.progrpo.world.latent.TrainingMode.LORA).keySet(),
                    policy.namedParameters().keySet(), "the policy trains the adapters only");
            assertEquals(0.0, ((LatentPolicy) job.reference()).adapterScale(), "the KL reference is the base model");
            Map<String, Tensor> before = snapshot(policy);
            List<Map<String, Object>> h = job.run(Path.of(c.outDir()), log::add).run(false);
            assertEquals(2, h.size(), "before training and after the epoch");
            assertTrue(changed(before, policy), "the epoch moved the adapters");
            before.values().forEach(Tensor::close);
        }
        assertEquals(live, MemoryLedger.liveTensors(), "every tensor of the job is freed, the world's models and the reward's included");
        List<Map<String, Object>> rows = MetricsLog.read(tmp.resolve("pro-grpo").resolve("metrics.jsonl"));
        for (Map<String, Object> row : rows) {
            @SuppressWarnings("unchecked")
            Map<String, Object> g = (Map<String, Object>) row.get("eval_geneval");
            assertTrue(g != null && g.containsKey("overall") && g.containsKey("score"), row.toString());
            for (Category cat : Category.values()) assertTrue(g.containsKey(cat.key()), cat.key() + " in " + g);
            double overall = ((Number) g.get("overall")).doubleValue();
            assertTrue(overall >= 0 && overall <= 1, "a success rate: " + overall);
        }
        assertTrue(((Number) rows.get(1).get("eval_reward")).doubleValue() != 0, "the learned reward scored the samples");
    }

    @Test
    void aLatentRunResumesFromItsCheckpoint() throws Exception {
        TrainConfig two = config("flow-grpo", 2);
        try (Jobs.Job job = Jobs.build(config("flow-grpo", 1), s -> { })) {
            job.run(Path.of(two.outDir()), s -> { }).run(false);
        }
        try (Jobs.Job job = Jobs.build(two, s -> { })) {
            List<Map<String, Object>> h = job.run(Path.of(two.outDir()), s -> { }).run(true);
            assertEquals(1, h.size(), "only the second epoch runs");
            assertEquals(1, ((Number) h.get(0).get("epoch")).intValue());
        }
        assertEquals(3, MetricsLog.read(tmp.resolve("flow-grpo").resolve("metrics.jsonl")).size());
        assertTrue(Files.isRegularFile(tmp.resolve("flow-grpo").resolve("checkpoint").resolve("policy.pt")));
    }

    private static Map<String, Tensor> snapshot(LatentPolicy p) {
        Map<String, Tensor> m = new java.util.LinkedHashMap<>();
        p.namedParameters().forEach((k, v) -> {
            try (Tensor d = v.detach()) {
                m.put(k, d.clone_());
            }
        });
        return m;
    }

    private static boolean changed(Map<String, Tensor> before, LatentPolicy p) {
        for (var e : p.namedParameters().entrySet()) {
            double[] a = before.get(e.getKey()).toDoubleArray();
            double[] b = e.getValue().toDoubleArray();
            for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return true;
        }
        return false;
    }

    /** The report's cell sizes: the held-out prompts' categories, counted from the split's own prompt objects. */
    @Test
    void heldOutImagesPerCategoryCountTheEvaluatedPrompts() {
        var split = new io.progrpo.world.latent.SceneWorldScenes().split();
        List<io.progrpo.world.scene.ScenePrompt> all = split.evalPrompts(8);
        Map<String, Integer> n = LatentJobs.heldOutImagesPerCategory(TrainConfig.resolve("flow-grpo+demo+latent", null, List.of("evalPrompts=0")));
        for (Category cat : Category.values()) {
            assertEquals(all.stream().filter(p -> p.category() == cat).count(), n.get(cat.key()).longValue(), cat.key());
        }
        assertEquals(40, all.size(), "the latent world's held-out evaluation has 40 prompts");
        // the world's list takes the categories round-robin: its first 6 prompts are one of each
        Map<String, Integer> six = LatentJobs.heldOutImagesPerCategory(TrainConfig.resolve("flow-grpo+demo+latent", null, List.of("evalPrompts=6")));
        for (Category cat : Category.values()) assertEquals(1, six.get(cat.key()).intValue(), cat.key() + " among the first 6");
    }
}
