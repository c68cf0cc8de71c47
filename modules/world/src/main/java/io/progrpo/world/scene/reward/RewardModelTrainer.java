package io.progrpo.world.scene.reward;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.optim.AdamW;
import io.progrpo.world.scene.SceneRenderer;
import io.progrpo.world.scene.SceneSplit;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Trains a {@link SceneRewardModel} contrastively on rendered scenes of the training prompts: each step draws a
 * {@link ContrastiveBatch}, embeds its images, captions and hard-negative images and minimises
 * {@link ContrastiveLoss#infoNce} (the temperature is a parameter too), with AdamW (linear warm-up, cosine decay to
 * lr / 10) and gradient-norm clipping. Deterministic in the options' seed (the model's initialisation, then a
 * {@link Random} for prompts, layouts and negatives). Never sees a held-out prompt or the evaluator.
 */
public final class RewardModelTrainer {
    /** The loss curve, the steps done and whether the time bound stopped the run. */
    public record Result(double[] losses, int steps, double seconds, boolean stoppedByTime) {
        public double meanLastLosses(int n) {
            int from = Math.max(0, steps - n);
            double s = 0;
            for (int i = from; i < steps; i++) s += losses[i];
            return steps == from ? Double.NaN : s / (steps - from);
        }
    }

    /** The sigmoid term's initial scale and threshold (SigLIP starts at 10 and -10; balanced classes need no such prior). */
    static final double SIGMOID_SCALE_INIT = 10;
    static final double SIGMOID_BIAS_INIT = 0;

    private RewardModelTrainer() {
    }

    /**
     * Trains {@code m} in place.
     *
     * @param log receives a progress line every {@code o.logEvery()} steps (may be null)
     * @throws IllegalStateException when the loss becomes NaN or infinite, naming the step
     */
    public static Result train(SceneRewardModel m, RewardTrainOptions o, Consumer<String> log) {
        return train(m, o, null, log);
    }

