package io.progrpo.world.latent;

/**
 * The shape of a {@link LatentFlowTransformer}.
 *
 * @param latentChannels C of the latents {@code [C, S, S]} (the autoencoder's, 4 by default)
 * @param latentSize     S (8 for 32x32 images at the autoencoder's factor 4)
 * @param patch          patch side p: {@code (S/p)^2} tokens of {@code C p^2} values (2: 16 tokens)
 * @param width          token width d
 * @param depth          transformer blocks
 * @param heads          attention heads (a divisor of d)
 * @param mlpRatio       hidden width of each block's MLP, in multiples of d
 * @param textWidth      width of the text encoder's token states and pooled vector
 * @param textTokens     the text encoder's sequence length L
 * @param loraRank       LoRA rank r on q, k, v, out of every attention (0: no adapters, full fine-tuning only)
 * @param loraAlpha      LoRA alpha (the adapter is scaled by alpha / r)
 */
public record FlowTransformerConfig(int latentChannels, int latentSize, int patch, int width, int depth, int heads,
                                    int mlpRatio, int textWidth, int textTokens, int loraRank, double loraAlpha) {
    public static final int DEFAULT_WIDTH = 128;
    public static final int DEFAULT_DEPTH = 6;
    public static final int DEFAULT_HEADS = 4;
    public static final int DEFAULT_LORA_RANK = 8;
    public static final double DEFAULT_LORA_ALPHA = 8;

    public FlowTransformerConfig {
        if (latentChannels < 1) throw new IllegalArgumentException("latentChannels must be >= 1, got " + latentChannels);
        if (patch < 1 || latentSize < patch || latentSize % patch != 0) {
            throw new IllegalArgumentException("latentSize must be a positive multiple of patch, got latentSize " + latentSize + ", patch " + patch);
        }
        if (heads < 1 || width < 1 || width % heads != 0 || width % 4 != 0) {
            throw new IllegalArgumentException("width must be a positive multiple of 4 and of heads (the 2D position code "
                    + "needs 4 | width), got width " + width + ", heads " + heads);
        }
        if (depth < 1) throw new IllegalArgumentException("depth must be >= 1, got " + depth);
        if (mlpRatio < 1) throw new IllegalArgumentException("mlpRatio must be >= 1, got " + mlpRatio);
        if (textWidth < 1 || textTokens < 1) {
            throw new IllegalArgumentException("textWidth and textTokens must be >= 1, got " + textWidth + ", " + textTokens);
        }
        if (loraRank < 0) throw new IllegalArgumentException("loraRank must be >= 0 (0: no adapters), got " + loraRank);
        if (loraRank > 0 && !(loraAlpha > 0 && Double.isFinite(loraAlpha))) {
            throw new IllegalArgumentException("loraAlpha must be finite and > 0, got " + loraAlpha);
        }
    }

    /** The defaults for latents {@code [C, S, S]} and a text encoder. */
    public static FlowTransformerConfig of(int latentChannels, int latentSize, TextEncoderConfig text) {
        return new FlowTransformerConfig(latentChannels, latentSize, 2, DEFAULT_WIDTH, DEFAULT_DEPTH, DEFAULT_HEADS, 4,
                text.width(), text.tokens(), DEFAULT_LORA_RANK, DEFAULT_LORA_ALPHA);
    }

    /** Tokens of the patchified latents: {@code (S / p)^2}. */
    public int imageTokens() {
        return (latentSize / patch) * (latentSize / patch);
    }

    /** Values per patch token: {@code C p^2}. */
    public int patchValues() {
        return latentChannels * patch * patch;
    }

    public FlowTransformerConfig withWidth(int w) {
        return new FlowTransformerConfig(latentChannels, latentSize, patch, w, depth, heads, mlpRatio, textWidth, textTokens, loraRank, loraAlpha);
    }

    public FlowTransformerConfig withDepth(int d) {
        return new FlowTransformerConfig(latentChannels, latentSize, patch, width, d, heads, mlpRatio, textWidth, textTokens, loraRank, loraAlpha);
    }

    public FlowTransformerConfig withHeads(int h) {
        return new FlowTransformerConfig(latentChannels, latentSize, patch, width, depth, h, mlpRatio, textWidth, textTokens, loraRank, loraAlpha);
    }

    public FlowTransformerConfig withLora(int rank, double alpha) {
        return new FlowTransformerConfig(latentChannels, latentSize, patch, width, depth, heads, mlpRatio, textWidth, textTokens, rank, alpha);
    }
}
