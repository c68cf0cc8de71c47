package io.progrpo.world.latent;

import io.progrpo.world.model.PretrainOptions;

/**
 * Everything that defines the latent world's pretrained models: the autoencoder and its training, the text encoder,
 * the generator and the joint pretraining of generator and text encoder (its {@code maxSeconds} and {@code logEvery}
 * bound and report the run without defining it).
 */
public record LatentConfig(AutoencoderConfig autoencoder, AutoencoderTrainOptions autoencoderTraining, TextEncoderConfig text,
                           FlowTransformerConfig generator, PretrainOptions generatorTraining) {
    /**
     * The generator's default recipe: 2400 steps of 48 scenes, logit-normal sigma (SD3), 10% condition dropout, AdamW
     * lr 1e-3 with 50 warm-up steps and weight decay 1e-4, gradient clip 1. Deliberately under-trained (the flow loss
     * is still falling): on the scene world the base model's GenEval-style success is about 0.6 with every category
     * but position short of its ground truth, so GRPO has headroom and groups have diversity. 2400 steps (2000 until
     * session 11) so that single-object prompts succeed in at least 80 % of base samples, as issue 17 asks: 0.77 at
     * 2000 and 0.89 at 2400 on 256 samples (module-info-docs/world.md, "The latent world", has the measured tables).
     */
    public static final PretrainOptions GENERATOR_TRAINING =
            new PretrainOptions(2400, 48, 1e-3, 50, 1e-4, 0.1, PretrainOptions.SigmaSampling.LOGIT_NORMAL, 1.0, 5, 0, 200);

    /** A smoke-test recipe: the default shapes, trained for seconds (useless images, the same code paths). */
    public static final AutoencoderTrainOptions QUICK_AUTOENCODER_TRAINING = new AutoencoderTrainOptions(150, 16, 3e-3, 20, 1e-6, 1.0, 11, 50);
    public static final PretrainOptions QUICK_GENERATOR_TRAINING =
            new PretrainOptions(150, 16, 1e-3, 20, 1e-4, 0.1, PretrainOptions.SigmaSampling.LOGIT_NORMAL, 1.0, 5, 0, 50);

    public LatentConfig {
        if (autoencoder == null || autoencoderTraining == null || text == null || generator == null || generatorTraining == null) {
            throw new IllegalArgumentException("every part of a latent config must be given, got " + autoencoder + ", "
                    + autoencoderTraining + ", " + text + ", " + generator + ", " + generatorTraining);
        }
        if (generator.latentChannels() != autoencoder.latentChannels() || generator.latentSize() != autoencoder.latentSize()) {
            throw new IllegalArgumentException("the generator's latents [" + generator.latentChannels() + ", " + generator.latentSize()
                    + ", " + generator.latentSize() + "] must be the autoencoder's " + java.util.Arrays.toString(autoencoder.latentShape()));
        }
        if (generator.textWidth() != text.width() || generator.textTokens() != text.tokens()) {
            throw new IllegalArgumentException("the generator expects text width " + generator.textWidth() + " over "
                    + generator.textTokens() + " tokens, the text encoder has " + text.width() + " over " + text.tokens());
        }
    }

    /** The defaults for a scene source: its image size, vocabulary and sequence length. */
    public static LatentConfig defaults(SceneSource scenes) {
        AutoencoderConfig ae = new AutoencoderConfig(scenes.imageSize(), AutoencoderConfig.DEFAULT_LATENT_CHANNELS,
                AutoencoderConfig.DEFAULT_WIDTH);
        TextEncoderConfig text = TextEncoderConfig.of(scenes.vocabularySize(), scenes.sequenceLength());
        return new LatentConfig(ae, AutoencoderTrainOptions.DEFAULTS, text,
                FlowTransformerConfig.of(ae.latentChannels(), ae.latentSize(), text), GENERATOR_TRAINING);
    }

    /** {@link #defaults} with the quick recipes: for smoke tests and {@code --quick} runs, not for results. */
    public static LatentConfig quick(SceneSource scenes) {
        return defaults(scenes).withAutoencoderTraining(QUICK_AUTOENCODER_TRAINING).withGeneratorTraining(QUICK_GENERATOR_TRAINING);
    }

    public LatentConfig withAutoencoderTraining(AutoencoderTrainOptions o) {
        return new LatentConfig(autoencoder, o, text, generator, generatorTraining);
    }

    public LatentConfig withGenerator(FlowTransformerConfig g) {
        return new LatentConfig(autoencoder, autoencoderTraining, text, g, generatorTraining);
    }

    public LatentConfig withGeneratorTraining(PretrainOptions o) {
        return new LatentConfig(autoencoder, autoencoderTraining, text, generator, o);
    }

    public LatentConfig withAutoencoder(AutoencoderConfig a) {
        return new LatentConfig(a, autoencoderTraining, text, generator, generatorTraining);
    }

    public LatentConfig withText(TextEncoderConfig t) {
        return new LatentConfig(autoencoder, autoencoderTraining, t, generator, generatorTraining);
    }

    /** The generator's pretraining options that define its weights, as text (part of its cache key). */
    String generatorTrainingIdentity() {
        PretrainOptions o = generatorTraining;
        return "steps=" + o.steps() + ",batch=" + o.batchSize() + ",lr=" + o.lr() + ",warmup=" + o.warmupSteps() + ",wd=" + o.weightDecay()
                + ",drop=" + o.condDropout() + ",sigma=" + o.sigmaSampling() + ",clip=" + o.gradClip() + ",seed=" + o.seed();
    }
}
