package io.progrpo.world.scene.reward;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardProvider;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.latent.AutoencoderRoundTrip;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The learned scene reward as a {@link RewardFunction} ({@code scene_preference}): the {@link SceneRewardModel}'s
 * scaled cosine similarity of each image with its prompt, PickScore-style (roughly s x [-1, 1], s the learned
 * scale), with the metric {@code cosine}. The training reward of the scene world; the rule-based evaluator
 * ({@code scene_eval}) stays held out.
 *
 * <p>The reward owns its model (closing the reward closes it). The model's parameters are unconfined, so the reward
 * may score on any thread (for example {@code AsyncReward}'s worker); calls are serialised.
 */
public final class ScenePreferenceReward implements RewardFunction, AutoCloseable {
    public static final String NAME = "scene_preference";

    private final SceneRewardModel model;

    /** Scores with {@code model}, which this reward owns from now on. */
    public ScenePreferenceReward(SceneRewardModel model) {
        if (model == null) throw new IllegalArgumentException("reward '" + NAME + "' needs a model, got null");
        this.model = model;
        model.eval();
        model.namedParameters().values().forEach(Tensor::unconfine);
    }

    /**
     * The default model ({@link RewardModelConfig#DEFAULT}, {@link RewardTrainOptions#DEFAULTS}), cached in {@code cacheDir}.
     * When the recipe augments through the autoencoder round trip, the latent world's default autoencoder comes from the
     * same directory ({@link AutoencoderRoundTrip#sceneWorldDefault}; loaded only when the reward model must be trained).
     */
    public static ScenePreferenceReward loadDefault(java.nio.file.Path cacheDir, java.util.function.Consumer<String> log) {
        RewardTrainOptions o = RewardTrainOptions.DEFAULTS;
        if (!o.needsRoundTrip()) return new ScenePreferenceReward(RewardModels.loadOrTrain(cacheDir, RewardModelConfig.DEFAULT, o, log));
        try (AutoencoderRoundTrip rt = AutoencoderRoundTrip.sceneWorldDefault(cacheDir, log)) {
            return new ScenePreferenceReward(RewardModels.loadOrTrain(cacheDir, RewardModelConfig.DEFAULT, o, rt, log));
        }
    }

    public SceneRewardModel model() {
        return model;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @throws IllegalArgumentException for images that are not [N, 3, S, S] floats of the model's size, a prompt count
     *                                  other than N, or a prompt with a word outside the scene vocabulary
     */
    @Override
    public synchronized RewardOutput score(Tensor images, List<String> prompts) {
        int n = RewardFunction.checkInputs(NAME, images, prompts);
        int s = model.config().imageSize();
        long[] shape = images.shape();
        if (shape.length != 4 || shape[1] != 3 || shape[2] != s || shape[3] != s) {
            throw new IllegalArgumentException("reward '" + NAME + "' expects images [N, 3, " + s + ", " + s + "] in [0, 1], got " + Arrays.toString(shape));
        }
        if (!images.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("reward '" + NAME + "' expects floating-point images in [0, 1], got dtype " + images.dtype());
        }
        double[] score;
        double[] cosine;
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
            Tensor x = images.to(Device.CPU, DType.FLOAT32).clamp(0, 1);
            Tensor finite = x.isfinite();
            x = Tensor.where(finite, x, Tensor.zeros(1));
            Tensor ids = SceneTokenizer.tensor(prompts, Device.CPU);
            Tensor cos = model.imageEmbeddings(x).mul(model.textEmbeddings(ids)).sum(false, 1);
            cosine = cos.toDoubleArray();
            score = cos.mul(model.scale()).toDoubleArray();
        }
        Map<String, double[]> metrics = new LinkedHashMap<>();
        metrics.put("cosine", cosine);
        if (score.length != n) throw new IllegalStateException("reward '" + NAME + "' computed " + score.length + " scores for " + n + " images");
        return new RewardOutput(score, metrics);
    }

    /** Closes the model. */
    @Override
    public void close() {
        model.close();
    }

    /**
     * Provider of {@code scene_preference}: the default model from {@link RewardModels#defaultCacheDir()}, trained
     * there first when absent (about two minutes on two cores; progress lines go to standard error).
     */
    public static final class Provider implements RewardProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "scene world: learned preference reward (contrastive image-text model, scaled cosine similarity, PickScore-style)";
        }

        @Override
        public RewardFunction create() {
            return loadDefault(RewardModels.defaultCacheDir(), System.err::println);
        }
    }
}
