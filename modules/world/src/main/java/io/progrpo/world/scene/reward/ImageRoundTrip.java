package io.progrpo.world.scene.reward;

import io.progrpo.tensor.Tensor;

/**
 * A frozen image-to-image map that moves rendered training images toward what a generator produces, e.g. the latent
 * world's autoencoder (encode, optionally perturb the latents, decode): {@code io.progrpo.world.latent.AutoencoderRoundTrip}.
 * The reward model's training ({@link RewardAugmentation#roundTrip()}) passes some of its images through it.
 */
public interface ImageRoundTrip {
    /**
     * Images {@code [N, 3, S, S]} in [0, 1] to images of the same shape in [0, 1], without gradient; {@code latentNoise}
     * holds one standard deviation per image of Gaussian noise added to its (scaled) latents, 0 for none.
     *
     * @param noise N x (latent elements) standard normal draws, used where {@code latentNoise[i] > 0}
     */
    Tensor apply(Tensor images, double[] latentNoise, float[] noise);

    /** Elements of one image's latent (the length of each image's noise row). */
    int latentElements();

    /** Names the map and its weights (e.g. the autoencoder's cache hash): part of the reward model's cache key. */
    String identity();
}
