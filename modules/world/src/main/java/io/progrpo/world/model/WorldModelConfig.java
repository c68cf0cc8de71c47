package io.progrpo.world.model;

/**
 * The shape of a {@link WorldModel}.
 *
 * @param imageSize side of the square RGB images in pixels (even, at least 4; 16 by default)
 * @param width     channels at full resolution (a multiple of 4; twice that at half resolution; 32 by default)
 * @param vocabSize number of token ids (id 0 is padding and the unconditional prompt)
 * @param tokens    the fixed number of token ids per prompt
 * @param p         what the model predicts
 */
public record WorldModelConfig(int imageSize, int width, int vocabSize, int tokens, Parameterization p) {
    public static final int DEFAULT_IMAGE_SIZE = 16;
    public static final int DEFAULT_WIDTH = 32;

    public WorldModelConfig {
        if (imageSize < 4 || imageSize % 2 != 0) {
            throw new IllegalArgumentException("imageSize must be even and >= 4 (the net pools by 2), got " + imageSize);
        }
        if (width < 4 || width % 4 != 0) {
            throw new IllegalArgumentException("width must be a positive multiple of 4 (GroupNorm groups), got " + width);
        }
        if (vocabSize < 2) throw new IllegalArgumentException("vocabSize must be >= 2 (padding plus a word), got " + vocabSize);
        if (tokens < 1) throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        if (p == null) throw new IllegalArgumentException("parameterization must be VELOCITY or EPSILON, got null");
    }

    /** A config with the default image size and width. */
    public static WorldModelConfig of(int vocabSize, int tokens, Parameterization p) {
        return new WorldModelConfig(DEFAULT_IMAGE_SIZE, DEFAULT_WIDTH, vocabSize, tokens, p);
    }

    public WorldModelConfig withImageSize(int size) {
        return new WorldModelConfig(size, width, vocabSize, tokens, p);
    }

    public WorldModelConfig withWidth(int w) {
        return new WorldModelConfig(imageSize, w, vocabSize, tokens, p);
    }
}
