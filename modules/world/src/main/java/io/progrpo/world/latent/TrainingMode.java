package io.progrpo.world.latent;

/** Which parameters of the generator GRPO trains; the text encoder and the autoencoder stay frozen either way. */
public enum TrainingMode {
    /** The LoRA adapters of every attention (q, k, v, out) only; the base weights are frozen (the default). */
    LORA,
    /** Every base weight of the generator (its adapters, if any, are left out and stay at zero). */
    FULL
}
