package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.RewardFunction;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code initialNoise}: {@code group} starts every row of a prompt group from one initial noise (Flow-GRPO's
 * {@code same_latent}), {@code row} gives each row its own, {@code method} keeps each method's own choice (shared for
 * DanceGRPO, per row for the flow methods).
 */
class InitialNoiseTest {
    /**
     * One epoch of 2 groups of 8 rows on the constant-velocity model with an ODE sampler, so that a row's final image,
     * and so its reward (the mean pixel), is a function of its initial noise alone; returns the rewards in row order.
     */
    static List<Double> rewards(boolean shared) {
        PromptSeedTest.Seen seen = new PromptSeedTest.Seen(new ArrayList<>(), new ArrayList<>());
        RewardFunction recording = PromptSeedTest.recordingMeanPixel(seen);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, FlowSdeSampler.ode(4, 1.0), FlowSdeSampler.ode(4, 1.0),
                PruneSchedule.none(8, 4), SubsetStrategy.byName("ovf"), shared);
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = new GrpoTrainer(PromptSeedTest.settings(3, 3), plan, policy, null, new LearningDirectionTest.World(),
                     recording, x -> x.clamp(-1e6, 1e6))) {
            t.runEpoch(0, new Phases(p -> { }));
        }
        return seen.rewards();
    }

    @Test
    void aSharedNoiseGivesEveryRowOfAGroupTheSameStartAndGroupsStillDiffer() {
        List<Double> shared = rewards(true);
        assertEquals(16, shared.size(), "2 groups of 8 rows");
        for (int g = 0; g < 2; g++) {
            for (int i = 1; i < 8; i++) {
                assertEquals(shared.get(8 * g), shared.get(8 * g + i), 0.0, "group " + g + " row " + i + ": one initial noise per group");
            }
        }
        assertNotEquals(shared.get(0), shared.get(8), "the two groups draw different noise");
        List<Double> own = rewards(false);
        Set<Double> distinct = new HashSet<>(own);
        assertEquals(16, distinct.size(), "per-row noise: every row starts from its own noise, got " + own);
    }

    @Test
    void theConfigKeyChoosesAndMethodKeepsEachMethodsOwn() {
        assertFalse(TrainConfig.resolve("flow-grpo", null, null).sharedInitialNoise(), "flow-grpo: per row by default");
        assertTrue(TrainConfig.resolve("flow-grpo", null, List.of("initialNoise=group")).sharedInitialNoise());
        assertTrue(TrainConfig.resolve("dance-grpo", null, null).sharedInitialNoise(), "DanceGRPO shares by default");
        assertFalse(TrainConfig.resolve("dance-grpo", null, List.of("initialNoise=row")).sharedInitialNoise());
        assertTrue(TrainConfig.resolve("pro-grpo", null, List.of("initialNoise=group")).sharedInitialNoise());
        assertEquals("method", TrainConfig.defaults().initialNoise());
        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainConfig.resolve("flow-grpo", null, List.of("initialNoise=same")));
        assertTrue(e.getMessage().contains("initialNoise") && e.getMessage().contains("same")
                && e.getMessage().contains("group"), e.getMessage());
        // a config.json written before the key existed reads as the method's own choice
        String old = TrainConfig.resolve("flow-grpo", null, null).toJson().replaceAll(",\\s*\"initialNoise\"\\s*:\\s*\"method\"", "");
        assertFalse(old.contains("initialNoise"), old);
        assertEquals("method", TrainConfig.fromJson(old).initialNoise());
    }
}
