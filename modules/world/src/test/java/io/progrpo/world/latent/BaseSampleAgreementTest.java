package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.model.PretrainOptions;
import io.progrpo.world.scene.Category;
import io.progrpo.world.scene.GenEvalTable;
import io.progrpo.world.scene.SceneEvalReward;
import io.progrpo.world.scene.SceneEvaluator;
import io.progrpo.world.scene.ScenePrompt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToDoubleFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The base-sample agreement: its statistics against a double-precision recomputation, its sampling against a direct Euler loop. */
@ExtendWith(SingleThreadedTorch.class)
class BaseSampleAgreementTest {
    /** Tiny models on the 32 x 32 scene world (the evaluator needs its prompts and size): 8x8x4 latents, one block. */
    static final SceneWorldScenes SCENES = new SceneWorldScenes();
    static final AutoencoderConfig AE = new AutoencoderConfig(32, 4, 8);
    static final TextEncoderConfig TEXT = new TextEncoderConfig(SCENES.vocabularySize(), SCENES.sequenceLength(), 8, 1, 2);
    static final FlowTransformerConfig GEN = new FlowTransformerConfig(4, 8, 2, 16, 1, 2, 2, 8, SCENES.sequenceLength(), 2, 4);
    static final LatentConfig CONFIG = new LatentConfig(AE, Tiny.AE_TRAIN, TEXT, GEN,
            new PretrainOptions(3, 4, 1e-3, 1, 1e-4, 0.1, PretrainOptions.SigmaSampling.LOGIT_NORMAL, 1.0, 5, 0, 0));

    /** An untrained world whose zero-initialised layers are randomised, so the velocity depends on x, sigma and the prompt. */
    static LatentWorld world() {
        LatentModels m = LatentModels.fresh(CONFIG, Device.CPU);
        Tiny.randomise(m.generator(), n -> true, 0.3, 5);
        return new LatentWorld(SCENES, m);
    }

