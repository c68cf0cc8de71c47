package io.progrpo.sampler;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;

import java.util.List;

/**
 * The prompts of a task and their conditioning for the sampler: training and held-out prompts, the conditioning
 * rows of prompts (e.g. token ids), the unconditional row for classifier-free guidance, and the latent shape of one
 * sample. The embedded world, a TorchScript job and a user's own task implement it; the trainer reads it.
 */
public interface PromptWorld {
    List<String> trainPrompts();

    List<String> evalPrompts();

    /** Conditioning rows for the prompts, e.g. token ids [N, L] int64; a new tensor the caller owns. */
    Tensor conditioning(List<String> prompts, Device device);

    /** The unconditional conditioning row [1, ...] for classifier-free guidance; a new tensor the caller owns. */
    Tensor unconditional(Device device);

    /** Latent shape of one sample, e.g. {3, 16, 16}. */
    long[] latentShape();
}
