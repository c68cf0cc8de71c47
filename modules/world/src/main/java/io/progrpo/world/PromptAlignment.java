package io.progrpo.world;

import io.progrpo.world.Vocabulary.Color;
import io.progrpo.world.Vocabulary.Shape;

import java.util.Arrays;

/**
 * How well an image matches a prompt of the world: a continuous score in [0,1] in the spirit of GenEval's rule-based
 * checks (object present, right color, right position), made soft so that it changes continuously with the pixels
 * and can serve as a GRPO reward.
 *
 * <h2>Definition</h2>
 * Let bg be the per-channel median of the border pixels (the world's background is black) and, for each pixel i,
 * contrast_i = max_c |x_ic - bg_c| and its foreground weight w_i = smoothstep(0.05, 0.95, contrast_i). With the mass
 * M = sum w_i, the expected object area A = areaFactor(shape) * d0^2 (d0 = {@link Vocabulary#OBJECT_SIZE} times the
 * image side) and the presence confidence conf = min(1, M / (0.3 A)):
 * <ul>
 *   <li><b>color</b> = conf * exp(-D_t / 0.2) * softmax_t(-D / 0.05), where m = (sum w_i chroma_i) / M with
 *       chroma_i = max(x_i - bg, 0) / max_c max(x_ic - bg_c, 0), and D_k = |m - rgb_k|^2 for every vocabulary color k
 *       (t the target);</li>
 *   <li><b>position</b> = conf * exp(-max(0, delta - 0.07)^2 / (2 * 0.06^2)) * min(1, 1.4 s_exp / s)^2, where delta is
 *       the distance from the weighted centroid to the target position (fraction of the image side), s the weighted
 *       spatial spread of the foreground and s_exp that of the target shape at nominal size: a diffuse foreground
 *       (noise) has no position;</li>
 *   <li><b>shape</b> = IoU_t * softmax_t(IoU / 0.03), where IoU_k = sum min(w, T_k) / sum max(w, T_k) is the soft IoU
 *       of the foreground with the anti-aliased template of shape k centred at the centroid, its size fitted to the
 *       mass (d_k = sqrt(M / areaFactor_k), clamped to [0.7, 1.4] d0): the target must match and match better than the
 *       other shapes.</li>
 * </ul>
 * score = (color + position + shape) / 3. Every part is in [0,1]; an empty image scores 0, never NaN.
 */
public final class PromptAlignment {
    static final double FG_LOW = 0.05;
    static final double FG_HIGH = 0.95;
    static final double PRESENCE_FRACTION = 0.3;
    static final double COLOR_WIDTH = 0.2;
    static final double COLOR_TEMPERATURE = 0.05;
    static final double POSITION_TOLERANCE = 0.07;
    static final double POSITION_SIGMA = 0.06;
    static final double SPREAD_SLACK = 1.4;
    static final double SHAPE_TEMPERATURE = 0.03;
    static final double MIN_SCALE = 0.7;
    static final double MAX_SCALE = 1.4;
    private static final double TINY = 1e-9;

    /** Spatial spread (root mean squared distance to the centroid) of each shape, in units of the object size. */
    private static final double[] SPREAD = new double[Shape.values().length];

