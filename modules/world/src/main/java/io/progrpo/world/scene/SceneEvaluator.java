package io.progrpo.world.scene;

import io.progrpo.reward.ImageBatch;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rule-based compositional evaluator of the scene world (GenEval's role): never trained, it reads an image
 * with {@link SceneDetector} and checks the prompt. Each check has a soft value in [0, 1] that is above 0.5 exactly
 * when its binary rule passes, with sigma(z) = 1 / (1 + e^-z):
 * <ul>
 *   <li>shape s of object k: min(sigma((IoU_s - max of the other IoUs) / 0.03), sigma((IoU_s - {@value #MIN_IOU}) /
 *       0.03)): the best template, and a good enough one;</li>
 *   <li>colour c: min(sigma((nearest other palette distance - D_c) / 0.04), sigma((saturation -
 *       {@value #MIN_SATURATION}) / 0.04)): the nearest chroma, and a saturated one;</li>
 *   <li>position p: sigma({@link ScenePosition#margin} / 0.03); relation r: sigma({@link Relation#margin} / 0.03);</li>
 *   <li>count: 1 when the number n of objects whose shape and colour checks pass equals N, else 0.4^|n - N|.</li>
 * </ul>
 * A prompt's checks: single_object {shape}; colors {shape, color}; position {shape, color, position}; two_object
 * {shape, color, shape2, color2} on two different objects; relation the same and {relation}; counting {shape, color}
 * of the best object and {count}. Success: some assignment of detected objects passes every check (extra objects
 * are allowed, as in GenEval, except that counting needs the exact count). Score: the largest mean of the checks over
 * assignments; no object at all scores 0.
 */
public final class SceneEvaluator {
    public static final double MIN_IOU = 0.55;
    public static final double MIN_SATURATION = 0.35;
    private static final double SHAPE_T = 0.03;
    private static final double COLOR_T = 0.04;
    private static final double GEOMETRY_T = 0.03;
    private static final double COUNT_BASE = 0.4;

    private SceneEvaluator() {
    }

    /** Evaluates the CHW image at {@code offset} (3 x h x w floats) against the prompt. */
    public static Evaluation evaluate(float[] pixels, int offset, int h, int w, ScenePrompt p) {
        if (pixels == null || p == null) throw new IllegalArgumentException("evaluate needs pixels and a prompt, got " + pixels + ", " + p);
        if (h < 8 || w < 8) throw new IllegalArgumentException("the evaluator needs images of at least 8 x 8, got " + h + " x " + w);
        long need = (long) offset + 3L * h * w;
        if (offset < 0 || need > pixels.length) {
            throw new IllegalArgumentException("an image of 3 x " + h + " x " + w + " at offset " + offset + " needs " + need
                    + " floats, the array has " + pixels.length);
        }
        return judge(p, SceneDetector.detect(pixels, offset, h, w));
    }

    /** Evaluates a single CHW image of 3 x size x size. */
    public static Evaluation evaluate(float[] image, int size, ScenePrompt p) {
        if (image != null && image.length != 3 * size * size) {
            throw new IllegalArgumentException("expected a CHW image of 3 x " + size + " x " + size + " = " + 3 * size * size
                    + " floats, got " + image.length);
        }
        return evaluate(image, 0, size, size, p);
    }

    /**
     * Evaluates a batch [N, 3, H, W] (any float dtype, any device) against N prompt texts.
     *
     * @throws IllegalArgumentException for another shape, a non-float dtype, a prompt count that differs from N, or a text outside the
     *                                  grammar
     */
    public static List<Evaluation> evaluate(Tensor images, List<String> prompts) {
        if (images == null) throw new IllegalArgumentException("the evaluator got null images");
        if (!images.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("the evaluator expects floating-point images [N, 3, H, W] with values in [0, 1], got dtype "
                    + images.dtype() + " (convert 0-255 integers with div(255))");
        }
        ImageBatch b = ImageBatch.of(images, SceneEvalReward.NAME);
        if (prompts == null || prompts.size() != b.count()) {
            throw new IllegalArgumentException("the evaluator got " + b.count() + " images and " + (prompts == null ? "no" : prompts.size())
                    + " prompts; expected one prompt per image");
        }
        List<Evaluation> out = new ArrayList<>(b.count());
        for (int i = 0; i < b.count(); i++) {
            out.add(evaluate(b.pixels(), b.offset(i), b.height(), b.width(), ScenePrompt.parse(prompts.get(i))));
        }
        return out;
    }

    /** The verdict given the detected objects. */
    public static Evaluation judge(ScenePrompt p, List<DetectedObject> objs) {
        Map<String, Double> best = null;
        double bestScore = -1;
        boolean success = false;
        int n = objs.size();
        if (p.category() == Category.TWO_OBJECT || p.category() == Category.RELATION) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (i == j) continue;
                    Map<String, Double> c = new LinkedHashMap<>();
                    c.put("shape", shape(objs.get(i), p.first().shape()));
                    c.put("color", color(objs.get(i), p.first().color()));
                    c.put("shape2", shape(objs.get(j), p.second().shape()));
                    c.put("color2", color(objs.get(j), p.second().color()));
                    if (p.category() == Category.RELATION) {
                        DetectedObject a = objs.get(i);
                        DetectedObject b = objs.get(j);
                        c.put("relation", sigmoid(p.relation().margin(a.cx(), a.cy(), b.cx(), b.cy()) / GEOMETRY_T));
                    }
                    double s = mean(c);
                    success |= allPass(c);
                    if (s > bestScore) {
                        bestScore = s;
                        best = c;
                    }
                }
            }
        } else {
            int matching = 0;
            for (DetectedObject o : objs) {
                Map<String, Double> c = new LinkedHashMap<>();
                c.put("shape", shape(o, p.first().shape()));
                if (p.first().color() != null) c.put("color", color(o, p.first().color()));
                if (p.category() == Category.POSITION) c.put("position", sigmoid(p.position().margin(o.cx(), o.cy()) / GEOMETRY_T));
                if (allPass(c)) matching++;
                double s = mean(c);
                success |= allPass(c);
                if (s > bestScore) {
                    bestScore = s;
                    best = c;
                }
            }
            if (p.category() == Category.COUNTING) {
                double count = matching == p.count() ? 1 : Math.pow(COUNT_BASE, Math.abs(matching - p.count()));
                if (best == null) {
                    best = new LinkedHashMap<>();
                    best.put("shape", 0.0);
                    best.put("color", 0.0);
                }
                best.put("count", count);
                bestScore = mean(best);
                success = matching == p.count();
            }
        }
        if (best == null) {
            best = new LinkedHashMap<>();
            for (String k : checkNames(p)) best.put(k, 0.0);
            bestScore = 0;
        }
        return new Evaluation(p, success, Math.max(0, Math.min(1, bestScore)), best, objs);
    }

    /** The names of the prompt's checks, in order. */
    public static List<String> checkNames(ScenePrompt p) {
        return switch (p.category()) {
            case SINGLE_OBJECT -> List.of("shape");
            case COLORS -> List.of("shape", "color");
            case POSITION -> List.of("shape", "color", "position");
            case TWO_OBJECT -> List.of("shape", "color", "shape2", "color2");
            case RELATION -> List.of("shape", "color", "shape2", "color2", "relation");
            case COUNTING -> List.of("shape", "color", "count");
        };
    }

    /** The soft shape check of {@code o} for shape {@code s}. */
    static double shape(DetectedObject o, SceneShape s) {
        double mine = o.iou(s);
        double other = 0;
        for (SceneShape t : SceneShape.values()) if (t != s) other = Math.max(other, o.iou(t));
        return Math.min(sigmoid((mine - other) / SHAPE_T), sigmoid((mine - MIN_IOU) / SHAPE_T));
    }

    /** The soft colour check of {@code o} for colour {@code c}. */
    static double color(DetectedObject o, SceneColor c) {
        double mine = o.colorDistance(c);
        double other = Double.POSITIVE_INFINITY;
        for (SceneColor t : SceneColor.values()) if (t != c) other = Math.min(other, o.colorDistance(t));
        return Math.min(sigmoid((other - mine) / COLOR_T), sigmoid((o.saturation() - MIN_SATURATION) / COLOR_T));
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    private static boolean allPass(Map<String, Double> c) {
        for (double v : c.values()) if (!(v > 0.5)) return false;
        return true;
    }

    private static double mean(Map<String, Double> c) {
        double s = 0;
        for (double v : c.values()) s += v;
        return c.isEmpty() ? 0 : s / c.size();
    }
}