    /**
     * Trains {@code m} in place, passing images through {@code roundTrip} as {@code o.augmentation()} says.
     *
     * @param roundTrip the autoencoder round trip; required when {@link RewardTrainOptions#needsRoundTrip()}, else
     *                  unused (may be null)
     * @throws IllegalArgumentException when the options need a round trip and none is given
     */
    public static Result train(SceneRewardModel m, RewardTrainOptions o, ImageRoundTrip roundTrip, Consumer<String> log) {
        if (m == null || o == null) throw new IllegalArgumentException("train needs a model and options, got " + m + ", " + o);
        if (o.needsRoundTrip() && roundTrip == null) {
            throw new IllegalArgumentException("the options augment with an autoencoder round trip (" + o.augmentation() + ") but no round trip was given");
        }
        Consumer<String> out = log == null ? s -> { } : log;
        SceneSplit split = SceneSplit.of(o.splitSeed());
        SceneRenderer r = new SceneRenderer(m.config().imageSize());
        Random rnd = new Random(o.seed());
        int s = r.size();
        double[] losses = new double[o.steps()];
        int done = 0;
        boolean stopped = false;
        out.accept(String.format(Locale.ROOT, "training the scene reward model (%d parameters, %dx%d, %d-d embeddings) for %d steps of %d scenes "
                        + "+ %d hard-negative captions each%s%s", m.parameterCount(), s, s, m.config().embedDim(), o.steps(), o.batchSize(),
                o.negativeCaptions(), o.negativeImages() ? " + 1 hard-negative image per caption" : "",
                o.maxSeconds() > 0 ? String.format(Locale.ROOT, ", at most %.0f s", o.maxSeconds()) : ""));
        if (!o.augmentation().isNone() || o.sigmoidWeight() > 0) {
            out.accept("  augmentation " + o.augmentation() + (roundTrip == null ? "" : " through " + roundTrip.identity())
                    + (o.sigmoidWeight() > 0 ? ", sigmoid term weight " + o.sigmoidWeight() : ""));
        }
        long start = System.nanoTime();
        m.train(true);
        // the sigmoid term's own log-scale and threshold: trained with the model, not part of it (the reward is s cos
        // either way); its own scale leaves InfoNCE's temperature to InfoNCE
        Tensor bias = o.sigmoidWeight() > 0 ? Tensor.scalar(SIGMOID_BIAS_INIT).setRequiresGrad(true) : null;
        Tensor sigLogScale = o.sigmoidWeight() > 0 ? Tensor.scalar(Math.log(SIGMOID_SCALE_INIT)).setRequiresGrad(true) : null;
        java.util.List<Tensor> params = new java.util.ArrayList<>(m.parameters());
        if (bias != null) {
            params.add(bias);
            params.add(sigLogScale);
        }
        try (AdamW opt = new AdamW(params, new AdamW.Options(o.lr(), 0.9, 0.98, 1e-6, o.weightDecay()))) {
            for (int step = 0; step < o.steps(); step++) {
                if (o.maxSeconds() > 0 && (System.nanoTime() - start) / 1e9 >= o.maxSeconds()) {
                    stopped = true;
                    break;
                }
                opt.setLearningRate(0, learningRate(step, o));
                ContrastiveBatch b = ContrastiveBatch.draw(split, r, o, rnd);
                o.augmentation().apply(b.images(), b.count(), s, roundTrip, rnd);
                o.augmentation().apply(b.negImages(), b.negativeImageCount(), s, roundTrip, rnd);
                try (Scope scope = Scope.open()) {
                    Tensor images = m.imageEmbeddings(Tensor.of(b.images(), b.count(), 3, s, s));
                    Tensor captions = m.textEmbeddings(SceneTokenizer.tensor(b.captions(), Device.CPU));
                    Tensor negs = b.negativeImageCount() == 0 ? null
                            : m.imageEmbeddings(Tensor.of(b.negImages(), b.negativeImageCount(), 3, s, s));
                    Tensor scale = m.scale();
                    Tensor loss = ContrastiveLoss.infoNce(images, captions, negs, scale, b.maskI2T(), b.maskT2I());
                    if (bias != null) {
                        Tensor sigScale = sigLogScale.clamp(-20, Math.log(SceneRewardModel.MAX_SCALE)).exp();
                        loss = loss.add(ContrastiveLoss.sigmoid(images, captions, negs, sigScale, bias, b.maskI2T()).mul(o.sigmoidWeight()));
                    }
                    opt.zeroGrad();
                    loss.backward();
                    Autograd.clipGradNorm(params, o.gradClip());
                    opt.step();
                    losses[step] = loss.item();
                }
                done = step + 1;
                if (!Double.isFinite(losses[step])) {
                    throw new IllegalStateException("reward model loss became " + losses[step] + " at step " + step + " (lr "
                            + learningRate(step, o) + "); lower the learning rate");
                }
                if (o.logEvery() > 0 && (done % o.logEvery() == 0 || done == o.steps())) {
                    double secs = (System.nanoTime() - start) / 1e9;
                    out.accept(String.format(Locale.ROOT, "reward model step %d/%d loss %.4f (mean of last %d: %.4f) scale %.1f lr %.2e, %.0f ms/step",
                            done, o.steps(), losses[step], Math.min(done, o.logEvery()), mean(losses, done - o.logEvery(), done),
                            m.scaleValue(), learningRate(step, o), secs * 1000 / done));
                }
            }
        } finally {
            m.eval();
            if (bias != null) {
                bias.close();
                sigLogScale.close();
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Result res = new Result(java.util.Arrays.copyOf(losses, done), done, secs, stopped);
        out.accept(String.format(Locale.ROOT, "reward model training %s after %d steps in %.1f s, final loss %.4f, scale %.1f",
                stopped ? "stopped by the time bound" : "done", done, secs, res.meanLastLosses(50), m.scaleValue()));
        return res;
    }

    /** Linear warm-up to lr over warmupSteps, then cosine decay to lr / 10 at the last step. */
    static double learningRate(int step, RewardTrainOptions o) {
        if (step < o.warmupSteps()) return o.lr() * (step + 1) / o.warmupSteps();
        int decay = o.steps() - o.warmupSteps();
        double progress = decay <= 1 ? 1 : (double) (step - o.warmupSteps()) / (decay - 1);
        return o.lr() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    private static double mean(double[] v, int from, int to) {
        from = Math.max(0, from);
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / Math.max(1, to - from);
    }
}
