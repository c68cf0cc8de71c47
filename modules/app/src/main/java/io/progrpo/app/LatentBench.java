package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.app.job.LatentJobs;
import io.progrpo.reward.RewardFunction;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.LatentPolicy;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.latent.SceneWorldScenes;
import io.progrpo.world.latent.TrainingMode;
import io.progrpo.world.scene.reward.RewardModelConfig;
import io.progrpo.world.scene.reward.RewardModels;
import io.progrpo.world.scene.reward.ScenePreferenceReward;

import java.util.function.Consumer;

/**
 * The latent scene world's parts of a {@link BenchCompare} job, built as {@code LatentJobs} builds a demo job: the
 * pretrained world (autoencoder, frozen text encoder, generator; cached in {@link Jobs#cacheDir()}), the LoRA policy
 * over the generator and the reward (the learned {@code scene_preference} for this world's recipe, a stand-in, or
 * another configured one). Closing it closes the policy, the learned reward and the world, in that order.
 */
final class LatentBench implements AutoCloseable {
    final LatentWorld world;
    final LatentPolicy policy;
    final RewardFunction reward;
    /** The learned reward when it is the job's reward (owned here), else null. */
    final ScenePreferenceReward learned;

    private LatentBench(LatentWorld world, LatentPolicy policy, RewardFunction reward, ScenePreferenceReward learned) {
        this.world = world;
        this.policy = policy;
        this.reward = reward;
        this.learned = learned;
    }

    /**
     * The parts of config {@code c} (a latent world): {@code standIn} as the reward when not null, else the configured
     * reward ({@code scene_preference} trained for the world's recipe, or the reward registry's).
     */
    static LatentBench open(TrainConfig c, RewardFunction standIn, Consumer<String> log) {
        if (!c.latentWorld()) throw new IllegalArgumentException("LatentBench needs a latent world, the config has world=" + c.world());
        SceneWorldScenes scenes = new SceneWorldScenes();
        Device device = Device.parse(c.device());
        LatentWorld world = LatentWorld.loadOrPretrain(Jobs.cacheDir(), LatentJobs.latentConfig(c, scenes), scenes, device, log);
        ScenePreferenceReward learned = null;
        try {
            if (c.modelDtype().equals("bfloat16")) world.models().to(device, DType.BFLOAT16);
            RewardFunction reward = standIn;
            if (reward == null && c.reward().equals(ScenePreferenceReward.NAME)) {
                learned = learnedReward(c, log);
                reward = learned;
            } else if (reward == null) {
                reward = Jobs.reward(c);
            }
            return new LatentBench(world, world.policy(TrainingMode.LORA), reward, learned);
        } catch (RuntimeException | Error e) {
            if (learned != null) learned.close();
            world.close();
            throw e;
        }
    }

    /** The learned reward of config {@code c}'s world ({@code latent}: the default recipe; {@code latent-quick}: 150 steps). */
    static ScenePreferenceReward learnedReward(TrainConfig c, Consumer<String> log) {
        return new ScenePreferenceReward(RewardModels.loadOrTrain(Jobs.cacheDir(), RewardModelConfig.DEFAULT, LatentJobs.rewardTraining(c), log));
    }

    /** Multiply-accumulates of one policy forward per row (text encoder and adapters included). */
    long macs() {
        return policy.forwardMacsPerRow();
    }

    @Override
    public void close() {
        try {
            policy.close();
        } finally {
            try {
                if (learned != null) learned.close();
            } finally {
                world.close();
            }
        }
    }
}
