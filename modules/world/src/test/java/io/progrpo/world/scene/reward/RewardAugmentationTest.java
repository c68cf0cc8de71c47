package io.progrpo.world.scene.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The training recipe's augmentation and sigmoid term, each against an independent double-precision recomputation. */
class RewardAugmentationTest {
    private static int threads;

    @BeforeAll
    static void oneThread() {
        threads = Torch.numThreads();
        Torch.setNumThreads(1);
    }

    @AfterAll
    static void restore() {
        Torch.setNumThreads(threads);
    }

    /** 20 random batches: L_sig = mean_pos softplus(-z) / 2 + mean_neg softplus(z) / 2 with z = s x.y + b, in double. */
    @Test
    void sigmoidTermMatchesADoublePrecisionRecomputation() {
        Random rnd = new Random(2);
        for (int k = 0; k < 20; k++) {
            int b = 2 + rnd.nextInt(8);
            int t = b + rnd.nextInt(2 * b + 1);
            boolean withNeg = k % 3 != 0;
            int d = 3 + rnd.nextInt(14);
            double s = 1 + 40 * rnd.nextDouble();
            double bias = 10 * rnd.nextGaussian();
            double[][] x = unitRows(rnd, b, d);
            double[][] y = unitRows(rnd, t, d);
            double[][] z = unitRows(rnd, b, d);
            boolean[][] mask = k % 4 == 1 ? null : new boolean[b][t];
            if (mask != null) for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) mask[i][j] = j != i && rnd.nextInt(4) == 0;
            double pos = 0;
            double neg = 0;
            int negs = 0;
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    double logit = s * dot(x[i], y[j]) + bias;
                    if (i == j) pos += Math.log1p(Math.exp(-logit));
                    else if (mask == null || !mask[i][j]) {
                        neg += Math.log1p(Math.exp(logit));
                        negs++;
                    }
                }
                if (withNeg) {
                    neg += Math.log1p(Math.exp(s * dot(z[i], y[i]) + bias));
                    negs++;
                }
            }
            double want = 0.5 * pos / b + 0.5 * neg / negs;
            try (Scope scope = Scope.open()) {
                Tensor got = ContrastiveLoss.sigmoid(tensor(x), tensor(y), withNeg ? tensor(z) : null, Tensor.scalar(s), Tensor.scalar(bias), mask);
                assertEquals(want, got.item(), 1e-4 * Math.max(1, Math.abs(want)), "case " + k);
            }
        }
        try (Scope scope = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> ContrastiveLoss.sigmoid(tensor(unitRows(rnd, 3, 4)), tensor(unitRows(rnd, 3, 4)),
                    tensor(unitRows(rnd, 2, 4)), Tensor.scalar(1), Tensor.scalar(0), null));
            assertTrue(e.getMessage().contains("one hard-negative image per own caption (3), got 2"), e.getMessage());
        }
    }

    /** The blur of random planes against [1 2 1] / 4 applied both ways with replicated edges, in double. */
    @Test
    void blurIsTheSeparableBinomialFilterWithReplicatedEdges() {
        Random rnd = new Random(4);
        int s = 7;
        float[] v = new float[2 * s * s];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat();
        float[] orig = v.clone();
        RewardAugmentation.blur(v, s * s, s, new float[s * s]);
        for (int i = 0; i < s * s; i++) assertEquals(orig[i], v[i], "the plane before the offset is untouched");
        double[] w = {0.25, 0.5, 0.25};
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                double want = 0;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = Math.clamp(y + dy, 0, s - 1);
                        int xx = Math.clamp(x + dx, 0, s - 1);
                        want += w[dy + 1] * w[dx + 1] * orig[s * s + yy * s + xx];
                    }
                }
                assertEquals(want, v[s * s + y * s + x], 1e-6, "pixel " + x + ", " + y);
            }
        }
    }

    /** A recording round trip sees exactly the chosen images and their noise; blur and noise follow; values stay in [0, 1]. */
    @Test
    void augmentationRoutesImagesThroughTheRoundTripThenBlursAndNoises() {
        int s = 32;
        int n = 40;
        int px = 3 * s * s;
        Random data = new Random(5);
        float[] images = new float[n * px];
        for (int i = 0; i < images.length; i++) images[i] = data.nextFloat();
        List<float[]> seen = new ArrayList<>();
        ImageRoundTrip invert = new ImageRoundTrip() {
            @Override
            public Tensor apply(Tensor in, double[] latentNoise, float[] noise) {
                seen.add(in.toFloatArray());
                for (double sd : latentNoise) assertTrue(sd >= 0 && sd <= 0.5, "latent noise sd " + sd);
                return Tensor.ones(in.shape()).sub(in); // 1 - x: visible, stays in [0, 1]
            }

            @Override
            public int latentElements() {
                return 8;
            }

            @Override
            public String identity() {
                return "invert";
            }
        };
        RewardAugmentation onlyTrip = new RewardAugmentation(0.5, 0.5, 0, 0);
        float[] a = images.clone();
        try (Scope scope = Scope.open()) {
            onlyTrip.apply(a, n, s, invert, new Random(9));
        }
        assertEquals(1, seen.size(), "one call for the whole batch");
        int changed = 0;
        int at = 0;
        for (int i = 0; i < n; i++) {
            boolean inverted = Math.abs(a[i * px] - (1 - images[i * px])) < 1e-6 && Math.abs(a[i * px + 7] - (1 - images[i * px + 7])) < 1e-6;
            boolean same = a[i * px] == images[i * px];
            assertTrue(inverted ^ same, "image " + i + " is either round-tripped or untouched");
            if (inverted) {
                for (int k = 0; k < px; k++) assertEquals(images[i * px + k], seen.get(0)[at * px + k], "the round trip got image " + i);
                at++;
                changed++;
            }
        }
        assertTrue(changed > 8 && changed < 32, "about half of 40 images take the round trip, got " + changed);

        float[] b = images.clone();
        new RewardAugmentation(0, 0, 1, 0).apply(b, n, s, null, new Random(9));
        float[] want = images.clone();
        float[] tmp = new float[s * s];
        for (int i = 0; i < n * 3; i++) RewardAugmentation.blur(want, i * s * s, s, tmp);
        assertArrayEquals(want, b, "blur probability 1 blurs every plane");

        float[] c = images.clone();
        new RewardAugmentation(0, 0, 0, 0.3).apply(c, n, s, null, new Random(9));
        double dev = 0;
        for (int i = 0; i < c.length; i++) {
            assertTrue(c[i] >= 0 && c[i] <= 1, "noisy pixels are clamped to [0, 1]");
            dev += Math.abs(c[i] - images[i]) / c.length;
        }
        assertTrue(dev > 0.01, "noise changes the pixels, mean |change| " + dev);

        var e = assertThrows(IllegalArgumentException.class, () -> onlyTrip.apply(images.clone(), n, s, null, new Random(1)));
        assertTrue(e.getMessage().contains("round trip") && e.getMessage().contains("none was given"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RewardAugmentation(1.5, 0, 0, 0));
        assertTrue(e.getMessage().contains("[0, 1], got 1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RewardAugmentation(0, -1, 0, 0));
        assertTrue(e.getMessage().contains("latentNoise") && e.getMessage().contains("-1"), e.getMessage());
    }

    /** The plain recipe keeps its former cache key; augmentation, the sigmoid term and the round trip's identity change it. */
    @Test
    void cacheKeysSeparateRecipesAndRoundTrips() {
        RewardTrainOptions plain = new RewardTrainOptions(1000, 48, 3, true, 2e-3, 30, 1e-4, 1.0, 1, 7, 100, 0);
        assertEquals("steps=1000,batch=48,negCaptions=3,negImages=true,lr=0.002,warmup=30,wd=1.0E-4,clip=1.0,seed=1,split=7", plain.identity(),
                "the key the plain recipe always had");
        RewardTrainOptions aug = plain.withAugmentation(new RewardAugmentation(0.5, 0.5, 0.3, 0.03));
        RewardTrainOptions sig = plain.withSigmoidWeight(1);
        assertNotEquals(plain.identity(), aug.identity());
        assertNotEquals(plain.identity(), sig.identity());
        Path dir = Path.of("cache");
        ImageRoundTrip a = named("vae-a");
        ImageRoundTrip b = named("vae-b");
        RewardModelConfig cfg = RewardModelConfig.DEFAULT;
        assertEquals(RewardModels.cachePath(dir, cfg, plain), RewardModels.cachePath(dir, cfg, plain, a), "no round trip: its identity does not count");
        assertNotEquals(RewardModels.cachePath(dir, cfg, aug, a), RewardModels.cachePath(dir, cfg, aug, b), "another autoencoder, another file");
        var e = assertThrows(IllegalArgumentException.class, () -> RewardModels.loadOrTrain(dir, cfg, aug, null, null));
        assertTrue(e.getMessage().contains("round trip"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> plain.withSigmoidWeight(-1));
        assertTrue(e.getMessage().contains("sigmoidWeight") && e.getMessage().contains("-1"), e.getMessage());
    }

    private static ImageRoundTrip named(String id) {
        return new ImageRoundTrip() {
            @Override
            public Tensor apply(Tensor images, double[] latentNoise, float[] noise) {
                return images;
            }

            @Override
            public int latentElements() {
                return 1;
            }

            @Override
            public String identity() {
                return id;
            }
        };
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double[][] unitRows(Random rnd, int n, int d) {
        double[][] out = new double[n][d];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int j = 0; j < d; j++) {
                out[i][j] = rnd.nextGaussian();
                norm += out[i][j] * out[i][j];
            }
            for (int j = 0; j < d; j++) out[i][j] /= Math.sqrt(norm);
        }
        return out;
    }

    private static Tensor tensor(double[][] v) {
        int n = v.length;
        int d = v[0].length;
        float[] f = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) f[i * d + j] = (float) v[i][j];
        return Tensor.of(f, n, d);
    }
}
