package io.progrpo.world.model;

import io.progrpo.sampler.BetaSchedule;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.optim.AdamW;
import io.progrpo.world.Prompt;
import io.progrpo.world.Renderer;
import io.progrpo.world.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Pretrains a {@link WorldModel} on rendered images of the world: the base generator that GRPO then aligns.
 *
 * <p>Each step draws {@code batchSize} prompts uniformly from the list, renders them with jitter, replaces a row's
 * tokens by the unconditional all-padding row with probability {@code condDropout}, noises the images and regresses
 * the model output on its target with an MSE loss (AdamW, linear warm-up then cosine decay to lr / 10, gradient
 * clipping):
 * <ul>
 *   <li>VELOCITY (rectified flow): sigma ~ U(0, 1) or sigmoid(N(0, 1)); x_sigma = (1 - sigma) x0 + sigma noise;
 *       target v = noise - x0; time input sigma.</li>
 *   <li>EPSILON (DDPM): t ~ U{0..N-1} over {@link #TRAIN_SCHEDULE}'s N = 1000 steps;
 *       x_t = sqrt(alphabar_t) x0 + sqrt(1 - alphabar_t) noise; target noise; time input t.</li>
 * </ul>
 * Deterministic in {@code seed}: a torch {@link Generator} draws noise and times (on the CPU, then moved to the
 * model's device), a {@link Random} draws prompts, jitter and dropout.
 */
public final class Pretrainer {
    /** The training noise schedule of EPSILON models (Stable Diffusion 1.x's): use it for their DDIM sampler too. */
    public static final BetaSchedule TRAIN_SCHEDULE = BetaSchedule.stableDiffusion();

    private Pretrainer() {}

    /**
     * Trains {@code m} in place for {@code o.steps()} steps or {@code o.maxSeconds()}, whichever ends first, on
     * prompts drawn from {@code prompts} and rendered by {@code r} (whose size must be the model's). Prompts are
     * encoded with {@link Tokenizer}.
     *
     * @param log receives a progress line every {@code o.logEvery()} steps (may be null)
     * @return the loss curve and timing
     * @throws IllegalArgumentException when the renderer, tokenizer or prompt list does not fit the model
     * @throws IllegalStateException    when the loss becomes NaN or infinite (naming the step)
     */
    public static PretrainResult pretrain(WorldModel m, List<Prompt> prompts, Renderer r, PretrainOptions o, Consumer<String> log) {
        if (m == null || prompts == null || r == null || o == null) {
            throw new IllegalArgumentException("pretrain needs a model, prompts, a renderer and options, got model " + m
                    + ", prompts " + prompts + ", renderer " + r + ", options " + o);
        }
        WorldModelConfig cfg = m.config();
        checkFits(cfg, prompts, r);
        Consumer<String> out = log == null ? s -> { } : log;
        int b = o.batchSize();
        int s = cfg.imageSize();
        int l = cfg.tokens();
        boolean flow = cfg.p() == Parameterization.VELOCITY;
        Device dev = m.device();
        Random rnd = new Random(o.seed());
        double[] losses = new double[o.steps()];
        int done = 0;
        boolean stoppedByTime = false;
        out.accept(String.format(Locale.ROOT, "pretraining %s world model (%d parameters, %dx%d, width %d) for %d steps of %d images%s",
                cfg.p(), m.parameterCount(), s, s, cfg.width(), o.steps(), b,
                o.maxSeconds() > 0 ? String.format(Locale.ROOT, " or %.0f s", o.maxSeconds()) : ""));
        long start = System.nanoTime();
        AdamW.Options adam = new AdamW.Options(o.lr(), 0.9, 0.999, 1e-8, o.weightDecay());
        try (Generator gen = Generator.create(o.seed());
             AdamW opt = new AdamW(m.parameters(), adam);
             Tensor alphaBar = flow ? null : alphaBarTable(dev)) {
            List<Tensor> params = m.parameters();
            for (int step = 0; step < o.steps(); step++) {
                if (o.maxSeconds() > 0 && (System.nanoTime() - start) / 1e9 >= o.maxSeconds()) {
                    stoppedByTime = true;
                    break;
                }
                opt.setLearningRate(0, learningRate(step, o));
                try (Scope scope = Scope.open()) {
                    List<Prompt> batch = new ArrayList<>(b);
                    for (int i = 0; i < b; i++) batch.add(prompts.get(rnd.nextInt(prompts.size())));
                    long[] ids = Tokenizer.encode(batch);
                    for (int i = 0; i < b; i++) {
                        if (rnd.nextDouble() < o.condDropout()) java.util.Arrays.fill(ids, i * l, (i + 1) * l, Tokenizer.PAD);
                    }
                    Tensor x0 = Tensor.of(r.renderBatch(batch, rnd.nextLong()), b, 3, s, s).to(dev);
                    Tensor cond = Tensor.of(ids, b, l).to(dev);
                    Tensor noise = Tensor.randn(gen, b, 3, s, s).to(dev);
                    Tensor xt;
                    Tensor t;
                    Tensor target;
                    if (flow) {
                        Tensor sigma = (o.sigmaSampling() == PretrainOptions.SigmaSampling.UNIFORM
                                ? Tensor.rand(gen, b) : Tensor.randn(gen, b).sigmoid()).to(dev);
                        xt = flowInterpolate(x0, noise, sigma);
                        t = sigma;
                        target = noise.sub(x0);                          // v = noise - x0
                    } else {
                        Tensor steps = Tensor.randint(gen, 0, TRAIN_SCHEDULE.trainSteps(), Device.CPU, b).to(dev);
                        xt = diffuse(x0, noise, alphaBar.indexSelect(0, steps));
                        t = steps.to(DType.FLOAT32);
                        target = noise;
                    }
                    Tensor loss = Functional.mseLoss(m.predict(xt, t, cond), target);
                    opt.zeroGrad();
                    loss.backward();
                    Autograd.clipGradNorm(params, o.gradClip());
                    opt.step();
                    losses[step] = loss.item();
                }
                done = step + 1;
                if (!Double.isFinite(losses[step])) {
                    throw new IllegalStateException("pretraining loss became " + losses[step] + " at step " + step
                            + " (lr " + learningRate(step, o) + "); lower the learning rate");
                }
                if (o.logEvery() > 0 && (done % o.logEvery() == 0 || done == o.steps())) {
                    double secs = (System.nanoTime() - start) / 1e9;
                    out.accept(String.format(Locale.ROOT, "pretrain step %d/%d loss %.4f (mean of last %d: %.4f) lr %.2e, %.1f ms/step",
                            done, o.steps(), losses[step], Math.min(done, o.logEvery()), mean(losses, done - o.logEvery(), done),
                            learningRate(step, o), secs * 1000 / done));
                }
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        double[] curve = java.util.Arrays.copyOf(losses, done);
        PretrainResult res = new PretrainResult(curve, secs, stoppedByTime);
        out.accept(String.format(Locale.ROOT, "pretraining %s after %d steps in %.1f s (%.1f ms/step), final loss %.4f",
                stoppedByTime ? "stopped by the time bound" : "done", done, secs, res.secondsPerStep() * 1000, res.meanLastLosses(50)));
        return res;
    }

    /** x_sigma = (1 - sigma) x0 + sigma noise, with one sigma per row of [B, ...] images. */
    static Tensor flowInterpolate(Tensor x0, Tensor noise, Tensor sigma) {
        try (Scope scope = Scope.open()) {
            Tensor sg = sigma.reshape(rowShape(x0));
            return scope.keep(x0.mul(sg.rsub(1)).add(noise.mul(sg)));
        }
    }

    /** x_t = sqrt(alphabar_t) x0 + sqrt(1 - alphabar_t) noise, with one alphabar_t per row of [B, ...] images. */
    static Tensor diffuse(Tensor x0, Tensor noise, Tensor alphaBar) {
        try (Scope scope = Scope.open()) {
            Tensor ab = alphaBar.reshape(rowShape(x0));
            return scope.keep(x0.mul(ab.sqrt()).add(noise.mul(ab.rsub(1).sqrt())));
        }
    }

    /** [B, 1, 1, ...]: a per-row value broadcast over the rest of x. */
    private static long[] rowShape(Tensor x) {
        long[] shape = new long[x.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = x.size(0);
        return shape;
    }

    /** Linear warm-up to lr over warmupSteps, then cosine decay to lr / 10 at the last step. */
    static double learningRate(int step, PretrainOptions o) {
        if (step < o.warmupSteps()) return o.lr() * (step + 1) / o.warmupSteps();
        int decay = o.steps() - o.warmupSteps();
        double progress = decay <= 1 ? 1 : (double) (step - o.warmupSteps()) / (decay - 1);
        return o.lr() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    /** alphabar_t = prod_{s <= t} (1 - beta_s) for every training step, float32 [N] on {@code dev}. */
    static Tensor alphaBarTable(Device dev) {
        double[] betas = TRAIN_SCHEDULE.betas();
        float[] ab = new float[betas.length];
        double a = 1;
        for (int i = 0; i < betas.length; i++) {
            a *= 1 - betas[i];
            ab[i] = (float) a;
        }
        try (Tensor cpu = Tensor.of(ab, ab.length)) {
            return cpu.to(dev);
        }
    }

    private static void checkFits(WorldModelConfig cfg, List<Prompt> prompts, Renderer r) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("pretraining needs at least one prompt, got an empty list");
        if (r.height() != cfg.imageSize() || r.width() != cfg.imageSize()) {
            throw new IllegalArgumentException("the renderer draws " + r.height() + "x" + r.width() + " images, the model expects "
                    + cfg.imageSize() + "x" + cfg.imageSize());
        }
        if (Tokenizer.SEQUENCE_LENGTH != cfg.tokens()) {
            throw new IllegalArgumentException("the tokenizer encodes " + Tokenizer.SEQUENCE_LENGTH + " tokens per prompt, the model expects "
                    + cfg.tokens());
        }
        if (Tokenizer.vocabularySize() > cfg.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer uses " + Tokenizer.vocabularySize() + " token ids, the model's vocabulary has "
                    + cfg.vocabSize());
        }
    }

    private static double mean(double[] v, int from, int to) {
        from = Math.max(0, from);
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / Math.max(1, to - from);
    }
}