    /** A reward that is a plain function of the image's pixels. */
    record PixelReward(String name, ToDoubleFunction<float[]> f) implements RewardFunction {
        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            int n = (int) images.size(0);
            float[] all = images.contiguous().toFloatArray();
            int px = all.length / n;
            double[] s = new double[n];
            for (int i = 0; i < n; i++) s[i] = f.applyAsDouble(Arrays.copyOfRange(all, i * px, (i + 1) * px));
            return new RewardOutput(s, Map.of());
        }
    }

    @Test
    void statisticsMatchAnIndependentDoublePrecisionRecomputation() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 20; trial++) {
            int p = 2 + rnd.nextInt(12);
            int k = 2 + rnd.nextInt(7);
            List<String> prompts = new ArrayList<>();
            for (int i = 0; i < p; i++) prompts.add("prompt " + i);
            double[] a = new double[p * k];
            double[] b = new double[p * k];
            for (int i = 0; i < p * k; i++) {
                a[i] = trial % 2 == 0 ? rnd.nextGaussian() : Math.round(rnd.nextGaussian() * 2) / 2.0; // ties on odd trials
                b[i] = 0.6 * a[i] + rnd.nextGaussian();
                if (trial % 3 == 0 && i < k) b[i] = 0.25; // one prompt where the evaluator is constant
            }
            BaseSampleAgreement.Result r = BaseSampleAgreement.of(prompts, k, a, b, null);
            double[] ma = new double[p];
            double[] mb = new double[p];
            double within = 0;
            int counted = 0;
            for (int i = 0; i < p; i++) {
                double[] sa = new double[k];
                double[] sb = new double[k];
                for (int j = 0; j < k; j++) {
                    sa[j] = a[i * k + j];
                    sb[j] = b[i * k + j];
                    ma[i] += sa[j];
                    mb[i] += sb[j];
                }
                ma[i] /= k;
                mb[i] /= k;
                double rho = spearman(sa, sb);
                if (!Double.isNaN(rho)) {
                    within += rho;
                    counted++;
                }
            }
            assertEquals(spearman(ma, mb), r.acrossPrompts(), 1e-12, "across prompts, trial " + trial);
            assertEquals(spearman(a, b), r.overImages(), 1e-12, "over images, trial " + trial);
            assertEquals(counted, r.withinCounted(), "prompts with a defined within-prompt Spearman, trial " + trial);
            assertEquals(counted == 0 ? Double.NaN : within / counted, r.withinPrompts(), 1e-12, "within prompts, trial " + trial);
            double sd = 0;
            for (int i = 0; i < p; i++) {
                double ss = 0;
                for (int j = 0; j < k; j++) ss += (a[i * k + j] - ma[i]) * (a[i * k + j] - ma[i]);
                sd += Math.sqrt(ss / k) / p;
            }
            assertEquals(sd, r.rewardWithinStd(), 1e-12, "within-prompt std, trial " + trial);
            if (trial % 3 == 0) assertTrue(r.withinCounted() < p, "the constant prompt is left out");
        }
    }

    @Test
    void samplesAreTheGuidedEulerOdeOfTheBaseGeneratorDecodedInAnyChunking() {
        List<String> prompts = SCENES.heldOutPrompts().subList(0, 3);
        int k = 3;
        int steps = 4;
        double w = 4.5;
        try (LatentWorld world = world(); Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            Tensor chunked = BaseSampleAgreement.sample(world, prompts, k, w, steps, 11, 4);
            Tensor whole = BaseSampleAgreement.sample(world, prompts, k, w, steps, 11);
            assertArrayEquals(new long[] {9, 3, 32, 32}, whole.shape());
            assertArrayEquals(whole.toFloatArray(), chunked.toFloatArray(), 1e-5f, "chunking does not change the samples");
            // the chain written out: x <- x + (sigma_{i+1} - sigma_i) (v_u + w (v_c - v_u)), sigma_i = 1 - i / T
            Tensor x;
            try (Generator g = Generator.create(11)) {
                x = Tensor.randn(g, 9, 4, 8, 8);
            }
            List<String> rows = new ArrayList<>();
            for (String p : prompts) for (int j = 0; j < k; j++) rows.add(p);
            Tensor cond = world.conditioning(rows, Device.CPU);
            Tensor uncond = world.unconditional(Device.CPU).expand(9, SCENES.sequenceLength());
            for (int i = 0; i < steps; i++) {
                double sigma = 1 - (double) i / steps;
                double next = 1 - (double) (i + 1) / steps;
                Tensor t = Tensor.full(sigma, io.progrpo.tensor.DType.FLOAT32, Device.CPU, 9);
                Tensor vc = world.generator().predict(x, t, cond);
                Tensor vu = world.generator().predict(x, t, uncond);
                x = x.add(vu.add(vc.sub(vu).mul(w)).mul(next - sigma));
            }
            float[] direct = world.models().autoencoder().decode(x).toFloatArray();
            float[] sampled = whole.toFloatArray();
            assertArrayEquals(direct, sampled, 2e-4f, "the samples are the guided Euler chain of the generator, decoded");
            float[] unguided = BaseSampleAgreement.sample(world, prompts, k, 1.0, steps, 11).toFloatArray();
            assertTrue(maxAbsDiff(unguided, sampled) > 1e-3, "guidance changes the samples");
            float[] other = BaseSampleAgreement.sample(world, prompts, k, w, steps, 12).toFloatArray();
            assertTrue(maxAbsDiff(other, sampled) > 1e-3, "another seed draws other noise");
        }
    }

    @Test
    void measureScoresTheSamplesWithBothRewardsAndTabulatesTheEvaluator() {
        List<String> prompts = SCENES.heldOutPrompts().subList(0, 6);
        int k = 2;
        RewardFunction red = new PixelReward("red", img -> mean(img, 0));
        RewardFunction green = new PixelReward("green", img -> mean(img, 1) + 0.3 * mean(img, 0));
        try (LatentWorld world = world(); Scope s = Scope.open()) {
            Tensor images = BaseSampleAgreement.sample(world, prompts, k, 4.5, 3, 21);
            float[] all = images.toFloatArray();
            int px = 3 * 32 * 32;
            double[] wantRed = new double[12];
            double[] wantGreen = new double[12];
            for (int i = 0; i < 12; i++) {
                float[] img = Arrays.copyOfRange(all, i * px, (i + 1) * px);
                wantRed[i] = mean(img, 0);
                wantGreen[i] = mean(img, 1) + 0.3 * mean(img, 0);
            }
            BaseSampleAgreement.Result r = BaseSampleAgreement.measure(world, red, green, prompts, k, 4.5, 3, 21);
            assertArrayEquals(wantRed, r.reward(), 1e-9, "the reward scored the samples, prompt-major");
            assertArrayEquals(wantGreen, r.evaluator(), 1e-9, "the evaluator scored the same samples");
            assertNull(r.table(), "no success metric, no table");
            assertEquals(BaseSampleAgreement.of(prompts, k, wantRed, wantGreen, null).acrossPrompts(), r.acrossPrompts(), 1e-12);

            BaseSampleAgreement.Result e = BaseSampleAgreement.measure(world, red, prompts, k, 4.5, 3, 21);
            GenEvalTable t = e.table();
            assertNotNull(t, "scene_eval gives the GenEval table");
            int total = 0;
            for (Category c : Category.values()) total += t.count().get(c);
            assertEquals(12, total);
            for (int i = 0; i < 12; i++) {
                ScenePrompt p = ScenePrompt.parse(prompts.get(i / k));
                float[] img = Arrays.copyOfRange(all, i * px, (i + 1) * px);
                assertEquals(SceneEvaluator.evaluate(img, 32, p).score(), e.evaluator()[i], 1e-9, "scene_eval of image " + i);
            }
            assertTrue(e.summary().contains("across prompts"), e.summary());
        }
    }

    @Test
    void badArgumentsAreRejectedNamingWhatCame() {
        List<String> prompts = List.of("a circle", "a square");
        var e = assertThrows(IllegalArgumentException.class, () -> BaseSampleAgreement.of(prompts, 3, new double[6], new double[5], null));
        assertTrue(e.getMessage().contains("expected 6") && e.getMessage().contains("5"), e.getMessage());
        try (LatentWorld world = world()) {
            RewardFunction r = new SceneEvalReward();
            e = assertThrows(IllegalArgumentException.class, () -> BaseSampleAgreement.measure(world, r, prompts, 1, 4.5, 3, 1));
            assertTrue(e.getMessage().contains(">= 2") && e.getMessage().contains("got 1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> BaseSampleAgreement.sample(world, prompts, 2, 0.5, 3, 1));
            assertTrue(e.getMessage().contains("guidance") && e.getMessage().contains("0.5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> BaseSampleAgreement.sample(world, List.of(), 2, 4.5, 3, 1));
            assertTrue(e.getMessage().contains("at least one prompt"), e.getMessage());
        }
    }

    private static double mean(float[] chw, int channel) {
        int plane = chw.length / 3;
        double s = 0;
        for (int i = 0; i < plane; i++) s += chw[channel * plane + i];
        return s / plane;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /** Spearman in double: Pearson of mean ranks, NaN when either side is constant. */
    static double spearman(double[] x, double[] y) {
        double[] rx = ranks(x);
        double[] ry = ranks(y);
        int n = x.length;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += rx[i];
            my += ry[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    /** 1-based ranks; a value's rank is the mean of the positions its ties occupy. */
    static double[] ranks(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int below = 0;
            int equal = 0;
            for (double u : v) {
                if (u < v[i]) below++;
                else if (u == v[i]) equal++;
            }
            r[i] = below + (equal + 1) / 2.0;
        }
        return r;
    }
}
