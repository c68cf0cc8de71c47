package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.trainer.config.Method;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code promptSeed}: runs that share it train on the same epoch prompts whatever their seed, while the seed still
 * decides the sampling noise; without it the prompts follow the seed, as before the key existed.
 */
class PromptSeedTest {
    /** What a short run scored: the prompt of every rewarded row and the rewards, in order. */
    record Seen(List<String> prompts, List<Double> rewards) {}

    static GrpoTrainer.Settings settings(long seed, long promptSeed) {
        return new GrpoTrainer.Settings(seed, 2, 1.0, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 8, 0, Device.CPU, 0, GrpoObjective.KlForm.CODE, 0.75, 1.0, 0.0,
                GrpoObjective.RatioNorm.NONE, DType.FLOAT32, promptSeed, 1e-8, 0);
    }

    static Seen run(long seed, long promptSeed) {
        return run(settings(seed, promptSeed));
    }

    /** The mean pixel of each image as its reward, appending every scored row's prompt and reward to {@code seen}. */
    static RewardFunction recordingMeanPixel(Seen seen) {
        return new RewardFunction() {
            @Override
            public String name() {
                return "mean_pixel";
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                try (Scope sc = Scope.open()) {
                    double[] r = images.reshape(images.size(0), -1).mean(false, 1).toDoubleArray();
                    seen.prompts().addAll(prompts);
                    for (double v : r) seen.rewards().add(v);
                    return RewardOutput.of(r);
                }
            }
        };
    }

    /** Four epochs of flow-grpo on the constant-velocity model, the reward (mean pixel) recording what it scores. */
    static Seen run(GrpoTrainer.Settings s) {
        Seen seen = new Seen(new ArrayList<>(), new ArrayList<>());
        RewardFunction recording = recordingMeanPixel(seen);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(4, 1.0, 0.7), FlowSdeSampler.ode(4, 1.0),
                PruneSchedule.none(8, 4), SubsetStrategy.byName("ovf"), false);
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(), recording, x -> x.clamp(-1e6, 1e6))) {
            for (int e = 0; e < 4; e++) t.runEpoch(e, new Phases(p -> { }));
        }
        return seen;
    }

    @Test
    void aSharedPromptSeedFixesThePromptsAndTheSeedStillDrawsTheNoise() {
        Seen a = run(1, 77);
        Seen b = run(2, 77);
        assertEquals(4 * 2 * 8, a.prompts().size(), "4 epochs of 2 groups of 8");
        assertEquals(a.prompts(), b.prompts(), "the same prompt draws under one promptSeed");
        assertNotEquals(a.rewards(), b.rewards(), "the seeds still draw different noise");
        assertNotEquals(a.prompts(), run(1, 78).prompts(), "another promptSeed draws other prompts");
        // the settings without a promptSeed draw from the seed: the same run as promptSeed = seed
        assertEquals(run(5, 5), run(new GrpoTrainer.Settings(5, 2, 1.0, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 8, 0, Device.CPU)));
    }

    @Test
    void theConfigsPromptSeedDefaultsToTheRunsSeed() {
        TrainConfig d = TrainConfig.resolve(null, null, List.of("seed=9"));
        assertEquals(TrainConfig.PROMPT_SEED_OF_RUN, d.promptSeed());
        assertEquals(9, d.promptDrawSeed());
        assertEquals(9, GrpoTrainer.Settings.of(d).promptSeed());
        TrainConfig c = TrainConfig.resolve(null, null, List.of("seed=9", "promptSeed=4"));
        assertEquals(4, c.promptDrawSeed());
        assertEquals(4, GrpoTrainer.Settings.of(c).promptSeed());
    }
}