    static {
        int n = 400;
        for (Shape s : Shape.values()) {
            double sum = 0;
            double count = 0;
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < n; i++) {
                    double u = (i + 0.5) / n * 1.4 - 0.7;
                    double v = (j + 0.5) / n * 1.4 - 0.7;
                    if (s.contains(u, v)) {
                        sum += u * u + v * v;
                        count++;
                    }
                }
            }
            SPREAD[s.ordinal()] = Math.sqrt(sum / count);
        }
    }

    private PromptAlignment() {
    }

    /** The parts of a score. All in [0,1]; {@code score} is their mean. */
    public record Details(double color, double position, double shape, double score) {
        public Details {
            check("color", color);
            check("position", position);
            check("shape", shape);
            check("score", score);
        }

        private static void check(String what, double v) {
            if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(what + " must be in [0,1], got " + v);
        }
    }

    /** The score of a CHW image of size h x w. */
    public static double score(float[] chw, int h, int w, Prompt prompt) {
        return details(chw, 0, h, w, prompt).score();
    }

    public static Details details(float[] chw, int h, int w, Prompt prompt) {
        return details(chw, 0, h, w, prompt);
    }

    /** The score parts of the CHW image starting at {@code offset} in {@code data} (e.g. image i of an NCHW batch). */
    public static Details details(float[] data, int offset, int h, int w, Prompt prompt) {
        if (h < 1 || w < 1) throw new IllegalArgumentException("image size must be positive, got " + h + " x " + w);
        int plane = h * w;
        if (offset < 0 || offset + 3 * plane > data.length) {
            throw new IllegalArgumentException("a 3 x " + h + " x " + w + " image at offset " + offset + " needs "
                    + (offset + 3 * plane) + " floats, the array has " + data.length);
        }
        double side = Math.min(h, w);
        double d0 = Vocabulary.OBJECT_SIZE * side;
        double[] bg = background(data, offset, h, w);

        // foreground weights, mass, centroid, chroma
        double[] fg = new double[plane];
        double mass = 0;
        double sx = 0;
        double sy = 0;
        double[] chroma = new double[3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                double contrast = 0;
                double qmax = 0;
                double[] q = new double[3];
                for (int c = 0; c < 3; c++) {
                    double v = sanitize(data[offset + c * plane + i]) - bg[c];
                    contrast = Math.max(contrast, Math.abs(v));
                    q[c] = Math.max(v, 0);
                    qmax = Math.max(qmax, q[c]);
                }
                double wi = smoothstep(FG_LOW, FG_HIGH, contrast);
                fg[i] = wi;
                if (wi == 0) continue;
                mass += wi;
                sx += wi * (x + 0.5);
                sy += wi * (y + 0.5);
                if (qmax > TINY) {
                    for (int c = 0; c < 3; c++) chroma[c] += wi * q[c] / qmax;
                }
            }
        }
        Shape target = prompt.shape();
        double expectedArea = target.areaFactor() * d0 * d0;
        double conf = Math.min(1, mass / (PRESENCE_FRACTION * expectedArea));
        double cx = sx / (mass + TINY);
        double cy = sy / (mass + TINY);

        double color = conf * colorMatch(chroma, mass, prompt.color());

        double spread2 = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double wi = fg[y * w + x];
                if (wi == 0) continue;
                double dx = x + 0.5 - cx;
                double dy = y + 0.5 - cy;
                spread2 += wi * (dx * dx + dy * dy);
            }
        }
        double spread = Math.sqrt(spread2 / (mass + TINY)) / side;
        double expectedSpread = SPREAD[target.ordinal()] * Vocabulary.OBJECT_SIZE;
        double concentration = Math.pow(Math.min(1, SPREAD_SLACK * expectedSpread / (spread + TINY)), 2);
        double dx = (cx - prompt.position().x() * w) / side;
        double dy = (cy - prompt.position().y() * h) / side;
        double excess = Math.max(0, Math.sqrt(dx * dx + dy * dy) - POSITION_TOLERANCE);
        double position = conf * Math.exp(-excess * excess / (2 * POSITION_SIGMA * POSITION_SIGMA)) * concentration;

        double shape = shapeMatch(fg, mass, cx, cy, h, w, d0, target);

        double score = (color + position + shape) / 3;
        return new Details(clamp01(color), clamp01(position), clamp01(shape), clamp01(score));
    }

    private static double colorMatch(double[] chromaSum, double mass, Color target) {
        Color[] colors = Color.values();
        double[] dist = new double[colors.length];
        for (Color k : colors) {
            double d = 0;
            for (int c = 0; c < 3; c++) {
                double m = chromaSum[c] / (mass + TINY);
                d += (m - k.channel(c)) * (m - k.channel(c));
            }
            dist[k.ordinal()] = d;
        }
        double[] logits = new double[colors.length];
        for (int k = 0; k < colors.length; k++) logits[k] = -dist[k] / COLOR_TEMPERATURE;
        return Math.exp(-dist[target.ordinal()] / COLOR_WIDTH) * softmax(logits, target.ordinal());
    }

    private static double shapeMatch(double[] fg, double mass, double cx, double cy, int h, int w, double d0, Shape target) {
        Shape[] shapes = Shape.values();
        double[] iou = new double[shapes.length];
        for (Shape s : shapes) {
            double size = Math.clamp(Math.sqrt(mass / s.areaFactor()), MIN_SCALE * d0, MAX_SCALE * d0);
            double inter = 0;
            double union = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double t = Renderer.coverage(s, x, y, cx, cy, size);
                    double m = fg[y * w + x];
                    inter += Math.min(m, t);
                    union += Math.max(m, t);
                }
            }
            iou[s.ordinal()] = inter / (union + TINY);
        }
        double[] logits = new double[shapes.length];
        for (int k = 0; k < shapes.length; k++) logits[k] = iou[k] / SHAPE_TEMPERATURE;
        return iou[target.ordinal()] * softmax(logits, target.ordinal());
    }

    /** Per-channel median of the border pixels: the background estimate. */
    private static double[] background(float[] data, int offset, int h, int w) {
        int plane = h * w;
        int n = h == 1 || w == 1 ? plane : 2 * (h + w) - 4;
        double[] bg = new double[3];
        double[] vals = new double[n];
        for (int c = 0; c < 3; c++) {
            int k = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    if (y == 0 || y == h - 1 || x == 0 || x == w - 1) vals[k++] = sanitize(data[offset + c * plane + y * w + x]);
                }
            }
            Arrays.sort(vals, 0, k);
            bg[c] = k % 2 == 1 ? vals[k / 2] : 0.5 * (vals[k / 2 - 1] + vals[k / 2]);
        }
        return bg;
    }

    private static double softmax(double[] logits, int index) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) max = Math.max(max, l);
        double sum = 0;
        for (double l : logits) sum += Math.exp(l - max);
        return Math.exp(logits[index] - max) / sum;
    }

    static double smoothstep(double lo, double hi, double v) {
        double t = Math.clamp((v - lo) / (hi - lo), 0.0, 1.0);
        return t * t * (3 - 2 * t);
    }

    /** Pixels outside [0,1] (or NaN) are clamped (NaN reads as 0), so a broken generator scores low instead of NaN. */
    private static double sanitize(float v) {
        return v >= 0 ? Math.min(v, 1.0) : 0.0;
    }

    private static double clamp01(double v) {
        return Math.clamp(v, 0.0, 1.0);
    }
}
