package io.progrpo.world.scene;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardRegistry;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class SceneEvaluatorTest {
    private static final SceneSplit SPLIT = SceneSplit.of(7);

    /** Ground truth of all 1272 held-out prompts and 300 train prompts at 32 x 32, and 200 at 48 x 48. */
    @Test
    void groundTruthOfEveryHeldOutPromptAndOfTrainPromptsSucceeds() {
        List<ScenePrompt> train = new ArrayList<>(SPLIT.train());
        java.util.Collections.shuffle(train, new Random(1));
        Map<Category, int[]> tally = new EnumMap<>(Category.class);
        Random rnd = new Random(2);
        SceneRenderer r32 = new SceneRenderer(32);
        List<ScenePrompt> prompts = new ArrayList<>(SPLIT.heldOut());
        prompts.addAll(train.subList(0, 300));
        for (ScenePrompt p : prompts) {
            Evaluation e = SceneEvaluator.evaluate(r32.render(p, rnd), 32, p);
            int[] t = tally.computeIfAbsent(p.category(), k -> new int[2]);
            t[1]++;
            if (e.success()) t[0]++;
            assertTrue(e.score() >= 0 && e.score() <= 1);
            if (e.success()) assertTrue(e.score() > 0.5, p + ": success with score " + e.score());
        }
        SceneRenderer r48 = new SceneRenderer(48);
        for (ScenePrompt p : train.subList(300, 500)) {
            Evaluation e = SceneEvaluator.evaluate(r48.render(p, rnd), 48, p);
            int[] t = tally.computeIfAbsent(p.category(), k -> new int[2]);
            t[1]++;
            if (e.success()) t[0]++;
        }
        for (var e : tally.entrySet()) {
            double rate = (double) e.getValue()[0] / e.getValue()[1];
            assertTrue(rate >= 0.95, e.getKey().key() + ": ground truth succeeds in " + e.getValue()[0] + " of " + e.getValue()[1]);
        }
    }

    /** Generated images are not clean: ground truth with Gaussian noise (sd 0.05) or at 0.6 of its contrast, 2 x 173 images. */
    @Test
    void groundTruthSurvivesPixelNoiseAndLowContrast() {
        SceneRenderer r = new SceneRenderer(32);
        Random rnd = new Random(12);
        List<ScenePrompt> ps = SPLIT.evalPrompts(40);
        int ok = 0;
        for (ScenePrompt p : ps) {
            float[] noisy = r.render(p, rnd);
            for (int i = 0; i < noisy.length; i++) noisy[i] += (float) (0.05 * rnd.nextGaussian());
            float[] faint = r.render(p, rnd);
            for (int i = 0; i < faint.length; i++) faint[i] = (float) (0.3 + 0.6 * (faint[i] - 0.3));
            if (SceneEvaluator.evaluate(noisy, 32, p).success()) ok++;
            if (SceneEvaluator.evaluate(faint, 32, p).success()) ok++;
        }
        assertTrue(ok >= 0.95 * 2 * ps.size(), ok + " of " + 2 * ps.size() + " perturbed ground-truth images succeed");
    }

    /** One rendering per neighbour kind of every held-out prompt (2348 images) evaluated against the prompt. */
    @Test
    void oneAttributeNeighboursFail() {
        SceneRenderer r = new SceneRenderer(32);
        Random rnd = new Random(3);
        Map<Neighbours.Kind, int[]> tally = new EnumMap<>(Neighbours.Kind.class);
        double truthSum = 0;
        double wrongSum = 0;
        int pairs = 0;
        for (ScenePrompt p : SPLIT.heldOut()) {
            double truth = SceneEvaluator.evaluate(r.render(p, rnd), 32, p).score();
            for (Neighbours.Kind k : Neighbours.Kind.values()) {
                List<Neighbours.Neighbour> ns = Neighbours.of(p).stream().filter(n -> n.kind() == k).toList();
                if (ns.isEmpty()) continue;
                ScenePrompt q = ns.get(rnd.nextInt(ns.size())).prompt();
                Evaluation e = SceneEvaluator.evaluate(r.render(q, rnd), 32, p);
                int[] t = tally.computeIfAbsent(k, x -> new int[2]);
                t[1]++;
                if (!e.success()) t[0]++;
                truthSum += truth;
                wrongSum += e.score();
                pairs++;
            }
        }
        assertEquals(Neighbours.Kind.values().length, tally.size());
        for (var e : tally.entrySet()) {
            double rate = (double) e.getValue()[0] / e.getValue()[1];
            assertTrue(rate >= 0.95, e.getKey() + " neighbours fail in only " + e.getValue()[0] + " of " + e.getValue()[1]);
        }
        assertTrue(wrongSum / pairs < truthSum / pairs - 0.15, "neighbours score " + wrongSum / pairs + ", ground truth " + truthSum / pairs);
    }

    /** Black, white, NaN, infinite, uniform-noise and Gaussian-noise images against 2 prompts of each category. */
    @Test
    void degenerateImagesScoreLowAndFinite() {
        Random rnd = new Random(4);
        int size = 32;
        int px = 3 * size * size;
        List<ScenePrompt> prompts = new ArrayList<>();
        for (Category c : Category.values()) prompts.addAll(SceneGrammar.of(c).subList(0, 2));
        for (String kind : List.of("black", "white", "nan", "inf", "uniform", "gauss")) {
            double sum = 0;
            for (ScenePrompt p : prompts) {
                float[] img = new float[px];
                for (int i = 0; i < px; i++) {
                    img[i] = switch (kind) {
                        case "black" -> 0f;
                        case "white" -> 1f;
                        case "nan" -> Float.NaN;
                        case "inf" -> i % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                        case "uniform" -> rnd.nextFloat();
                        default -> (float) (0.5 + 0.3 * rnd.nextGaussian());
                    };
                }
                Evaluation e = SceneEvaluator.evaluate(img, size, p);
                assertTrue(Double.isFinite(e.score()) && e.score() >= 0 && e.score() < 0.5, kind + " " + p + ": " + e.score());
                assertFalse(e.success(), kind + " image passes '" + p + "'");
                sum += e.score();
            }
            assertTrue(sum / prompts.size() < 0.1, kind + " images score " + sum / prompts.size() + " on average");
        }
    }

    /** 40 random planes on random image sizes, with noise, against an independent least-squares fit; then robustness. */
    @Test
    void backgroundFitIsTheLeastSquaresPlaneOfTheBorderAndIgnoresAnObjectOnIt() {
        Random rnd = new Random(5);
        for (int k = 0; k < 40; k++) {
            int h = 32 + rnd.nextInt(20);
            int w = 32 + rnd.nextInt(20);
            double[][] img = new double[3][h * w];
            double[][] truth = new double[3][3];
            for (int c = 0; c < 3; c++) {
                truth[c] = new double[] {0.1 + 0.2 * rnd.nextDouble(), 0.2 * rnd.nextGaussian(), 0.2 * rnd.nextGaussian()};
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double u = (x + 0.5) / w - 0.5;
                        double v = (y + 0.5) / h - 0.5;
                        img[c][y * w + x] = truth[c][0] + truth[c][1] * u + truth[c][2] * v + 0.01 * (rnd.nextDouble() * 2 - 1);
                    }
                }
            }
            double[][] fit = BackgroundFit.fit(img, h, w);
            int ring = BackgroundFit.ringWidth(h, w);
            for (int c = 0; c < 3; c++) {
                double[] ls = independentLeastSquares(img[c], h, w, ring);
                for (int j = 0; j < 3; j++) assertEquals(ls[j], fit[c][j], 1e-9, "plane coefficient " + j);
                for (int j = 0; j < 3; j++) assertEquals(truth[c][j], fit[c][j], 0.02);
            }
            // a bright object over part of the top border: the robust refit drops it
            for (int y = 0; y < ring + 3; y++) {
                for (int x = w / 3; x < w / 3 + 8; x++) for (int c = 0; c < 3; c++) img[c][y * w + x] = 0.95;
            }
            double[][] robust = BackgroundFit.fit(img, h, w);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y += 7) {
                    for (int x = 0; x < w; x += 7) {
                        double u = (x + 0.5) / w - 0.5;
                        double v = (y + 0.5) / h - 0.5;
                        assertEquals(BackgroundFit.eval(truth[c], u, v), BackgroundFit.eval(robust[c], u, v), 0.02);
                    }
                }
            }
        }
    }

    /** Least squares by modified Gram-Schmidt QR on the ring pixels' design matrix [1, u, v]. */
    private static double[] independentLeastSquares(double[] val, int h, int w, int ring) {
        List<double[]> rows = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (x < ring || y < ring || x >= w - ring || y >= h - ring) {
                    rows.add(new double[] {1, (x + 0.5) / w - 0.5, (y + 0.5) / h - 0.5});
                    ys.add(val[y * w + x]);
                }
            }
        }
        int n = rows.size();
        double[][] q = new double[3][n];
        for (int j = 0; j < 3; j++) for (int i = 0; i < n; i++) q[j][i] = rows.get(i)[j];
        double[][] r = new double[3][3];
        for (int j = 0; j < 3; j++) {
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += q[k][i] * q[j][i];
                r[k][j] = dot;
                for (int i = 0; i < n; i++) q[j][i] -= dot * q[k][i];
            }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[j][i] * q[j][i];
            norm = Math.sqrt(norm);
            r[j][j] = norm;
            for (int i = 0; i < n; i++) q[j][i] /= norm;
        }
        double[] qty = new double[3];
        for (int j = 0; j < 3; j++) for (int i = 0; i < n; i++) qty[j] += q[j][i] * ys.get(i);
        double[] b = new double[3];
        for (int j = 2; j >= 0; j--) {
            double s = qty[j];
            for (int k = j + 1; k < 3; k++) s -= r[j][k] * b[k];
            b[j] = s / r[j][j];
        }
        return b;
    }

    /** 300 random detections: every soft check and the score recomputed from the documented formulas. */
    @Test
    void softChecksAndScoreFollowTheirFormulas() {
        Random rnd = new Random(6);
        for (int k = 0; k < 300; k++) {
            ScenePrompt p = SceneGrammar.all().get(rnd.nextInt(SceneGrammar.all().size()));
            List<DetectedObject> objs = new ArrayList<>();
            int n = 1 + rnd.nextInt(4);
            for (int i = 0; i < n; i++) {
                double[] dist = new double[SceneColor.values().length];
                for (int j = 0; j < dist.length; j++) dist[j] = rnd.nextDouble();
                double[] iou = new double[SceneShape.values().length];
                for (int j = 0; j < iou.length; j++) iou[j] = rnd.nextDouble();
                objs.add(new DetectedObject(20, 20, rnd.nextDouble(), rnd.nextDouble(), new double[] {0.5, 0.5, 0.5}, rnd.nextDouble(), dist, iou));
            }
            Evaluation e = SceneEvaluator.judge(p, objs);
            double best = -1;
            boolean success = false;
            int matching = 0;
            double[] bestChecks = null;
            if (p.category() == Category.TWO_OBJECT || p.category() == Category.RELATION) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        if (i == j) continue;
                        List<Double> c = new ArrayList<>(List.of(shapeCheck(objs.get(i), p.first().shape()), colorCheck(objs.get(i), p.first().color()),
                                shapeCheck(objs.get(j), p.second().shape()), colorCheck(objs.get(j), p.second().color())));
                        if (p.category() == Category.RELATION) {
                            DetectedObject a = objs.get(i);
                            DetectedObject b = objs.get(j);
                            double dx = b.cx() - a.cx();
                            double dy = b.cy() - a.cy();
                            double m = switch (p.relation()) {
                                case LEFT_OF -> Math.min(dx - 0.12, dx - Math.abs(dy));
                                case RIGHT_OF -> Math.min(-dx - 0.12, -dx - Math.abs(dy));
                                case ABOVE -> Math.min(dy - 0.12, dy - Math.abs(dx));
                                case BELOW -> Math.min(-dy - 0.12, -dy - Math.abs(dx));
                            };
                            c.add(sig(m / 0.03));
                        }
                        double mean = c.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
                        success |= c.stream().allMatch(v -> v > 0.5);
                        best = Math.max(best, mean);
                    }
                }
            } else {
                for (DetectedObject o : objs) {
                    List<Double> c = new ArrayList<>(List.of(shapeCheck(o, p.first().shape())));
                    if (p.first().color() != null) c.add(colorCheck(o, p.first().color()));
                    if (p.category() == Category.POSITION) c.add(sig(positionMargin(p.position(), o.cx(), o.cy()) / 0.03));
                    boolean pass = c.stream().allMatch(v -> v > 0.5);
                    if (pass) matching++;
                    success |= pass;
                    double mean = c.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
                    if (mean > best) {
                        best = mean;
                        bestChecks = c.stream().mapToDouble(Double::doubleValue).toArray();
                    }
                }
                if (p.category() == Category.COUNTING) {
                    double count = matching == p.count() ? 1 : Math.pow(0.4, Math.abs(matching - p.count()));
                    best = (bestChecks[0] + bestChecks[1] + count) / 3;
                    success = matching == p.count();
                    assertEquals(count, e.check("count"), 1e-12);
                }
            }
            assertEquals(Math.max(0, best), e.score(), 1e-12, p.text());
            assertEquals(success, e.success(), p.text());
            assertEquals(SceneEvaluator.checkNames(p).size(), e.checks().size());
        }
    }

    /** The documented regions: left x <= 0.40 with |x - .5| >= |y - .5|, ..., center max(|x - .5|, |y - .5|) <= 0.12. */
    private static double positionMargin(ScenePosition p, double x, double y) {
        double ax = Math.abs(x - 0.5);
        double ay = Math.abs(y - 0.5);
        return switch (p) {
            case LEFT -> Math.min(0.40 - x, ax - ay);
            case RIGHT -> Math.min(x - 0.60, ax - ay);
            case TOP -> Math.min(0.40 - y, ay - ax);
            case BOTTOM -> Math.min(y - 0.60, ay - ax);
            case CENTER -> 0.12 - Math.max(ax, ay);
        };
    }

    private static double shapeCheck(DetectedObject o, SceneShape s) {
        double[] iou = o.iou();
        double other = 0;
        for (int j = 0; j < iou.length; j++) if (j != s.ordinal()) other = Math.max(other, iou[j]);
        return Math.min(sig((iou[s.ordinal()] - other) / 0.03), sig((iou[s.ordinal()] - 0.55) / 0.03));
    }

    private static double colorCheck(DetectedObject o, SceneColor c) {
        double[] d = o.colorDistance();
        double other = Double.MAX_VALUE;
        for (int j = 0; j < d.length; j++) if (j != c.ordinal()) other = Math.min(other, d[j]);
        return Math.min(sig((other - d[c.ordinal()]) / 0.04), sig((o.saturation() - 0.35) / 0.04));
    }

    private static double sig(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** 50 random tables: per-category means and overall = mean over the categories present, recomputed. */
    @Test
    void genEvalTableAveragesCategoriesNotImages() {
        Random rnd = new Random(8);
        for (int k = 0; k < 50; k++) {
            List<Evaluation> evals = new ArrayList<>();
            double[] sum = new double[Category.values().length];
            int[] cnt = new int[Category.values().length];
            int n = 1 + rnd.nextInt(60);
            for (int i = 0; i < n; i++) {
                ScenePrompt p = SceneGrammar.all().get(rnd.nextInt(SceneGrammar.all().size()));
                boolean ok = rnd.nextBoolean();
                evals.add(new Evaluation(p, ok, rnd.nextDouble(), Map.of(), List.of()));
                sum[p.category().ordinal()] += ok ? 1 : 0;
                cnt[p.category().ordinal()]++;
            }
            GenEvalTable t = GenEvalTable.of(evals);
            double overall = 0;
            int present = 0;
            for (Category c : Category.values()) {
                assertEquals(cnt[c.ordinal()], t.count().get(c));
                if (cnt[c.ordinal()] == 0) {
                    assertTrue(Double.isNaN(t.success().get(c)));
                    continue;
                }
                assertEquals(sum[c.ordinal()] / cnt[c.ordinal()], t.success().get(c), 1e-12);
                overall += sum[c.ordinal()] / cnt[c.ordinal()];
                present++;
            }
            assertEquals(overall / present, t.overall(), 1e-12);
        }
        assertTrue(GenEvalTable.markdownHeader().contains("| single_object | two_object | counting | colors | position | relation |"));
    }

    @Test
    void sceneEvalRewardIsRegisteredAndMatchesTheEvaluator() {
        List<ScenePrompt> ps = SPLIT.evalPrompts(3);
        List<String> texts = ps.stream().map(ScenePrompt::text).toList();
        SceneRenderer r = new SceneRenderer(32);
        try (Scope scope = Scope.open()) {
            Tensor imgs = r.batch(ps, 9);
            RewardFunction f = RewardRegistry.create(SceneEvalReward.NAME);
            RewardOutput out = f.score(imgs, texts);
            float[] px = imgs.toFloatArray();
            for (int i = 0; i < ps.size(); i++) {
                Evaluation e = SceneEvaluator.evaluate(Arrays.copyOfRange(px, i * r.imageSize(), (i + 1) * r.imageSize()), 32, ps.get(i));
                assertEquals(e.score(), out.score(i), 1e-12);
                assertEquals(e.success() ? 1.0 : 0.0, out.metrics().get("success")[i]);
                assertEquals(ps.get(i).category().ordinal(), out.metrics().get("category")[i]);
            }
            GenEvalTable t = GenEvalTable.of(texts, out);
            assertTrue(t.overall() >= 0.95, t.markdownRow("ground truth"));
            assertEquals(Category.values().length, t.count().values().stream().filter(c -> c > 0).count());
        }
    }

    @Test
    void badInputsRaiseClearExceptions() {
        ScenePrompt p = ScenePrompt.parse("a red circle");
        var e = assertThrows(IllegalArgumentException.class, () -> SceneEvaluator.evaluate(new float[100], 32, p));
        assertTrue(e.getMessage().contains("3 x 32 x 32 = 3072") && e.getMessage().contains("100"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SceneEvaluator.evaluate(new float[3072], 3000, 32, 32, p));
        assertTrue(e.getMessage().contains("offset 3000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SceneEvaluator.evaluate(new float[12], 0, 2, 2, p));
        assertThrows(IllegalArgumentException.class, () -> SceneEvaluator.evaluate(null, 32, p));
        RewardFunction f = new SceneEvalReward();
        try (Scope scope = Scope.open()) {
            Tensor gray = Tensor.zeros(2, 1, 32, 32);
            e = assertThrows(IllegalArgumentException.class, () -> f.score(gray, List.of("a circle", "a square")));
            assertTrue(e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[2, 1, 32, 32]"), e.getMessage());
            Tensor ints = Tensor.zeros(DType.INT64, io.progrpo.tensor.Device.CPU, 1, 3, 32, 32);
            e = assertThrows(IllegalArgumentException.class, () -> f.score(ints, List.of("a circle")));
            assertTrue(e.getMessage().contains("floating-point") && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("int64"), e.getMessage());
            Tensor ok = Tensor.zeros(2, 3, 32, 32);
            e = assertThrows(IllegalArgumentException.class, () -> f.score(ok, List.of("a circle")));
            assertTrue(e.getMessage().contains("2 images and 1 prompts"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> f.score(ok, List.of("a circle", "a red blob")));
            assertTrue(e.getMessage().contains("'a red blob'"), e.getMessage());
        }
    }
}
