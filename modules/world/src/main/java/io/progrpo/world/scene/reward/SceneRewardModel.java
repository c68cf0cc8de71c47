package io.progrpo.world.scene.reward;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.List;

/**
 * The learned preference-style reward of the scene world, CLIP- or PickScore-shaped: an {@link ImageEncoder} and a
 * {@link TextEncoder} into one embedding space and a learned temperature. The score of an image and a caption is the
 * scaled cosine similarity
 * <pre>  score = s cos(f(image), g(caption)),   s = exp(logitScale) clamped to at most {@value #MAX_SCALE}</pre>
 * (logitScale starts at log(1 / 0.07), as CLIP's). Trained by {@link RewardModelTrainer}.
 */
public final class SceneRewardModel extends Module {
    /** The largest temperature scale, as CLIP's clamp. */
    public static final double MAX_SCALE = 100;
    /** Added to the squared norm before the division of the normalisation. */
    static final double NORM_EPS = 1e-12;

    private final RewardModelConfig config;
    private final ImageEncoder image;
    private final TextEncoder text;

    /** A freshly initialised model on the CPU in float32; the same seed gives the same parameters. */
    public SceneRewardModel(RewardModelConfig config, long seed) {
        if (config == null) throw new IllegalArgumentException("config must not be null");
        this.config = config;
        try (Generator g = Generator.create(seed)) {
            image = registerModule("image", new ImageEncoder(config, g, Device.CPU));
            text = registerModule("text", new TextEncoder(config, g, Device.CPU));
        }
        registerParameter("logitScale", Tensor.scalar(Math.log(1 / 0.07)));
    }

    public RewardModelConfig config() {
        return config;
    }

    public ImageEncoder imageEncoder() {
        return image;
    }

    public TextEncoder textEncoder() {
        return text;
    }

    /** Unit-length image embeddings [N, D] of images [N, 3, S, S] in [0, 1]. */
    public Tensor imageEmbeddings(Tensor images) {
        try (Scope scope = Scope.open()) {
            return scope.keep(normalize(image.forward(images.to(DType.FLOAT32))));
        }
    }

    /** Unit-length caption embeddings [M, D] of token ids [M, L]. */
    public Tensor textEmbeddings(Tensor ids) {
        try (Scope scope = Scope.open()) {
            return scope.keep(normalize(text.forward(ids)));
        }
    }

    /** s = exp(logitScale), clamped to [0, {@value #MAX_SCALE}], a scalar tensor (with gradient below the clamp). */
    public Tensor scale() {
        try (Scope scope = Scope.open()) {
            return scope.keep(parameter("logitScale").clamp(-20, Math.log(MAX_SCALE)).exp());
        }
    }

    /** The temperature scale's current value. */
    public double scaleValue() {
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
            return scale().item();
        }
    }

    /** x / sqrt(sum x^2 + eps) over the last dimension of [N, D]. */
    static Tensor normalize(Tensor x) {
        try (Scope scope = Scope.open()) {
            return scope.keep(x.mul(x.square().sum(true, 1).add(NORM_EPS).rsqrt()));
        }
    }

    /** Row-wise scores [N] of N images with N token-id rows: s cos(image_i, caption_i). */
    public Tensor score(Tensor images, Tensor ids) {
        if (images.size(0) != ids.size(0)) {
            throw new IllegalArgumentException("the reward model got " + images.size(0) + " images and " + ids.size(0) + " captions");
        }
        try (Scope scope = Scope.open()) {
            Tensor cos = imageEmbeddings(images).mul(textEmbeddings(ids)).sum(false, 1);
            return scope.keep(cos.mul(scale()));
        }
    }

    /** {@link #score(Tensor, Tensor)} of captions (scene tokenizer texts), without gradient, as doubles. */
    public double[] score(Tensor images, List<String> captions) {
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
            return score(images, SceneTokenizer.tensor(captions, Device.CPU)).toDoubleArray();
        }
    }
}
