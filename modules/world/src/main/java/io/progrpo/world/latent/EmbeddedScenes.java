package io.progrpo.world.latent;

import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.Prompt;
import io.progrpo.world.PromptSet;
import io.progrpo.world.Renderer;
import io.progrpo.world.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The embedded pixel world's prompts ("a red circle at the left": 96 train, 24 held out, the split of
 * {@link EmbeddedWorld#SPLIT_SEED}), its 3-token tokenizer and its renderer (one object on black) at a chosen size:
 * a small, fast scene source for tests.
 */
public final class EmbeddedScenes implements SceneSource {
    private final PromptSet split = PromptSet.split(EmbeddedWorld.SPLIT_SEED);
    private final Renderer renderer;
    private final int size;

    public EmbeddedScenes(int imageSize) {
        this.size = imageSize;
        this.renderer = new Renderer(imageSize, imageSize);
    }

    @Override
    public String identity() {
        return "embedded-world v1, split " + EmbeddedWorld.SPLIT_SEED + ", " + size + "x" + size;
    }

    @Override
    public List<String> trainPrompts() {
        return split.train().stream().map(Prompt::text).toList();
    }

    @Override
    public List<String> heldOutPrompts() {
        return split.heldOut().stream().map(Prompt::text).toList();
    }

    @Override
    public int imageSize() {
        return size;
    }

    @Override
    public int vocabularySize() {
        return Tokenizer.vocabularySize();
    }

    @Override
    public int sequenceLength() {
        return Tokenizer.SEQUENCE_LENGTH;
    }

    @Override
    public long[] encode(String prompt) {
        return Tokenizer.encode(prompt);
    }

    @Override
    public float[] render(List<String> prompts, long seed) {
        List<Prompt> ps = new ArrayList<>(prompts.size());
        for (String p : prompts) ps.add(Prompt.parse(p));
        return renderer.renderBatch(ps, seed);
    }
}
