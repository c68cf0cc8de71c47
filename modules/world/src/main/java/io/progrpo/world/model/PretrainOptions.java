package io.progrpo.world.model;

/**
 * How {@link Pretrainer} trains the base generator. Every field takes part in the base-checkpoint cache key
 * ({@link BaseModels}) except {@code maxSeconds} and {@code logEvery}, which bound and report the run without
 * defining it.
 *
 * @param steps           optimizer steps (the run stops earlier when {@code maxSeconds} is spent)
 * @param batchSize       rendered images per step
 * @param lr              AdamW peak learning rate (reached after the warm-up, then cosine decay to lr / 10)
 * @param warmupSteps     linear learning-rate warm-up from lr / warmupSteps to lr
 * @param weightDecay     AdamW decoupled weight decay
 * @param condDropout     probability that a row's tokens are all set to 0 (the unconditional prompt), so that
 *                        classifier-free guidance works
 * @param sigmaSampling   how flow-matching times are drawn (ignored by EPSILON models, which draw t uniformly)
 * @param gradClip        max global gradient 2-norm
 * @param seed            seeds the torch generator (noise, times) and the java.util.Random (prompts, jitter, dropout)
 * @param maxSeconds      wall-clock bound; 0 or less: none
 * @param logEvery        a log line every this many steps (and at the last); 0: no log
 */
public record PretrainOptions(int steps, int batchSize, double lr, int warmupSteps, double weightDecay,
                              double condDropout, SigmaSampling sigmaSampling, double gradClip, long seed,
                              double maxSeconds, int logEvery) {

    /** Flow-matching time distributions: uniform, or SD3's logit-normal sigmoid(N(0, 1)) (more weight mid-way). */
    public enum SigmaSampling { UNIFORM, LOGIT_NORMAL }

    /**
     * The base model of the demo: 400 steps of 64 images, lr 2e-3 after 100 warm-up steps, 10% dropout (about 25 s of
     * one CPU core at width 32). Deliberately under-trained: measured with 20 ODE steps and guidance 3 on 16x16, it
     * gets colors and positions right but shapes rough (PromptAlignment 0.77, shape part 0.33, ground truth 0.98),
     * which leaves GRPO room to improve; 1500 steps reach 0.95 (shape 0.85).
     */
    public static final PretrainOptions DEFAULTS =
            new PretrainOptions(400, 64, 2e-3, 100, 1e-4, 0.1, SigmaSampling.UNIFORM, 1.0, 0, 0, 100);

    public PretrainOptions {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and > 0, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        if (!(condDropout >= 0 && condDropout < 1)) {
            throw new IllegalArgumentException("condDropout must be in [0, 1), got " + condDropout);
        }
        if (sigmaSampling == null) throw new IllegalArgumentException("sigmaSampling must be UNIFORM or LOGIT_NORMAL, got null");
        if (!(gradClip > 0)) throw new IllegalArgumentException("gradClip must be > 0, got " + gradClip);
        if (Double.isNaN(maxSeconds)) throw new IllegalArgumentException("maxSeconds must be a number (<= 0: no bound), got NaN");
        if (logEvery < 0) throw new IllegalArgumentException("logEvery must be >= 0, got " + logEvery);
    }

    public PretrainOptions withSteps(int s) {
        return new PretrainOptions(s, batchSize, lr, warmupSteps, weightDecay, condDropout, sigmaSampling, gradClip, seed, maxSeconds, logEvery);
    }

    public PretrainOptions withBatchSize(int b) {
        return new PretrainOptions(steps, b, lr, warmupSteps, weightDecay, condDropout, sigmaSampling, gradClip, seed, maxSeconds, logEvery);
    }

    public PretrainOptions withWarmupSteps(int w) {
        return new PretrainOptions(steps, batchSize, lr, w, weightDecay, condDropout, sigmaSampling, gradClip, seed, maxSeconds, logEvery);
    }

    public PretrainOptions withLr(double l) {
        return new PretrainOptions(steps, batchSize, l, warmupSteps, weightDecay, condDropout, sigmaSampling, gradClip, seed, maxSeconds, logEvery);
    }

    public PretrainOptions withSigmaSampling(SigmaSampling s) {
        return new PretrainOptions(steps, batchSize, lr, warmupSteps, weightDecay, condDropout, s, gradClip, seed, maxSeconds, logEvery);
    }

    public PretrainOptions withSeed(long s) {
        return new PretrainOptions(steps, batchSize, lr, warmupSteps, weightDecay, condDropout, sigmaSampling, gradClip, s, maxSeconds, logEvery);
    }

    public PretrainOptions withMaxSeconds(double s) {
        return new PretrainOptions(steps, batchSize, lr, warmupSteps, weightDecay, condDropout, sigmaSampling, gradClip, seed, s, logEvery);
    }

    public PretrainOptions withLogEvery(int n) {
        return new PretrainOptions(steps, batchSize, lr, warmupSteps, weightDecay, condDropout, sigmaSampling, gradClip, seed, maxSeconds, n);
    }

    /** The fields that define the trained weights, as text (the cache key of {@link BaseModels}). */
    String identity() {
        return "steps=" + steps + ",batch=" + batchSize + ",lr=" + lr + ",warmup=" + warmupSteps + ",wd=" + weightDecay
                + ",drop=" + condDropout + ",sigma=" + sigmaSampling + ",clip=" + gradClip + ",seed=" + seed;
    }
}
