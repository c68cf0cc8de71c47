package io.progrpo.world.model;

/**
 * What a {@link WorldModel} predicts, and what its time input means.
 * <ul>
 *   <li>{@link #VELOCITY}: flow matching (Flow-GRPO). The model predicts v = noise - x0 at
 *       x_sigma = (1 - sigma) x0 + sigma noise; its time input is sigma in [0, 1] (1 = pure noise).</li>
 *   <li>{@link #EPSILON}: epsilon-prediction diffusion (DanceGRPO's DDIM). The model predicts the noise at
 *       x_t = sqrt(alphabar_t) x0 + sqrt(1 - alphabar_t) noise; its time input is timestep / 1000.</li>
 * </ul>
 */
public enum Parameterization {
    VELOCITY,
    EPSILON
}
