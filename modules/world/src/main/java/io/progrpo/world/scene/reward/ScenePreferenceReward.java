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
import io.progrpo.world.scene.Neighbours;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The learned scene reward as a {@link RewardFunction} ({@code scene_preference}): how much more the
 * {@link SceneRewardModel} believes an image shows its prompt than any of the prompt's one-attribute neighbours
 * ({@link Neighbours#of}: another colour, shape, position, relation or count), as a log-probability,
 * <pre>  score(x, p) = z(x, p) - log sum_{q in {p} + neighbours(p)} exp z(x, q),   z(x, q) = s cos(f(x), g(q))</pre>
 * (at most 0; the model's scaled cosine similarity z, PickScore-style, is the metric {@code match}, the cosine the
 * metric {@code cosine}). Within a prompt's group it ranks images much as z does; across prompts it is comparable
 * where z is not, since each prompt's caption has its own offset in z (measured on base samples: Spearman across
 * prompts with the evaluator 0.42 for z, 0.58 for this score; module-info-docs/world.md). The training reward of the
 * scene world; the rule-based evaluator ({@code scene_eval}) stays held out.
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
        // every distinct prompt's caption set: the prompt first, then its neighbours
        Map<String, int[]> sets = new LinkedHashMap<>();
        List<String> captions = new ArrayList<>();
        for (String p : prompts) {
            if (sets.containsKey(p)) continue;
            ScenePrompt parsed;
            try {
                parsed = ScenePrompt.parse(p);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("reward '" + NAME + "' scores prompts of the scene grammar: " + e.getMessage(), e);
            }
            List<String> set = new ArrayList<>();
            set.add(p);
            for (Neighbours.Neighbour nb : Neighbours.of(parsed)) set.add(nb.prompt().text());
            int[] at = new int[set.size()];
            for (int j = 0; j < at.length; j++) {
                at[j] = captions.size();
                captions.add(set.get(j));
            }
            sets.put(p, at);
        }
        double[] logits;
        double scale;
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
            Tensor x = images.to(Device.CPU, DType.FLOAT32).clamp(0, 1);
            Tensor finite = x.isfinite();
            x = Tensor.where(finite, x, Tensor.zeros(1));
            Tensor ids = SceneTokenizer.tensor(captions, Device.CPU);
            logits = imageEmbeddings(x).matmul(model.textEmbeddings(ids).transpose(0, 1)).toDoubleArray();
            scale = model.scaleValue();
        }
        int m = captions.size();
        double[] score = new double[n];
        double[] match = new double[n];
        double[] cosine = new double[n];
        for (int i = 0; i < n; i++) {
            int[] at = sets.get(prompts.get(i));
            double max = Double.NEGATIVE_INFINITY;
            for (int j : at) max = Math.max(max, scale * logits[i * m + j]);
            double sum = 0;
            for (int j : at) sum += Math.exp(scale * logits[i * m + j] - max);
            cosine[i] = logits[i * m + at[0]];
            match[i] = scale * cosine[i];
            score[i] = match[i] - (max + Math.log(sum));
        }
        Map<String, double[]> metrics = new LinkedHashMap<>();
        metrics.put("match", match);
        metrics.put("cosine", cosine);
        if (score.length != n) throw new IllegalStateException("reward '" + NAME + "' computed " + score.length + " scores for " + n + " images");
        return new RewardOutput(score, metrics);
    }

    /**
     * The image embeddings of {@code x} ([N, 3, S, S]) in chunks of at most {@value #SCORE_CHUNK} images, each in a scope
     * of its own: the image encoder treats every image on its own (convolutions, per-image GroupNorm), so the embeddings
     * are those of one batch, while the encoder's full-resolution activations are held for one chunk at a time (at
     * 1,536 images in one batch they took 0.7 GB of the sampling phase's peak, docs/benchmarks.md).
     */
    private Tensor imageEmbeddings(Tensor x) {
        long n = x.size(0);
        if (n <= SCORE_CHUNK) return model.imageEmbeddings(x);
        List<Tensor> parts = new ArrayList<>();
        for (long start = 0; start < n; start += SCORE_CHUNK) {
            try (Scope chunk = Scope.open()) {
                parts.add(chunk.keep(model.imageEmbeddings(x.narrow(0, start, Math.min(SCORE_CHUNK, n - start)))));
            }
        }
        return Tensor.cat(parts, 0);
    }

    /** The most images one forward of the image encoder takes while scoring. */
    static final int SCORE_CHUNK = 128;

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
            return "scene world: learned preference reward (contrastive image-text model: log-probability of the prompt among its one-attribute neighbours)";
        }

        @Override
        public RewardFunction create() {
            return loadDefault(RewardModels.defaultCacheDir(), System.err::println);
        }
    }
}
