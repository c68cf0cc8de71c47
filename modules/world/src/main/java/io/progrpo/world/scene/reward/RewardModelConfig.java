package io.progrpo.world.scene.reward;

import io.progrpo.world.scene.SceneRenderer;
import io.progrpo.world.scene.SceneTokenizer;

/**
 * The shape of a {@link SceneRewardModel}.
 *
 * @param imageSize  the side of the square RGB images it scores (>= 32)
 * @param width      the image encoder's first channel count (then 2x and 4x at the strided stages; a multiple of 4)
 * @param embedDim   the joint embedding's dimension, also the text encoder's width (a multiple of heads)
 * @param textLayers transformer layers of the text encoder
 * @param heads      attention heads of the text encoder
 */
public record RewardModelConfig(int imageSize, int width, int embedDim, int textLayers, int heads) {
    /** The default: 32 x 32 images, width 16, 64-dimensional embeddings, one text layer of 4 heads. */
    public static final RewardModelConfig DEFAULT = new RewardModelConfig(32, 16, 64, 1, 4);

    public RewardModelConfig {
        if (imageSize < SceneRenderer.MIN_SIZE) throw new IllegalArgumentException("imageSize must be >= " + SceneRenderer.MIN_SIZE + ", got " + imageSize);
        if (width < 4 || width % 4 != 0) throw new IllegalArgumentException("width must be a positive multiple of 4, got " + width);
        if (heads < 1 || embedDim < heads || embedDim % heads != 0) {
            throw new IllegalArgumentException("embedDim must be a positive multiple of heads, got embedDim " + embedDim + ", heads " + heads);
        }
        if (textLayers < 0) throw new IllegalArgumentException("textLayers must be >= 0, got " + textLayers);
    }

    /** Token ids the text encoder embeds (the scene tokenizer's). */
    public int vocabSize() {
        return SceneTokenizer.vocabularySize();
    }

    /** Tokens per caption (the scene tokenizer's sequence length). */
    public int sequenceLength() {
        return SceneTokenizer.SEQUENCE_LENGTH;
    }

    /** The side of the image encoder's last feature map: three stride-2 convolutions, ceil(size / 8). */
    public int featureSide() {
        int s = imageSize;
        for (int i = 0; i < 3; i++) s = (s + 1) / 2;
        return s;
    }
}
