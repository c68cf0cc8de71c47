package io.progrpo.world.latent;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.optim.AdamW;
import io.progrpo.world.model.PretrainOptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Pretraining of the latent world's models, in order: the autoencoder on rendered scenes, its latent scaling, then
 * the generator and the text encoder jointly on encoded scenes. Both loops use AdamW with a linear warm-up and a
 * cosine decay to lr / 10, are deterministic in their seed (a torch {@link Generator} for noise and times, a
 * {@link Random} for prompts, renders and dropout) and stop with an {@link IllegalStateException} naming the step
 * when the loss is not finite.
 */
public final class LatentPretraining {
    /** What a loop did: the loss of every step, the mean of the last ones, the wall time. */
    public record Result(double[] losses, double seconds, boolean stoppedByTime) {
        public Result {
            losses = losses.clone();
        }

        @Override
        public double[] losses() {
            return losses.clone();
        }

        public int steps() {
            return losses.length;
        }

        /** Mean loss of the last {@code n} steps (fewer when fewer were taken). */
        public double meanLast(int n) {
            int from = Math.max(0, losses.length - n);
            double s = 0;
            for (int i = from; i < losses.length; i++) s += losses[i];
            return losses.length == from ? Double.NaN : s / (losses.length - from);
        }
    }

    private LatentPretraining() {}

