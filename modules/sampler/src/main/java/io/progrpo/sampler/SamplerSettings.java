package io.progrpo.sampler;

import java.util.Locale;

/**
 * What a {@link SamplerProvider} builds its samplers from: the run's sampler settings (the trainer's config fields of
 * the same names) and what the model predicts.
 *
 * @param steps      T: steps of a training trajectory ({@code samplerSteps}), at least 1
 * @param evalSteps  steps of an evaluation sample ({@code evalSteps}), at least 1
 * @param shift      the flow timestep shift k ({@code shift}), finite and positive; 1 = no shift
 * @param noiseLevel the flow SDE noise level a ({@code noiseLevel}), finite and at least 0
 * @param eta        the DDIM noise eta ({@code eta}), finite and at least 0
 * @param prediction what the model's output is: a flow velocity or a diffusion epsilon
 * @param betas      the beta schedule epsilon models were trained with (DDIM needs it); passed for every model
 */
public record SamplerSettings(int steps, int evalSteps, double shift, double noiseLevel, double eta,
                              Prediction prediction, BetaSchedule betas) {

    /** What a model predicts, which fixes the samplers that suit it. */
    public enum Prediction {
        /** A flow-matching velocity {@code v = noise - x0}; the model time is sigma in [0, 1]. */
        VELOCITY,
        /** A diffusion epsilon (the noise); the model time is the training timestep. */
        EPSILON;

        /** Lower case, as messages and the docs write it. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Checks every field; each failure names it, what was expected and what came. */
    public SamplerSettings {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (evalSteps < 1) throw new IllegalArgumentException("evalSteps must be >= 1, got " + evalSteps);
        if (!(shift > 0) || Double.isInfinite(shift)) throw new IllegalArgumentException("shift must be finite and > 0, got " + shift);
        if (!(noiseLevel >= 0) || Double.isInfinite(noiseLevel)) {
            throw new IllegalArgumentException("noiseLevel must be finite and >= 0, got " + noiseLevel);
        }
        if (!(eta >= 0) || Double.isInfinite(eta)) throw new IllegalArgumentException("eta must be finite and >= 0, got " + eta);
        if (prediction == null) throw new IllegalArgumentException("prediction must be VELOCITY or EPSILON, got null");
        if (betas == null) throw new IllegalArgumentException("betas must not be null (BetaSchedule.stableDiffusion() for the built-in models)");
    }
}
