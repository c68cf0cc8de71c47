package io.progrpo.world.latent;

/**
 * The shape of a {@link TextEncoder}.
 *
 * @param vocabSize token ids {@code 0 .. vocabSize - 1} (0 is padding; the all-padding row is the null prompt)
 * @param tokens    the fixed sequence length L
 * @param width     the token state width (64 by default)
 * @param layers    pre-LN transformer layers (2 by default)
 * @param heads     attention heads per layer (a divisor of width)
 */
public record TextEncoderConfig(int vocabSize, int tokens, int width, int layers, int heads) {
    public static final int DEFAULT_WIDTH = 64;
    public static final int DEFAULT_LAYERS = 2;
    public static final int DEFAULT_HEADS = 4;

    public TextEncoderConfig {
        if (vocabSize < 2) throw new IllegalArgumentException("vocabSize must be >= 2 (padding plus a word), got " + vocabSize);
        if (tokens < 1) throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        if (layers < 0) throw new IllegalArgumentException("layers must be >= 0, got " + layers);
        if (heads < 1 || width < 1 || width % heads != 0) {
            throw new IllegalArgumentException("width must be a positive multiple of heads, got width " + width + ", heads " + heads);
        }
    }

    /** The default encoder for a tokenizer of this vocabulary and sequence length. */
    public static TextEncoderConfig of(int vocabSize, int tokens) {
        return new TextEncoderConfig(vocabSize, tokens, DEFAULT_WIDTH, DEFAULT_LAYERS, DEFAULT_HEADS);
    }
}
