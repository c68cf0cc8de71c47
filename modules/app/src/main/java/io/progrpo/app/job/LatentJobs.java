package io.progrpo.app.job;

import io.progrpo.reward.MultiReward;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardRegistry;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.HeldOutEvaluation;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.LatentConfig;
import io.progrpo.world.latent.LatentPolicy;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.latent.SceneWorldScenes;
import io.progrpo.world.latent.TrainingMode;
import io.progrpo.world.scene.Category;
import io.progrpo.world.scene.GenEvalTable;
import io.progrpo.world.scene.SceneEvalReward;
import io.progrpo.world.scene.reward.RewardModelConfig;
import io.progrpo.world.scene.reward.RewardModels;
import io.progrpo.world.scene.reward.RewardTrainOptions;
import io.progrpo.world.scene.reward.ScenePreferenceReward;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds a job in the latent scene world ({@code world=latent} or {@code latent-quick}): the pretrained autoencoder,
 * text encoder and generator (cached in {@link Jobs#cacheDir()}), a LoRA policy over the generator and, for
 * {@code beta > 0}, its reference (the adapters off), the configured reward with {@code scene_preference} trained
 * for this world's recipe, and the held-out rule-based evaluator ({@link #heldOut()}).
 */
public final class LatentJobs {
    private LatentJobs() {}

    /** The smoke-test recipe of the learned reward ({@code latent-quick}): the default model, 150 steps. */
    public static final RewardTrainOptions QUICK_REWARD_TRAINING = RewardTrainOptions.DEFAULTS.withSteps(150);

    /** The world's pretraining recipes: {@link LatentConfig#defaults} or, for {@code latent-quick}, {@link LatentConfig#quick}. */
    public static LatentConfig latentConfig(TrainConfig c, SceneWorldScenes scenes) {
        return c.world().equals("latent-quick") ? LatentConfig.quick(scenes) : LatentConfig.defaults(scenes);
    }

    /** The learned reward's recipe for this config's world. */
    public static RewardTrainOptions rewardTraining(TrainConfig c) {
        return c.world().equals("latent-quick") ? QUICK_REWARD_TRAINING : RewardTrainOptions.DEFAULTS;
    }

    static Jobs.Job build(TrainConfig c, Consumer<String> log) {
        Consumer<String> out = log == null ? s -> { } : log;
        SceneWorldScenes scenes = new SceneWorldScenes();
        Device device = Device.parse(c.device());
        List<AutoCloseable> owned = new ArrayList<>();
        LatentPolicy policy = null;
        LatentPolicy reference = null;
        try {
            LatentWorld world = LatentWorld.loadOrPretrain(Jobs.cacheDir(), latentConfig(c, scenes), scenes, device, out);
            owned.add(world);
            if (c.modelDtype().equals("bfloat16")) world.models().to(device, DType.BFLOAT16);
            MultiReward reward = reward(c, owned, out);
            policy = world.policy(TrainingMode.LORA);
            reference = c.beta() > 0 ? policy.reference() : null;
            GrpoTrainer trainer = Jobs.optimizerSteps(new GrpoTrainer(GrpoTrainer.Settings.of(c), Jobs.plan(c), policy, reference, world, reward,
                    world.decoder()), c);
            return new Jobs.Job(c, world, policy, reference, trainer, reward, heldOut(), owned);
        } catch (RuntimeException | Error e) {
            if (reference != null) reference.close();
            if (policy != null) policy.close();
            Jobs.closeAll(owned);
            throw e;
        }
    }

    /**
     * The configured reward: {@code scene_preference} is this world's learned model (trained on first use for the
     * world's recipe, cached beside the world's models), every other name comes from the reward registry.
     */
    static MultiReward reward(TrainConfig c, List<AutoCloseable> owned, Consumer<String> log) {
        List<MultiReward.Term> terms = new ArrayList<>();
        for (Map.Entry<String, Double> e : MultiReward.parseWeights(c.reward()).entrySet()) {
            RewardFunction r;
            if (e.getKey().equals(ScenePreferenceReward.NAME)) {
                ScenePreferenceReward p = new ScenePreferenceReward(
                        RewardModels.loadOrTrain(Jobs.cacheDir(), RewardModelConfig.DEFAULT, rewardTraining(c), log));
                owned.add(p);
                r = p;
            } else {
                r = RewardRegistry.create(e.getKey(), Plugins.active().loader());
            }
            terms.add(new MultiReward.Term(r, e.getValue()));
        }
        return new MultiReward(terms, Jobs.aggregation(c));
    }

    /**
     * The held-out judge: the scene world's rule-based evaluator ({@code scene_eval}, never trained on) as GenEval
     * reports it: {@code overall} (mean success over the categories present), the success of each category, and
     * {@code score} (the mean continuous score over the categories).
     */
    public static HeldOutEvaluation heldOut() {
        return new HeldOutEvaluation() {
            private final SceneEvalReward evaluator = new SceneEvalReward();

            @Override
            public String name() {
                return "geneval";
            }

            @Override
            public String headline() {
                return "overall";
            }

            @Override
            public Map<String, Double> evaluate(Tensor images, List<String> prompts) {
                GenEvalTable t = GenEvalTable.of(prompts, evaluator.score(images, prompts));
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("overall", t.overall());
                for (Category cat : Category.values()) m.put(cat.key(), t.success().get(cat));
                m.put("score", t.overallScore());
                return m;
            }
        };
    }

    /**
     * How many images each GenEval category of the held-out evaluation has per run (the first {@code evalPrompts} of
     * the scene world's held-out prompts, all when 0; {@code evalSamples} deterministic samples each), in the categories'
     * order.
     */
    public static Map<String, Integer> heldOutImagesPerCategory(TrainConfig c) {
        List<String> prompts = new SceneWorldScenes().heldOutPrompts();
        if (c.evalPrompts() > 0 && c.evalPrompts() < prompts.size()) prompts = prompts.subList(0, c.evalPrompts());
        Map<String, Integer> n = new LinkedHashMap<>();
        for (Category cat : Category.values()) n.put(cat.key(), 0);
        for (String p : prompts) n.merge(io.progrpo.world.scene.ScenePrompt.parse(p).category().key(), c.evalSamples(), Integer::sum);
        return n;
    }
}
