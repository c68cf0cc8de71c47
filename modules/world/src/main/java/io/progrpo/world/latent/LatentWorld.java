package io.progrpo.world.latent;

import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The latent text-to-image world as the trainer sees it ({@link PromptWorld}): the scene source's train and held-out
 * prompts, token-id conditioning {@code [N, L]} int64, the null prompt (all padding) for classifier-free guidance,
 * latents {@code [C, S/4, S/4]}; and the frozen parts a job needs: the autoencoder's {@link #decoder()} for previews
 * and final images, the text encoder, the pretrained generator and policies over it. It owns its models
 * ({@link #close()}).
 */
public final class LatentWorld implements PromptWorld, AutoCloseable {
    private final SceneSource scenes;
    private final LatentModels models;

    /** A world over {@code models} (which it owns from now on) for {@code scenes}. */
    public LatentWorld(SceneSource scenes, LatentModels models) {
        if (scenes == null || models == null) throw new IllegalArgumentException("a latent world needs scenes and models, got " + scenes + ", " + models);
        TextEncoderConfig tc = models.textEncoder().config();
        if (scenes.sequenceLength() != tc.tokens() || scenes.vocabularySize() > tc.vocabSize()
                || scenes.imageSize() != models.autoencoder().config().imageSize()) {
            throw new IllegalArgumentException("the scenes (" + scenes.imageSize() + "x" + scenes.imageSize() + ", " + scenes.sequenceLength()
                    + " tokens of " + scenes.vocabularySize() + ") do not fit the models (" + models.autoencoder().config().imageSize()
                    + ", " + tc.tokens() + " of " + tc.vocabSize() + ")");
        }
        this.scenes = scenes;
        this.models = models;
    }

    /** The pretrained world: {@link LatentModels#loadOrPretrain} then {@code new LatentWorld}. */
    public static LatentWorld loadOrPretrain(Path cacheDir, LatentConfig cfg, SceneSource scenes, Device device, Consumer<String> log) {
        return new LatentWorld(scenes, LatentModels.loadOrPretrain(cacheDir, cfg, scenes, device, log));
    }

    public SceneSource scenes() {
        return scenes;
    }

    public LatentModels models() {
        return models;
    }

    @Override
    public List<String> trainPrompts() {
        return scenes.trainPrompts();
    }

    @Override
    public List<String> evalPrompts() {
        return scenes.heldOutPrompts();
    }

    @Override
    public Tensor conditioning(List<String> prompts, Device device) {
        int l = scenes.sequenceLength();
        long[] ids = new long[prompts.size() * l];
        for (int i = 0; i < prompts.size(); i++) {
            long[] t = scenes.encode(prompts.get(i));
            if (t.length != l) {
                throw new IllegalStateException("the tokenizer gave " + t.length + " ids for '" + prompts.get(i) + "', expected " + l);
            }
            System.arraycopy(t, 0, ids, i * l, l);
        }
        try (Tensor cpu = Tensor.of(ids, prompts.size(), l)) {
            return cpu.to(device);
        }
    }

    @Override
    public Tensor unconditional(Device device) {
        try (Tensor cpu = Tensor.of(new long[scenes.sequenceLength()], 1, scenes.sequenceLength())) {
            return cpu.to(device);
        }
    }

    @Override
    public long[] latentShape() {
        return models.autoencoder().config().latentShape();
    }

    /** Scaled latents to images in [0, 1]: the autoencoder's decoder (frozen). */
    public Decoder decoder() {
        return models.autoencoder().decoder();
    }

    public TextEncoder textEncoder() {
        return models.textEncoder();
    }

    public LatentFlowTransformer generator() {
        return models.generator();
    }

    /** A GRPO policy over the generator ({@link LatentPolicy#of}); its {@link LatentPolicy#reference()} is the KL reference. */
    public LatentPolicy policy(TrainingMode mode) {
        return LatentPolicy.of(models.generator(), mode);
    }

    /** Multiply-accumulates of one generator forward per row, the text encoder and the adapters included. */
    public long forwardMacsPerRow() {
        return models.generator().forwardMacsPerRow();
    }

    /** Multiply-accumulates of decoding one image (a preview or a final image). */
    public long decoderMacsPerImage() {
        return models.autoencoder().decoderMacsPerImage();
    }

    @Override
    public void close() {
        models.close();
    }

    @Override
    public String toString() {
        return "LatentWorld[" + scenes.identity() + ", latents " + Arrays.toString(latentShape()) + "]";
    }
}
