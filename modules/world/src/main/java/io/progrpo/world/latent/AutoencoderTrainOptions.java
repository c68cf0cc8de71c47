package io.progrpo.world.latent;

/**
 * How {@link LatentPretraining#trainAutoencoder} trains the autoencoder. Every field but {@code logEvery} is part of
 * the cache key.
 *
 * @param steps       optimizer steps
 * @param batchSize   rendered scenes per step
 * @param lr          AdamW peak learning rate (linear warm-up, then cosine decay to lr / 10)
 * @param warmupSteps warm-up steps
 * @param klWeight    weight of the KL term (per latent element) against the reconstruction MSE (per pixel)
 * @param edgeWeight  weight of the edge term: the MSE of the images' horizontal and vertical pixel differences, which
 *                    keeps small shapes sharp (crosses stay crosses); 0 turns it off
 * @param seed        seeds the renders, the reparameterisation noise and the prompt draws
 * @param logEvery    a progress line every this many steps (0: none)
 */
public record AutoencoderTrainOptions(int steps, int batchSize, double lr, int warmupSteps, double klWeight, double edgeWeight, long seed,
                                      int logEvery) {
    /** The default recipe (see module-info-docs/world.md, "The latent world", for its measured cost and error). */
    public static final AutoencoderTrainOptions DEFAULTS = new AutoencoderTrainOptions(1600, 32, 3e-3, 50, 1e-6, 1.0, 11, 200);

    public AutoencoderTrainOptions {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and > 0, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (!(klWeight >= 0) || Double.isInfinite(klWeight)) throw new IllegalArgumentException("klWeight must be finite and >= 0, got " + klWeight);
        if (!(edgeWeight >= 0) || Double.isInfinite(edgeWeight)) {
            throw new IllegalArgumentException("edgeWeight must be finite and >= 0, got " + edgeWeight);
        }
        if (logEvery < 0) throw new IllegalArgumentException("logEvery must be >= 0, got " + logEvery);
    }

    public AutoencoderTrainOptions withSteps(int s) {
        return new AutoencoderTrainOptions(s, batchSize, lr, Math.min(warmupSteps, s), klWeight, edgeWeight, seed, logEvery);
    }

    public AutoencoderTrainOptions withBatchSize(int b) {
        return new AutoencoderTrainOptions(steps, b, lr, warmupSteps, klWeight, edgeWeight, seed, logEvery);
    }

    public AutoencoderTrainOptions withKlWeight(double w) {
        return new AutoencoderTrainOptions(steps, batchSize, lr, warmupSteps, w, edgeWeight, seed, logEvery);
    }

    public AutoencoderTrainOptions withEdgeWeight(double w) {
        return new AutoencoderTrainOptions(steps, batchSize, lr, warmupSteps, klWeight, w, seed, logEvery);
    }

    public AutoencoderTrainOptions withSeed(long s) {
        return new AutoencoderTrainOptions(steps, batchSize, lr, warmupSteps, klWeight, edgeWeight, s, logEvery);
    }

    public AutoencoderTrainOptions withLogEvery(int n) {
        return new AutoencoderTrainOptions(steps, batchSize, lr, warmupSteps, klWeight, edgeWeight, seed, n);
    }

    /** The fields that define the weights, as text (part of the cache key). */
    String identity() {
        return "steps=" + steps + ",batch=" + batchSize + ",lr=" + lr + ",warmup=" + warmupSteps + ",kl=" + klWeight + ",edge=" + edgeWeight + ",seed=" + seed;
    }
}
