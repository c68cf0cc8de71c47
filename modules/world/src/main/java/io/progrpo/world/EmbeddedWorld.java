package io.progrpo.world;

import io.progrpo.sampler.PromptWorld;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;

import java.util.List;

/**
 * The embedded benchmark world as the trainer sees it: train and held-out prompts (a seeded split of the 120
 * color x shape x position prompts), token-id conditioning, and pixel-space latents [3, size, size] in [0, 1].
 */
public final class EmbeddedWorld implements PromptWorld {
    /** The split used by every run, so all methods and seeds are evaluated on the same held-out prompts. */
    public static final long SPLIT_SEED = 7;

    private final PromptSet split = PromptSet.split(SPLIT_SEED);
    private final int imageSize;

    public EmbeddedWorld(int imageSize) {
        this.imageSize = imageSize;
    }

    public PromptSet split() {
        return split;
    }

    @Override
    public List<String> trainPrompts() {
        return split.train().stream().map(Prompt::text).toList();
    }

    @Override
    public List<String> evalPrompts() {
        return split.heldOut().stream().map(Prompt::text).toList();
    }

    @Override
    public Tensor conditioning(List<String> prompts, Device device) {
        int n = prompts.size();
        long[] ids = new long[n * Tokenizer.SEQUENCE_LENGTH];
        for (int i = 0; i < n; i++) {
            long[] t = Tokenizer.encode(prompts.get(i));
            System.arraycopy(t, 0, ids, i * Tokenizer.SEQUENCE_LENGTH, Tokenizer.SEQUENCE_LENGTH);
        }
        try (Tensor cpu = Tensor.of(ids, n, Tokenizer.SEQUENCE_LENGTH)) {
            return cpu.to(device);
        }
    }

    @Override
    public Tensor unconditional(Device device) {
        try (Tensor cpu = Tensor.of(new long[Tokenizer.SEQUENCE_LENGTH], 1, Tokenizer.SEQUENCE_LENGTH)) {
            return cpu.to(device);
        }
    }

    @Override
    public long[] latentShape() {
        return new long[] {3, imageSize, imageSize};
    }
}