    /**
     * Trains {@code ae} in place on scenes of training prompts drawn and rendered by {@code scenes}: loss = MSE(decodeRaw(z),
     * image) + edgeWeight MSE(its pixel differences, the image's) + klWeight KL, z the reparameterised sample of the
     * posterior. Then measures the latent scaling on
     * {@value #SCALING_IMAGES} fresh scenes ({@link LatentAutoencoder#measureScaling}).
     */
    public static Result trainAutoencoder(LatentAutoencoder ae, SceneSource scenes, AutoencoderTrainOptions o,
                                          Consumer<String> log) {
        checkScenes(scenes, ae.config().imageSize());
        Consumer<String> out = log == null ? s -> { } : log;
        int b = o.batchSize();
        int sz = scenes.imageSize();
        Random rnd = new Random(o.seed());
        double[] losses = new double[o.steps()];
        ae.requiresGrad(true);
        out.accept(String.format(Locale.ROOT, "pretraining the autoencoder (%d parameters, %dx%d -> %s) for %d steps of %d scenes",
                ae.parameterCount(), sz, sz, Arrays.toString(ae.config().latentShape()), o.steps(), b));
        long start = System.nanoTime();
        Device dev = ae.device();
        try (Generator gen = Generator.create(o.seed());
             AdamW opt = new AdamW(ae.parameters(), new AdamW.Options(o.lr(), 0.9, 0.999, 1e-8, 0))) {
            List<Tensor> params = ae.parameters();
            for (int step = 0; step < o.steps(); step++) {
                double lr = learningRate(step, o.steps(), o.warmupSteps(), o.lr());
                opt.setLearningRate(0, lr);
                double rec;
                double kl;
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.of(scenes.render(draw(scenes, b, rnd), rnd.nextLong()), b, 3, sz, sz).to(dev);
                    LatentAutoencoder.Posterior p = ae.posterior(x);
                    Tensor recon = ae.decodeRaw(LatentAutoencoder.sample(p, gen));
                    Tensor recLoss = Functional.mseLoss(recon, x);
                    if (o.edgeWeight() > 0) recLoss = recLoss.add(edgeLoss(recon, x).mul(o.edgeWeight()));
                    Tensor klLoss = LatentAutoencoder.klDivergence(p);
                    Tensor loss = recLoss.add(klLoss.mul(o.klWeight()));
                    opt.zeroGrad();
                    loss.backward();
                    Autograd.clipGradNorm(params, 1.0);
                    opt.step();
                    losses[step] = loss.item();
                    rec = recLoss.item();
                    kl = klLoss.item();
                }
                requireFinite(losses[step], step, lr, "autoencoder");
                int done = step + 1;
                if (o.logEvery() > 0 && (done % o.logEvery() == 0 || done == o.steps())) {
                    out.accept(String.format(Locale.ROOT, "autoencoder step %d/%d loss %.5f (reconstruction %.5f, KL %.3f) lr %.2e, %.0f ms/step",
                            done, o.steps(), losses[step], rec, kl, lr, (System.nanoTime() - start) / 1e6 / done));
                }
            }
            opt.zeroGrad(); // no stale gradients on the trained weights
        }
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(scenes.render(draw(scenes, SCALING_IMAGES, rnd), rnd.nextLong()), SCALING_IMAGES, 3, sz, sz).to(dev);
            double[] f = ae.measureScaling(x);
            out.accept(String.format(Locale.ROOT, "latent scaling measured on %d scenes: shift %.4f, scale %.4f", SCALING_IMAGES, f[0], f[1]));
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Result r = new Result(losses, secs, false);
        out.accept(String.format(Locale.ROOT, "autoencoder done after %d steps in %.1f s, final loss %.5f", o.steps(), secs, r.meanLast(50)));
        return r;
    }

    /** Scenes used to measure the latent scaling. */
    public static final int SCALING_IMAGES = 256;

    /**
     * Trains the generator {@code g} and its text encoder jointly in place by rectified flow on scaled latents of
     * rendered scenes: x_sigma = (1 - sigma) x0 + sigma noise, target v = noise - x0, MSE; sigma uniform or
     * logit-normal (SD3's sigmoid(N(0, 1))); each row's tokens are replaced by the null prompt (all padding) with
     * probability {@code condDropout}. The adapters are neither used nor trained (adapter scale 0); the autoencoder
     * is frozen. Stops early (and says so) when {@code o.maxSeconds()} is spent.
     */
    public static Result trainGenerator(LatentFlowTransformer g, LatentAutoencoder ae, SceneSource scenes, PretrainOptions o,
                                        Consumer<String> log) {
        checkScenes(scenes, ae.config().imageSize());
        FlowTransformerConfig cfg = g.config();
        if (cfg.latentChannels() != ae.config().latentChannels() || cfg.latentSize() != ae.config().latentSize()) {
            throw new IllegalArgumentException("the generator works on latents [" + cfg.latentChannels() + ", " + cfg.latentSize() + ", "
                    + cfg.latentSize() + "], the autoencoder makes " + Arrays.toString(ae.config().latentShape()));
        }
        if (scenes.sequenceLength() != cfg.textTokens() || scenes.vocabularySize() > g.textEncoder().config().vocabSize()) {
            throw new IllegalArgumentException("the text encoder takes " + cfg.textTokens() + " tokens of a vocabulary of "
                    + g.textEncoder().config().vocabSize() + ", the scenes' tokenizer gives " + scenes.sequenceLength() + " of "
                    + scenes.vocabularySize());
        }
        Consumer<String> out = log == null ? s -> { } : log;
        int b = o.batchSize();
        int sz = scenes.imageSize();
        int l = cfg.textTokens();
        int c = cfg.latentChannels();
        int ls = cfg.latentSize();
        Random rnd = new Random(o.seed());
        double[] losses = new double[o.steps()];
        List<Tensor> params = new ArrayList<>(g.trainableParameters(TrainingMode.FULL).values());
        params.addAll(g.textEncoder().parameters());
        ae.requiresGrad(false);
        g.textEncoder().requiresGrad(true);
        g.requiresGrad(true);
        g.adapterParameters().values().forEach(t -> t.setRequiresGrad(false));
        long count = 0;
        for (Tensor t : params) count += t.numel();
        out.accept(String.format(Locale.ROOT, "pretraining the latent generator and text encoder (%d parameters, %d MACs per row) for %d steps of %d scenes%s",
                count, g.forwardMacsPerRow(), o.steps(), b,
                o.maxSeconds() > 0 ? String.format(Locale.ROOT, " or %.0f s", o.maxSeconds()) : ""));
        long start = System.nanoTime();
        Device dev = g.device();
        int done = 0;
        boolean stoppedByTime = false;
        try (Generator gen = Generator.create(o.seed());
             AdamW opt = new AdamW(params, new AdamW.Options(o.lr(), 0.9, 0.999, 1e-8, o.weightDecay()))) {
            for (int step = 0; step < o.steps(); step++) {
                if (o.maxSeconds() > 0 && (System.nanoTime() - start) / 1e9 >= o.maxSeconds()) {
                    stoppedByTime = true;
                    break;
                }
                double lr = learningRate(step, o.steps(), o.warmupSteps(), o.lr());
                opt.setLearningRate(0, lr);
                try (Scope s = Scope.open()) {
                    List<String> batch = draw(scenes, b, rnd);
                    long[] ids = new long[b * l];
                    for (int i = 0; i < b; i++) {
                        if (rnd.nextDouble() >= o.condDropout()) System.arraycopy(scenes.encode(batch.get(i)), 0, ids, i * l, l);
                    }
                    Tensor images = Tensor.of(scenes.render(batch, rnd.nextLong()), b, 3, sz, sz).to(dev);
                    Tensor x0;
                    try (var ng = Autograd.noGrad()) {
                        x0 = ae.encode(images);
                    }
                    Tensor noise = Tensor.randn(gen, b, c, ls, ls).to(dev);
                    Tensor sigma = (o.sigmaSampling() == PretrainOptions.SigmaSampling.UNIFORM ? Tensor.rand(gen, b)
                            : Tensor.randn(gen, b).sigmoid()).to(dev);
                    Tensor sg = sigma.reshape(LatentOps.rowShape(x0));
                    Tensor xt = x0.mul(sg.rsub(1)).add(noise.mul(sg));
                    Tensor v = g.predict(xt, sigma, Tensor.of(ids, b, l).to(dev), 0.0);
                    Tensor loss = Functional.mseLoss(v, noise.sub(x0));
                    opt.zeroGrad();
                    loss.backward();
                    Autograd.clipGradNorm(params, o.gradClip());
                    opt.step();
                    losses[step] = loss.item();
                }
                requireFinite(losses[step], step, lr, "generator");
                done = step + 1;
                if (o.logEvery() > 0 && (done % o.logEvery() == 0 || done == o.steps())) {
                    int n = Math.min(done, o.logEvery());
                    double mean = 0;
                    for (int i = done - n; i < done; i++) mean += losses[i] / n;
                    out.accept(String.format(Locale.ROOT, "generator step %d/%d loss %.4f (mean of last %d: %.4f) lr %.2e, %.0f ms/step",
                            done, o.steps(), losses[step], n, mean, lr, (System.nanoTime() - start) / 1e6 / done));
                }
            }
            opt.zeroGrad(); // no stale gradients on the trained weights
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Result r = new Result(Arrays.copyOf(losses, done), secs, stoppedByTime);
        out.accept(String.format(Locale.ROOT, "generator %s after %d steps in %.1f s, final flow loss %.4f",
                stoppedByTime ? "stopped by the time bound" : "done", done, secs, r.meanLast(50)));
        return r;
    }

    /** Mean squared difference of the horizontal and vertical pixel differences (image gradients) of a and b. */
    static Tensor edgeLoss(Tensor a, Tensor b) {
        try (Scope s = Scope.open()) {
            long h = a.size(2), w = a.size(3);
            Tensor dxa = a.narrow(3, 1, w - 1).sub(a.narrow(3, 0, w - 1));
            Tensor dxb = b.narrow(3, 1, w - 1).sub(b.narrow(3, 0, w - 1));
            Tensor dya = a.narrow(2, 1, h - 1).sub(a.narrow(2, 0, h - 1));
            Tensor dyb = b.narrow(2, 1, h - 1).sub(b.narrow(2, 0, h - 1));
            return s.keep(Functional.mseLoss(dxa, dxb).add(Functional.mseLoss(dya, dyb)));
        }
    }

    /** Linear warm-up to lr over {@code warmup} steps, then cosine decay to lr / 10 at the last step. */
    static double learningRate(int step, int steps, int warmup, double lr) {
        if (step < warmup) return lr * (step + 1) / warmup;
        int decay = steps - warmup;
        double progress = decay <= 1 ? 1 : (double) (step - warmup) / (decay - 1);
        return lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    private static List<String> draw(SceneSource scenes, int n, Random rnd) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(scenes.drawTrainPrompt(rnd));
        return out;
    }

    private static void requireFinite(double loss, int step, double lr, String what) {
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException(what + " pretraining loss became " + loss + " at step " + step + " (lr " + lr
                    + "); lower the learning rate");
        }
    }

    private static void checkScenes(SceneSource scenes, int imageSize) {
        if (scenes == null || scenes.trainPrompts().isEmpty()) {
            throw new IllegalArgumentException("pretraining needs a scene source with at least one training prompt, got " + scenes);
        }
        if (scenes.imageSize() != imageSize) {
            throw new IllegalArgumentException("the autoencoder takes " + imageSize + "x" + imageSize + " images, the scenes are "
                    + scenes.imageSize() + "x" + scenes.imageSize());
        }
    }
}
