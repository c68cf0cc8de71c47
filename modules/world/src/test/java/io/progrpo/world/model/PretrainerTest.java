package io.progrpo.world.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.Prompt;
import io.progrpo.world.PromptSet;
import io.progrpo.world.Renderer;
import io.progrpo.world.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class PretrainerTest {
    static final List<Prompt> PROMPTS = PromptSet.all();

    static WorldModelConfig cfg(Parameterization p) {
        return new WorldModelConfig(16, 8, Tokenizer.vocabularySize(), Tokenizer.SEQUENCE_LENGTH, p);
    }

    static PretrainOptions quick(int steps) {
        return PretrainOptions.DEFAULTS.withSteps(steps).withBatchSize(16).withWarmupSteps(3).withLogEvery(10);
    }

    @Test
    void lossDecreasesOverAShortFlowMatchingRun() {
        List<String> log = new ArrayList<>();
        try (WorldModel m = new WorldModel(cfg(Parameterization.VELOCITY), 1)) {
            PretrainResult r = Pretrainer.pretrain(m, PROMPTS, new Renderer(), quick(30), log::add);
            double[] l = r.losses();
            assertEquals(30, l.length);
            double first = (l[0] + l[1] + l[2]) / 3;
            double last = r.meanLastLosses(5);
            assertTrue(last < 0.8 * first, "loss should fall: first steps " + first + ", last steps " + last);
            assertTrue(log.stream().anyMatch(s -> s.startsWith("pretrain step 10/30 loss")), String.join("\n", log));
            assertTrue(log.stream().anyMatch(s -> s.startsWith("pretrain step 30/30 loss")), String.join("\n", log));
        }
    }

    @Test
    void lossDecreasesOverAShortEpsilonRun() {
        try (WorldModel m = new WorldModel(cfg(Parameterization.EPSILON), 1)) {
            PretrainResult r = Pretrainer.pretrain(m, PROMPTS, new Renderer(), quick(30), null);
            double[] l = r.losses();
            double first = (l[0] + l[1] + l[2]) / 3;
            assertTrue(r.meanLastLosses(5) < 0.8 * first, "loss should fall: first " + first + ", last " + r.meanLastLosses(5));
        }
    }

    @Test
    void sameSeedGivesTheSameLossCurveAndWeights() {
        PretrainOptions o = quick(4).withSeed(9);
        try (WorldModel a = new WorldModel(cfg(Parameterization.VELOCITY), 3); WorldModel b = new WorldModel(cfg(Parameterization.VELOCITY), 3)) {
            double[] la = Pretrainer.pretrain(a, PROMPTS, new Renderer(), o, null).losses();
            double[] lb = Pretrainer.pretrain(b, PROMPTS, new Renderer(), o, null).losses();
            assertArrayEquals(la, lb);
            Map<String, Tensor> pa = a.namedParameters();
            Map<String, Tensor> pb = b.namedParameters();
            for (String k : pa.keySet()) assertArrayEquals(pa.get(k).toFloatArray(), pb.get(k).toFloatArray(), k);
        }
    }

    @Test
    void timeBoundStopsTheRun() {
        try (WorldModel m = new WorldModel(cfg(Parameterization.VELOCITY), 3)) {
            List<String> log = new ArrayList<>();
            PretrainResult r = Pretrainer.pretrain(m, PROMPTS, new Renderer(), quick(1000).withMaxSeconds(1e-9), log::add);
            assertTrue(r.stoppedByTime());
            assertTrue(r.steps() < 1000, "steps taken " + r.steps());
            assertTrue(log.getLast().contains("stopped by the time bound"), log.getLast());
        }
    }

    @Test
    void flowInterpolationMatchesThePlainJavaFormula() {
        Random rnd = new Random(11);
        int b = 3;
        int n = 2 * 2;
        float[] x0 = new float[b * n];
        float[] noise = new float[b * n];
        float[] sigma = new float[b];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = (float) rnd.nextDouble();
            noise[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < b; i++) sigma[i] = (float) rnd.nextDouble();
        try (Scope s = Scope.open()) {
            float[] got = Pretrainer.flowInterpolate(Tensor.of(x0, b, 1, 2, 2), Tensor.of(noise, b, 1, 2, 2), Tensor.of(sigma, b)).toFloatArray();
            for (int i = 0; i < got.length; i++) {
                double sg = sigma[i / n];
                double want = (1 - sg) * x0[i] + sg * noise[i];
                assertEquals(want, got[i], 1e-6, "element " + i);
            }
        }
    }

    @Test
    void diffusionNoisingMatchesThePlainJavaFormula() {
        Random rnd = new Random(12);
        int b = 4;
        int n = 3;
        float[] x0 = new float[b * n];
        float[] noise = new float[b * n];
        float[] ab = new float[b];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = (float) rnd.nextDouble();
            noise[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < b; i++) ab[i] = (float) (0.01 + 0.98 * rnd.nextDouble());
        try (Scope s = Scope.open()) {
            float[] got = Pretrainer.diffuse(Tensor.of(x0, b, n), Tensor.of(noise, b, n), Tensor.of(ab, b)).toFloatArray();
            for (int i = 0; i < got.length; i++) {
                double a = ab[i / n];
                assertEquals(Math.sqrt(a) * x0[i] + Math.sqrt(1 - a) * noise[i], got[i], 1e-6, "element " + i);
            }
        }
    }

    @Test
    void alphaBarTableIsTheCumulativeProductOfTheScaledLinearBetas() {
        try (Tensor t = Pretrainer.alphaBarTable(Device.CPU)) {
            float[] got = t.toFloatArray();
            assertEquals(1000, got.length);
            Random rnd = new Random(13);
            for (int k = 0; k < 20; k++) {
                int i = rnd.nextInt(1000);
                double prod = 1;
                for (int s = 0; s <= i; s++) {
                    double sqrtBeta = Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * s / 999.0;
                    prod *= 1 - sqrtBeta * sqrtBeta;
                }
                assertEquals(prod, got[i], 1e-6, "alphabar_" + i);
            }
        }
    }

    @Test
    void learningRateWarmsUpThenDecaysToATenth() {
        PretrainOptions o = PretrainOptions.DEFAULTS.withSteps(101).withWarmupSteps(10).withLr(1e-3);
        assertEquals(1e-4, Pretrainer.learningRate(0, o), 1e-12);
        assertEquals(1e-3, Pretrainer.learningRate(9, o), 1e-12);
        assertEquals(1e-3, Pretrainer.learningRate(10, o), 1e-12);
        assertEquals(1e-4, Pretrainer.learningRate(100, o), 1e-12);
        Random rnd = new Random(14);
        for (int k = 0; k < 20; k++) {
            int step = 10 + rnd.nextInt(91);
            double halfway = (step - 10) / 90.0; // fraction of the decay done
            double want = 1e-4 + (1e-3 - 1e-4) * (Math.cos(Math.PI * halfway) + 1) / 2;
            assertEquals(want, Pretrainer.learningRate(step, o), 1e-12, "step " + step);
        }
    }

    @Test
    void rendererOfAnotherSizeIsRejectedNamingBothSizes() {
        try (WorldModel m = new WorldModel(cfg(Parameterization.VELOCITY), 1)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Pretrainer.pretrain(m, PROMPTS, new Renderer(32, 32), quick(2), null));
            assertTrue(e.getMessage().contains("32x32") && e.getMessage().contains("16x16"), e.getMessage());
        }
    }

    @Test
    void emptyPromptListAndSmallVocabularyAreRejected() {
        try (WorldModel m = new WorldModel(cfg(Parameterization.VELOCITY), 1);
             WorldModel tiny = new WorldModel(new WorldModelConfig(16, 8, 5, 3, Parameterization.VELOCITY), 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Pretrainer.pretrain(m, List.of(), new Renderer(), quick(2), null));
            assertTrue(e.getMessage().contains("empty"), e.getMessage());
            var v = assertThrows(IllegalArgumentException.class, () -> Pretrainer.pretrain(tiny, PROMPTS, new Renderer(), quick(2), null));
            assertTrue(v.getMessage().contains("5") && v.getMessage().contains(String.valueOf(Tokenizer.vocabularySize())), v.getMessage());
        }
    }

    @Test
    void optionsRejectBadValuesNamingThem() {
        var d = assertThrows(IllegalArgumentException.class, () -> PretrainOptions.DEFAULTS.withSteps(0));
        assertTrue(d.getMessage().contains("0"), d.getMessage());
        var lr = assertThrows(IllegalArgumentException.class, () -> PretrainOptions.DEFAULTS.withLr(-1));
        assertTrue(lr.getMessage().contains("-1"), lr.getMessage());
        var drop = assertThrows(IllegalArgumentException.class, () -> new PretrainOptions(10, 4, 1e-3, 0, 0, 1.0,
                PretrainOptions.SigmaSampling.UNIFORM, 1, 0, 0, 0));
        assertTrue(drop.getMessage().contains("1.0"), drop.getMessage());
        var batch = assertThrows(IllegalArgumentException.class, () -> PretrainOptions.DEFAULTS.withBatchSize(-3));
        assertTrue(batch.getMessage().contains("-3"), batch.getMessage());
    }
}
