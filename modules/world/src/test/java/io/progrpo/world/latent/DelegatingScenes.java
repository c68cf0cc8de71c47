package io.progrpo.world.latent;

import java.util.List;

/** A scene source that forwards to another; tests override one method to break or rename it. */
class DelegatingScenes implements SceneSource {
    private final SceneSource inner;

    DelegatingScenes(SceneSource inner) {
        this.inner = inner;
    }

    @Override
    public String identity() {
        return inner.identity();
    }

    @Override
    public List<String> trainPrompts() {
        return inner.trainPrompts();
    }

    @Override
    public List<String> heldOutPrompts() {
        return inner.heldOutPrompts();
    }

    @Override
    public int imageSize() {
        return inner.imageSize();
    }

    @Override
    public int vocabularySize() {
        return inner.vocabularySize();
    }

    @Override
    public int sequenceLength() {
        return inner.sequenceLength();
    }

    @Override
    public long[] encode(String prompt) {
        return inner.encode(prompt);
    }

    @Override
    public float[] render(List<String> prompts, long seed) {
        return inner.render(prompts, seed);
    }
}
