package io.progrpo.world.scene.reward;

/**
 * How {@link RewardModelTrainer} trains a {@link SceneRewardModel}.
 *
 * @param steps             optimizer steps
 * @param batchSize         scenes per step (B)
 * @param negativeCaptions  hard-negative captions per scene (one-attribute neighbours of its prompt)
 * @param negativeImages    whether each caption also gets one hard-negative image (a rendering of a neighbour)
 * @param lr                AdamW's peak learning rate (linear warm-up, then cosine decay to lr / 10)
 * @param warmupSteps       warm-up steps
 * @param weightDecay       AdamW's decoupled weight decay
 * @param gradClip          the gradient-norm clip
 * @param seed              seeds the initialisation and the data; the same seed gives the same weights
 * @param splitSeed         the {@link io.progrpo.world.scene.SceneSplit} whose training prompts it trains on
 * @param logEvery          a progress line every this many steps (0: none)
 * @param maxSeconds        stop after this long (0: no bound); a time-stopped model is not cached
 * @param augmentation      how training images are degraded toward generated ones ({@link RewardAugmentation#NONE}: not)
 * @param sigmoidWeight     weight of the pairwise sigmoid term added to InfoNCE ({@link ContrastiveLoss#sigmoid}; 0: none)
 */
public record RewardTrainOptions(int steps, int batchSize, int negativeCaptions, boolean negativeImages, double lr, int warmupSteps,
                                 double weightDecay, double gradClip, long seed, long splitSeed, int logEvery, double maxSeconds,
                                 RewardAugmentation augmentation, double sigmoidWeight) {
    /**
     * The default recipe: 1000 steps of 48 scenes, 3 hard-negative captions and one hard-negative image each, lr 2e-3,
     * InfoNCE plus the pairwise sigmoid term at weight 1 (chosen over InfoNCE alone and over the autoencoder-round-trip
     * augmentation by agreement with the evaluator on base samples, module-info-docs/world.md; about 90 s on a
     * 2-core machine).
     */
    public static final RewardTrainOptions DEFAULTS = new RewardTrainOptions(1000, 48, 3, true, 2e-3, 30, 1e-4, 1.0, 1,
            io.progrpo.world.scene.SceneSplit.DEFAULT_SEED, 100, 0, RewardAugmentation.NONE, 1.0);

    public RewardTrainOptions {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batchSize < 2) throw new IllegalArgumentException("batchSize must be >= 2 (InfoNCE needs negatives), got " + batchSize);
        if (negativeCaptions < 0) throw new IllegalArgumentException("negativeCaptions must be >= 0, got " + negativeCaptions);
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        if (!(gradClip > 0)) throw new IllegalArgumentException("gradClip must be > 0, got " + gradClip);
        if (logEvery < 0) throw new IllegalArgumentException("logEvery must be >= 0, got " + logEvery);
        if (!(maxSeconds >= 0)) throw new IllegalArgumentException("maxSeconds must be >= 0, got " + maxSeconds);
        if (augmentation == null) throw new IllegalArgumentException("augmentation must be given (RewardAugmentation.NONE for none), got null");
        if (!(sigmoidWeight >= 0) || Double.isInfinite(sigmoidWeight)) throw new IllegalArgumentException("sigmoidWeight must be finite and >= 0, got " + sigmoidWeight);
    }

    /** The plain recipe (InfoNCE on renders as they are): no augmentation, no sigmoid term. */
    public RewardTrainOptions(int steps, int batchSize, int negativeCaptions, boolean negativeImages, double lr, int warmupSteps,
                              double weightDecay, double gradClip, long seed, long splitSeed, int logEvery, double maxSeconds) {
        this(steps, batchSize, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed, splitSeed, logEvery, maxSeconds,
                RewardAugmentation.NONE, 0);
    }

    /** These options with {@code s} steps and a warm-up of at most a tenth of them. */
    public RewardTrainOptions withSteps(int s) {
        return new RewardTrainOptions(s, batchSize, negativeCaptions, negativeImages, lr, Math.min(warmupSteps, Math.max(1, s / 10)), weightDecay, gradClip,
                seed, splitSeed, logEvery, maxSeconds, augmentation, sigmoidWeight);
    }

    public RewardTrainOptions withBatchSize(int b) {
        return new RewardTrainOptions(steps, b, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed, splitSeed,
                logEvery, maxSeconds, augmentation, sigmoidWeight);
    }

    public RewardTrainOptions withSeed(long s) {
        return new RewardTrainOptions(steps, batchSize, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, s, splitSeed,
                logEvery, maxSeconds, augmentation, sigmoidWeight);
    }

    public RewardTrainOptions withLogEvery(int n) {
        return new RewardTrainOptions(steps, batchSize, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed,
                splitSeed, n, maxSeconds, augmentation, sigmoidWeight);
    }

    public RewardTrainOptions withMaxSeconds(double s) {
        return new RewardTrainOptions(steps, batchSize, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed,
                splitSeed, logEvery, s, augmentation, sigmoidWeight);
    }

    public RewardTrainOptions withAugmentation(RewardAugmentation a) {
        return new RewardTrainOptions(steps, batchSize, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed,
                splitSeed, logEvery, maxSeconds, a, sigmoidWeight);
    }

    public RewardTrainOptions withSigmoidWeight(double w) {
        return new RewardTrainOptions(steps, batchSize, negativeCaptions, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed,
                splitSeed, logEvery, maxSeconds, augmentation, w);
    }

    public RewardTrainOptions withLr(double l) {
        return new RewardTrainOptions(steps, batchSize, negativeCaptions, negativeImages, l, warmupSteps, weightDecay, gradClip, seed,
                splitSeed, logEvery, maxSeconds, augmentation, sigmoidWeight);
    }

    public RewardTrainOptions withNegativeCaptions(int k) {
        return new RewardTrainOptions(steps, batchSize, k, negativeImages, lr, warmupSteps, weightDecay, gradClip, seed,
                splitSeed, logEvery, maxSeconds, augmentation, sigmoidWeight);
    }

    /** Whether training needs an {@link ImageRoundTrip} (the augmentation's round trip is on). */
    public boolean needsRoundTrip() {
        return augmentation.roundTrip() > 0;
    }

    /** The fields that define the trained weights (everything but logging and the time bound), for cache keys. */
    public String identity() {
        return "steps=" + steps + ",batch=" + batchSize + ",negCaptions=" + negativeCaptions + ",negImages=" + negativeImages + ",lr=" + lr
                + ",warmup=" + warmupSteps + ",wd=" + weightDecay + ",clip=" + gradClip + ",seed=" + seed + ",split=" + splitSeed
                // the plain recipe keeps the key it had before these fields existed, so its cached files stay valid
                + (augmentation.isNone() ? "" : ",aug=[" + augmentation.identity() + "]") + (sigmoidWeight == 0 ? "" : ",sigmoidTerm=" + sigmoidWeight);
    }
}
