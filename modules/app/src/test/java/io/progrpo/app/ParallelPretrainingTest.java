package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.job.LatentJobs;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.LatentModels;
import io.progrpo.world.latent.SceneWorldScenes;
import io.progrpo.world.scene.reward.RewardModelConfig;
import io.progrpo.world.scene.reward.RewardModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A first run's reward model trained in a second JVM beside the world's pretraining (the smoke-test world, an empty
 * temporary cache): both models land in the cache; a failed child is reported and leaves the reward to the job; runs
 * that find their models cached, pixel runs and one-core machines start no child.
 */
class ParallelPretrainingTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path cache;

    @BeforeEach
    void useATemporaryCache() {
        CACHE.point(cache);
    }

    private static TrainConfig quick() {
        return TrainConfig.resolve("flow-grpo+quick+latent", null, List.of("world=latent-quick"));
    }

    private Path rewardFile(TrainConfig c) {
        return RewardModels.cachePath(cache, RewardModelConfig.DEFAULT, LatentJobs.rewardTraining(c));
    }

    private Path generatorFile(TrainConfig c) {
        return LatentModels.generatorCachePath(cache, LatentJobs.latentConfig(c, new SceneWorldScenes()), new SceneWorldScenes());
    }

    @Test
    void bothModelsLandInTheCacheAndASecondRunStartsNoChild() throws Exception {
        TrainConfig c = quick();
        assertTrue(ParallelPretraining.applies(c, 2, cache));
        List<String> log = new ArrayList<>();
        assertTrue(ParallelPretraining.run(c, 2, log::add), String.join("\n", log));
        assertTrue(Files.isRegularFile(rewardFile(c)), "the child cached the reward model: " + log);
        assertTrue(Files.isRegularFile(generatorFile(c)), "this JVM cached the generator");
        assertTrue(log.stream().anyMatch(l -> l.startsWith("  reward | reward model ready")), "the child's lines are relayed: " + log);
        assertFalse(ParallelPretraining.applies(c, 2, cache), "everything is cached now");
        assertFalse(ParallelPretraining.run(c, 2, s -> { }));
    }

    @Test
    void aFailedChildIsReportedAndTheRewardIsLeftToTheJob() throws Exception {
        TrainConfig c = quick();
        // a directory where the child writes its checkpoint before the atomic move: the child's save fails
        Files.createDirectories(rewardFile(c).resolveSibling(rewardFile(c).getFileName() + ".tmp").resolve("blocker"));
        List<String> log = new ArrayList<>();
        assertFalse(ParallelPretraining.run(c, 2, log::add));
        assertTrue(log.stream().anyMatch(l -> l.contains("failed (exit 1") && l.contains("trained here instead")), String.join("\n", log));
        assertFalse(Files.exists(rewardFile(c)), "no reward model was cached");
        assertTrue(Files.isRegularFile(generatorFile(c)), "the world's pretraining still finished");
    }

    @Test
    void onlyAFirstLatentRunOnTwoCoresWithTheLearnedRewardApplies() {
        TrainConfig c = quick();
        assertFalse(ParallelPretraining.applies(c, 1, cache), "one core");
        assertFalse(ParallelPretraining.applies(TrainConfig.resolve("flow-grpo+quick", null, List.of()), 2, cache), "the pixel world");
        assertFalse(ParallelPretraining.applies(c.withSets(List.of("reward=scene_eval")), 2, cache), "no learned reward");
        System.setProperty(ParallelPretraining.PROPERTY, "false");
        try {
            assertFalse(ParallelPretraining.applies(c, 2, cache), "switched off");
        } finally {
            System.clearProperty(ParallelPretraining.PROPERTY);
        }
        assertTrue(ParallelPretraining.applies(c, 2, cache));
    }
}
