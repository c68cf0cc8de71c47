package io.progrpo.world.latent;

import java.util.List;
import java.util.Random;

/**
 * What the latent world needs from a scene world: prompts with a held-out split, a tokenizer of fixed length with
 * padding id 0 (the all-padding row is the null prompt), and a renderer of jittered ground-truth images in [0, 1].
 * {@link EmbeddedScenes} adapts the embedded pixel world; the scene world of
 * {@code io.progrpo.world.scene}.
 */
public interface SceneSource {
    /**
     * Names the grammar, split, tokenizer and renderer (and their versions), what defines the training data: part of
     * every cache key (with the training prompts). The evaluation list is not part of it.
     */
    String identity();

    List<String> trainPrompts();

    List<String> heldOutPrompts();

    /** Side S of the square RGB images. */
    int imageSize();

    /** Token ids lie in {@code [0, vocabularySize())}; 0 is padding. */
    int vocabularySize();

    /** The fixed number of token ids per prompt. */
    int sequenceLength();

    /** The token ids of a prompt, {@code sequenceLength()} of them. */
    long[] encode(String prompt);

    /**
     * A training prompt for pretraining, drawn from {@code rnd}: uniformly from {@link #trainPrompts()} unless the
     * source balances its categories.
     */
    default String drawTrainPrompt(Random rnd) {
        List<String> train = trainPrompts();
        return train.get(rnd.nextInt(train.size()));
    }

    /** Jittered images of the prompts, CHW floats {@code [N, 3, S, S]} in [0, 1], deterministic in {@code seed}. */
    float[] render(List<String> prompts, long seed);
}
