package io.progrpo.app.torchscript;

import io.progrpo.sampler.PromptWorld;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.GrpoTrainer;

import java.util.Arrays;
import java.util.List;

/**
 * A prompt world whose prompts and conditioning come from another world (e.g. the embedded world's token ids) and
 * whose samples are latents of the given shape (e.g. {4, 64, 64} for a VAE with 8x downsampling at 512 px).
 */
public final class LatentPromptWorld implements PromptWorld {
    private final PromptWorld prompts;
    private final long[] latentShape;

    public LatentPromptWorld(PromptWorld prompts, long... latentShape) {
        if (prompts == null) throw new IllegalArgumentException("prompt world is null");
        if (latentShape == null || latentShape.length == 0 || Arrays.stream(latentShape).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException("latent shape must be non-empty with positive sizes, got " + Arrays.toString(latentShape));
        }
        this.prompts = prompts;
        this.latentShape = latentShape.clone();
    }

    @Override
    public List<String> trainPrompts() {
        return prompts.trainPrompts();
    }

    @Override
    public List<String> evalPrompts() {
        return prompts.evalPrompts();
    }

    @Override
    public Tensor conditioning(List<String> p, Device device) {
        return prompts.conditioning(p, device);
    }

    @Override
    public Tensor unconditional(Device device) {
        return prompts.unconditional(device);
    }

    @Override
    public long[] latentShape() {
        return latentShape.clone();
    }
}
