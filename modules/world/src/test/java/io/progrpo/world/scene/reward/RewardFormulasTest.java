package io.progrpo.world.scene.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The reward model's formulas, each recomputed independently in double precision on random inputs. */
class RewardFormulasTest {
    static final RewardModelConfig TINY = new RewardModelConfig(32, 8, 32, 1, 2);
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

    /** 24 random batches (B 2..9, T = B..3B, E 0..B, D 3..16, random masks and scale), against a double loop. */
    @Test
    void infoNceMatchesADoublePrecisionRecomputation() {
        Random rnd = new Random(1);
        for (int k = 0; k < 24; k++) {
            int b = 2 + rnd.nextInt(8);
            int t = b + rnd.nextInt(2 * b + 1);
            int e = k % 3 == 0 ? 0 : rnd.nextInt(b + 1);
            int d = 3 + rnd.nextInt(14);
            double s = 1 + 30 * rnd.nextDouble();
            double[][] x = unitRows(rnd, b, d);
            double[][] y = unitRows(rnd, t, d);
            double[][] z = unitRows(rnd, e, d);
            boolean[][] m1 = k % 4 == 1 ? null : randomMask(rnd, b, t);
            boolean[][] m2 = k % 4 == 2 ? null : randomMask(rnd, b, b + e);
            double want = 0;
            for (int i = 0; i < b; i++) {
                double[] logits = new double[t];
                for (int j = 0; j < t; j++) logits[j] = s * dot(x[i], y[j]) + (m1 != null && m1[i][j] ? ContrastiveLoss.MASKED : 0);
                want += -logSoftmaxAt(logits, i) / b / 2;
                double[] l2 = new double[b + e];
                for (int j = 0; j < b + e; j++) l2[j] = s * dot(y[i], j < b ? x[j] : z[j - b]) + (m2 != null && m2[i][j] ? ContrastiveLoss.MASKED : 0);
                want += -logSoftmaxAt(l2, i) / b / 2;
            }
            try (Scope scope = Scope.open()) {
                Tensor got = ContrastiveLoss.infoNce(tensor(x), tensor(y), e == 0 ? null : tensor(z), Tensor.scalar(s), m1, m2);
                assertEquals(want, got.item(), 1e-4 * Math.max(1, Math.abs(want)), "case " + k);
            }
        }
        try (Scope scope = Scope.open()) {
            boolean[][] own = new boolean[2][2];
            own[1][1] = true;
            var ex = assertThrows(IllegalArgumentException.class,
                    () -> ContrastiveLoss.infoNce(tensor(unitRows(rnd, 2, 4)), tensor(unitRows(rnd, 2, 4)), null, Tensor.scalar(1), own, null));
            assertTrue(ex.getMessage().contains("own positive"), ex.getMessage());
            ex = assertThrows(IllegalArgumentException.class,
                    () -> ContrastiveLoss.infoNce(tensor(unitRows(rnd, 3, 4)), tensor(unitRows(rnd, 2, 4)), null, Tensor.scalar(1), null, null));
            assertTrue(ex.getMessage().contains("at least as many captions"), ex.getMessage());
        }
    }

    /** 3 random models x 6 images and captions: score = exp(logitScale) x cosine of the raw tower outputs, in double. */
    @Test
    void scoreIsTheScaledCosineOfTheTowersOutputs() {
        Random rnd = new Random(2);
        for (int k = 0; k < 3; k++) {
            try (SceneRewardModel m = new SceneRewardModel(TINY, 10 + k); Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
                m.eval();
                float[] px = new float[6 * 3 * 32 * 32];
                for (int i = 0; i < px.length; i++) px[i] = rnd.nextFloat();
                Tensor images = Tensor.of(px, 6, 3, 32, 32);
                List<String> caps = List.of("a circle", "two red squares", "a blue cross at the left", "a red circle left of a blue square",
                        "an orange triangle and a green cross", "a purple square");
                Tensor ids = SceneTokenizer.tensor(caps, Device.CPU);
                double[] f = m.imageEncoder().forward(images).toDoubleArray();
                double[] g = m.textEncoder().forward(ids).toDoubleArray();
                double scale = Math.exp(m.namedParameters().get("logitScale").item());
                double[] got = m.score(images, caps);
                int d = TINY.embedDim();
                for (int i = 0; i < 6; i++) {
                    double fg = 0;
                    double ff = 0;
                    double gg = 0;
                    for (int j = 0; j < d; j++) {
                        fg += f[i * d + j] * g[i * d + j];
                        ff += f[i * d + j] * f[i * d + j];
                        gg += g[i * d + j] * g[i * d + j];
                    }
                    assertEquals(scale * fg / Math.sqrt(ff * gg), got[i], 1e-4 * scale, "image " + i);
                }
                assertEquals(1 / 0.07, m.scaleValue(), 1e-4);
            }
        }
    }

