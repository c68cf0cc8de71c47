package io.progrpo.app.job;

import io.progrpo.app.CacheProperty;
import io.progrpo.sampler.DdimSampler;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.Sampler;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A config that passes {@link TrainConfig} and {@link JobCheck} builds: the samplers, the schedule and the job exist,
 * with finite float32 steps; one that does not fails before anything is built, with a {@link ConfigException}.
 */
class JobCheckTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    private void cacheAt(Path p) {
        CACHE.point(p);
    }

    /**
     * 2000 random configs over wide ranges of the sampler and schedule fields: each one either fails with a
     * ConfigException, or its plan builds and every step is usable in float32 (factor on x > 0, policy std whose
     * square is a normal float, distinct sigmas). No other exception escapes.
     */
    @Test
    void whatPassesTheChecksBuildsAndIsFiniteInFloat32() {
        SplittableRandom rnd = new SplittableRandom(2512_15347L);
        int built = 0;
        int rejected = 0;
        for (int trial = 0; trial < 2000; trial++) {
            Map<String, Object> m = new LinkedHashMap<>();
            String method = Method.configNames().get(rnd.nextInt(Method.configNames().size()));
            int t = rnd.nextInt(4) == 0 ? 2 + rnd.nextInt(1100) : 2 + rnd.nextInt(60);
            int g = 2 + rnd.nextInt(60);
            m.put("method", method);
            m.put("samplerSteps", t);
            m.put("evalSteps", rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(1100) : 1 + rnd.nextInt(60));
            m.put("groupSize", g);
            m.put("subsetSize", 2 + rnd.nextInt(g));
            m.put("noiseLevel", Math.pow(10, -30 + 32 * rnd.nextDouble()));
            m.put("shift", Math.pow(10, -6 + 12 * rnd.nextDouble()));
            m.put("eta", rnd.nextInt(5) == 0 ? Math.pow(10, -35 + 35 * rnd.nextDouble()) : 2 * rnd.nextDouble());
            int mid = Math.max(2, g / 2);
            int c1 = 1 + rnd.nextInt(Math.max(1, t));
            m.put("pruneSchedule", Method.byName(method).prunesDuringSampling() ? g + ">" + mid + "@" + c1 : "none");
            TrainConfig c;
            try {
                c = TrainConfig.defaults().with(m, "trial " + trial);
                JobCheck.samplers(c);
            } catch (ConfigException e) {
                rejected++;
                continue;
            }
            GrpoTrainer.Plan plan = Jobs.plan(c);
            assertEquals(c.samplerSteps(), plan.sampler().steps());
            assertUsable(plan.sampler(), c.toString());
            assertEquals(plan.schedule().totalSteps(), plan.sampler().steps());
            built++;
        }
        assertTrue(built > 300 && rejected > 300, "both outcomes are exercised: built " + built + ", rejected " + rejected);
    }

    private static void assertUsable(Sampler s, String what) {
        if (s instanceof FlowSdeSampler f) {
            for (int i = 0; i < f.steps(); i++) {
                double coef = 1 + f.stdT(i) * f.stdT(i) / (2 * f.time(i)) * f.dt(i);
                assertTrue(coef > 0, "factor on x at step " + i + " of " + what);
                double p = f.policyStd(i);
                assertTrue(p == 0 || (float) (p * p) >= Float.MIN_NORMAL, "policy std " + p + " at step " + i + " of " + what);
                assertTrue((float) f.time(i) > (float) (i + 1 < f.steps() ? f.time(i + 1) : 0.0), "distinct sigmas at " + i + " of " + what);
            }
        } else if (s instanceof DdimSampler d) {
            for (int i = 0; i < d.steps(); i++) {
                double p = d.sigma(i);
                assertTrue(Double.isFinite(p) && (p == 0 || (float) (p * p) >= Float.MIN_NORMAL), "sigma_t " + p + " at " + i + " of " + what);
            }
        } else {
            fail("unexpected sampler " + s);
        }
    }

    /** pretrainSteps = 0 means no pretraining: the job builds from the freshly initialised model and caches nothing. */
    @Test
    void pretrainStepsZeroBuildsWithoutPretraining() throws Exception {
        Path cache = tmp.resolve("cache");
        cacheAt(cache);
        TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, List.of("pretrainSteps=0", "modelWidth=8", "imageSize=8",
                "outDir=" + tmp.resolve("run")));
        List<String> log = new java.util.ArrayList<>();
        try (Jobs.Job job = Jobs.build(c, log::add)) {
            assertTrue(job.policy().parameters().size() > 0);
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("no pretraining")), log.toString());
        assertTrue(!Files.exists(cache) || Files.list(cache).findAny().isEmpty(), "nothing cached");
    }

    /** A value only the job can judge fails in Jobs.build itself, before any model exists. */
    @Test
    void jobsBuildChecksFirst() throws Exception {
        cacheAt(tmp.resolve("cache"));
        long live = MemoryLedger.liveTensors();
        TrainConfig badReward = TrainConfig.defaults().withSets(List.of("reward=nope"));
        ConfigException e = assertThrows(ConfigException.class, () -> Jobs.build(badReward, s -> { }));
        assertEquals("reward", e.field());
        TrainConfig badWorld = TrainConfig.defaults().withSets(List.of("groupsPerEpoch=97"));
        e = assertThrows(ConfigException.class, () -> Jobs.build(badWorld, s -> { }));
        assertEquals("groupsPerEpoch", e.field());
        assertEquals(live, MemoryLedger.liveTensors(), "nothing was built");

        Path file = Files.writeString(tmp.resolve("cache-file"), "x");
        cacheAt(file);
        e = assertThrows(ConfigException.class, () -> Jobs.build(TrainConfig.defaults(), s -> { }));
        assertEquals("progrpo.cache", e.field());
        assertTrue(e.getMessage().contains("must be a directory, but it is a file"), e.getMessage());
    }

    @Test
    void theLatentWorldTakesFlowMethodsAndSceneRewardsOnly() {
        ConfigException dance = assertThrows(ConfigException.class, () -> JobCheck.embeddedJob(
                TrainConfig.resolve("dance-grpo+latent", null, List.of()), false));
        assertEquals("world", dance.field());
        assertTrue(dance.getMessage().contains("dance-grpo") && dance.getMessage().contains("world=pixel"), dance.getMessage());
        ConfigException alignment = assertThrows(ConfigException.class, () -> JobCheck.embeddedJob(
                TrainConfig.resolve("flow-grpo+latent", null, List.of("reward=alignment")), false));
        assertEquals("reward", alignment.field());
        assertTrue(alignment.getMessage().contains("'alignment'") && alignment.getMessage().contains("scene_preference"), alignment.getMessage());
        ConfigException scene = assertThrows(ConfigException.class, () -> JobCheck.embeddedJob(
                TrainConfig.resolve("flow-grpo", null, List.of("reward=scene_preference")), false));
        assertEquals("reward", scene.field());
        assertTrue(scene.getMessage().contains("world=latent"), scene.getMessage());
        // the scene world's prompt counts apply: 40 held-out prompts
        ConfigException prompts = assertThrows(ConfigException.class, () -> JobCheck.embeddedJob(
                TrainConfig.resolve("flow-grpo+latent", null, List.of("evalPrompts=41")), false));
        assertEquals("evalPrompts", prompts.field());
        assertTrue(prompts.getMessage().contains("<= 40"), prompts.getMessage());
        JobCheck.embeddedJob(TrainConfig.resolve("pro-grpo+demo+latent", null, List.of("evalPrompts=40")), false);
    }
}