    @Test
    void textEncoderIsOrderAwareAndNeverReadsPadding() {
        try (SceneRewardModel m = new SceneRewardModel(TINY, 3); Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
            m.eval();
            List<String> caps = List.of("a red circle left of a blue square", "a blue square left of a red circle", "a circle");
            double[] before = m.textEncoder().forward(SceneTokenizer.tensor(caps, Device.CPU)).toDoubleArray();
            int d = TINY.embedDim();
            double diff = 0;
            for (int j = 0; j < d; j++) diff += Math.abs(before[j] - before[d + j]);
            assertTrue(diff > 1e-3, "swapping the objects does not change the caption embedding");
            // overwrite the padding row of the embedding table: captions with words must not change
            Tensor table = m.textEncoder().namedParameters().get("tokens.weight");
            table.narrow(0, 0, 1).copyFrom(Tensor.full(7.0, table.dtype(), Device.CPU, 1, d));
            double[] after = m.textEncoder().forward(SceneTokenizer.tensor(caps, Device.CPU)).toDoubleArray();
            for (int i = 0; i < before.length; i++) assertEquals(before[i], after[i], 1e-6, "padding leaked into entry " + i);
            double[] nul = m.textEncoder().forward(SceneTokenizer.nullTensor(Device.CPU)).toDoubleArray();
            for (double v : nul) assertTrue(Double.isFinite(v), "the null caption embeds to a non-finite value");
        }
    }

    /** The image tower's MAC count against one computed from its weight shapes and the measured feature-map sides. */
    @Test
    void imageEncoderMacsMatchTheLayersItRuns() {
        for (RewardModelConfig c : List.of(TINY, RewardModelConfig.DEFAULT, new RewardModelConfig(40, 8, 32, 1, 2))) {
            try (SceneRewardModel m = new SceneRewardModel(c, 1); Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
                var p = m.imageEncoder().namedParameters();
                long macs = 0;
                long side = c.imageSize();
                for (int i = 0; i < 4; i++) {
                    long[] w = p.get("conv" + i + ".weight").shape();
                    if (i > 0) side = (side + 2 - 3) / 2 + 1;      // conv output side: floor((in + 2 pad - 3) / 2) + 1
                    macs += side * side * w[0] * w[1] * w[2] * w[3];
                }
                long[] head = p.get("head.weight").shape();
                macs += head[0] * head[1];
                assertEquals(macs, m.imageEncoder().macsPerImage(), c.toString());
                Tensor out = m.imageEncoder().forward(Tensor.zeros(2, 3, c.imageSize(), c.imageSize()));
                assertEquals(List.of(2L, (long) c.embedDim()), List.of(out.size(0), out.size(1)));
            }
        }
    }

    /** Spearman on 30 random tie-free vectors against 1 - 6 sum d^2 / (n (n^2 - 1)), and on ties against a direct count. */
    @Test
    void spearmanMatchesTheClosedFormAndHandlesTies() {
        Random rnd = new Random(4);
        for (int k = 0; k < 30; k++) {
            int n = 3 + rnd.nextInt(40);
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextGaussian();
                y[i] = 0.5 * x[i] + rnd.nextGaussian();
            }
            double d2 = 0;
            for (int i = 0; i < n; i++) {
                int rx = 0;
                int ry = 0;
                for (int j = 0; j < n; j++) {
                    if (x[j] < x[i]) rx++;
                    if (y[j] < y[i]) ry++;
                }
                d2 += (double) (rx - ry) * (rx - ry);
            }
            assertEquals(1 - 6 * d2 / (n * ((double) n * n - 1)), Agreement.spearman(x, y), 1e-12);
        }
        // ties share their mean rank: [1, 2, 2, 3] ranks to [0, 1.5, 1.5, 3]
        double[] r = Agreement.ranks(new double[] {1, 2, 2, 3});
        assertEquals(List.of(0.0, 1.5, 1.5, 3.0), List.of(r[0], r[1], r[2], r[3]));
        assertEquals(1.0, Agreement.spearman(new double[] {1, 2, 2, 3}, new double[] {5, 6, 6, 9}), 1e-12);
        assertTrue(Double.isNaN(Agreement.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
        assertNotEquals(0.0, Agreement.spearman(new double[] {1, 2, 3}, new double[] {3, 1, 2}));
    }

    /** The learning-rate schedule at every step of 3 recipes, against its formula. */
    @Test
    void learningRateWarmsUpThenDecaysToATenth() {
        for (int steps : new int[] {10, 57, 500}) {
            RewardTrainOptions o = RewardTrainOptions.DEFAULTS.withSteps(steps);
            for (int i = 0; i < steps; i++) {
                double want = i < o.warmupSteps() ? o.lr() * (i + 1) / o.warmupSteps()
                        : o.lr() * (0.1 + 0.45 * (1 + Math.cos(Math.PI * (i - o.warmupSteps()) / Math.max(1, steps - o.warmupSteps() - 1))));
                if (steps - o.warmupSteps() <= 1 && i >= o.warmupSteps()) want = o.lr() * 0.1;
                assertEquals(want, RewardModelTrainer.learningRate(i, o), 1e-15, "step " + i + " of " + steps);
            }
            assertEquals(o.lr() * 0.1, RewardModelTrainer.learningRate(steps - 1, o), 1e-15);
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double logSoftmaxAt(double[] l, int i) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : l) max = Math.max(max, v);
        double sum = 0;
        for (double v : l) sum += Math.exp(v - max);
        return l[i] - max - Math.log(sum);
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

    private static boolean[][] randomMask(Random rnd, int rows, int cols) {
        boolean[][] m = new boolean[rows][cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) m[i][j] = j != i && rnd.nextInt(4) == 0;
        return m;
    }

    private static Tensor tensor(double[][] v) {
        int n = v.length;
        int d = n == 0 ? 1 : v[0].length;
        float[] f = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) f[i * d + j] = (float) v[i][j];
        return Tensor.of(f, n, d);
    }
}
