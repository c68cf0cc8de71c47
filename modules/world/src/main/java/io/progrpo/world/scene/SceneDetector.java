package io.progrpo.world.scene;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Finds and measures the objects of an image, knowing nothing of how it was made (it runs on generated images):
 * <ol>
 *   <li>non-finite pixels become 0, values are clamped to [0, 1];</li>
 *   <li>the background is {@link BackgroundFit fitted} to the border ring;</li>
 *   <li>contrast D = the largest channel difference from the background; foreground = D >= {@value #THRESHOLD};</li>
 *   <li>4-connected components of the foreground with at least max(5, {@value #MIN_AREA_FRACTION} H W) and at most
 *       {@value #MAX_AREA_FRACTION} H W pixels (the largest object the renderer draws covers 0.18 of the image; a
 *       larger component is noise, a texture or a smear, not an object), the {@value #MAX_OBJECTS} largest;</li>
 *   <li>per component: core contrast Dc = the mean of its upper half of D values; soft mask m = min(1, D / Dc) over
 *       the component and the pixels 4-adjacent to it; soft area, centroid; colour = the mean RGB of the pixels with
 *       D >= 0.8 Dc, its chroma compared with each palette colour's; shape = the soft IoU (sum of min over sum of
 *       max) of m with each shape's anti-aliased template at the centroid, its size matched to the soft area.</li>
 * </ol>
 */
public final class SceneDetector {
    public static final double THRESHOLD = 0.20;
    public static final double MIN_AREA_FRACTION = 0.005;
    public static final double MAX_AREA_FRACTION = 0.35;
    public static final int MAX_OBJECTS = 16;
    private static final double CORE = 0.8;

    private SceneDetector() {
    }

    /** The objects of the CHW image at {@code offset} in {@code pixels}, largest first. */
    public static List<DetectedObject> detect(float[] pixels, int offset, int h, int w) {
        int plane = h * w;
        double[][] img = new double[3][plane];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < plane; i++) {
                float v = pixels[offset + c * plane + i];
                img[c][i] = Float.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
            }
        }
        double[][] bg = BackgroundFit.fit(img, h, w);
        double[] d = new double[plane];
        for (int y = 0; y < h; y++) {
            double v = BackgroundFit.coordinate(y, h);
            for (int x = 0; x < w; x++) {
                double u = BackgroundFit.coordinate(x, w);
                double m = 0;
                for (int c = 0; c < 3; c++) m = Math.max(m, Math.abs(img[c][y * w + x] - BackgroundFit.eval(bg[c], u, v)));
                d[y * w + x] = m;
            }
        }
        int[] label = new int[plane];
        Arrays.fill(label, -1);
        List<int[]> comps = new ArrayList<>();
        int[] stack = new int[plane];
        int minPixels = Math.max(5, (int) Math.round(MIN_AREA_FRACTION * plane));
        int maxPixels = (int) Math.round(MAX_AREA_FRACTION * plane);
        for (int start = 0; start < plane; start++) {
            if (label[start] != -1 || d[start] < THRESHOLD) continue;
            int id = start;
            int top = 0;
            int n = 0;
            int[] members = new int[16];
            stack[top++] = start;
            label[start] = id;
            while (top > 0) {
                int p = stack[--top];
                if (n == members.length) members = Arrays.copyOf(members, 2 * n);
                members[n++] = p;
                int x = p % w;
                int y = p / w;
                if (x > 0) top = push(p - 1, d, label, stack, top, id);
                if (x < w - 1) top = push(p + 1, d, label, stack, top, id);
                if (y > 0) top = push(p - w, d, label, stack, top, id);
                if (y < h - 1) top = push(p + w, d, label, stack, top, id);
            }
            if (n >= minPixels && n <= maxPixels) comps.add(Arrays.copyOf(members, n));
        }
        List<int[]> kept = new ArrayList<>(comps);
        kept.sort(Comparator.comparingInt((int[] c) -> -c.length));
        if (kept.size() > MAX_OBJECTS) kept = kept.subList(0, MAX_OBJECTS);
        List<DetectedObject> out = new ArrayList<>();
        for (int[] c : kept) out.add(measure(c, img, d, h, w));
        return out;
    }

    private static int push(int q, double[] d, int[] label, int[] stack, int top, int id) {
        if (label[q] == -1 && d[q] >= THRESHOLD) {
            label[q] = id;
            stack[top++] = q;
        }
        return top;
    }

    private static DetectedObject measure(int[] members, double[][] img, double[] d, int h, int w) {
        double[] vals = new double[members.length];
        for (int i = 0; i < members.length; i++) vals[i] = d[members[i]];
        Arrays.sort(vals);
        double core = 0;
        for (int i = vals.length / 2; i < vals.length; i++) core += vals[i];
        core /= vals.length - vals.length / 2;
        // the soft mask's support: the component and its 4-neighbours (the anti-aliased edge below the threshold)
        boolean[] in = new boolean[h * w];
        for (int p : members) in[p] = true;
        int x0 = w;
        int x1 = -1;
        int y0 = h;
        int y1 = -1;
        for (int p : members) {
            x0 = Math.min(x0, p % w);
            x1 = Math.max(x1, p % w);
            y0 = Math.min(y0, p / w);
            y1 = Math.max(y1, p / w);
        }
        double[] mask = new double[h * w];
        double area = 0;
        double sx = 0;
        double sy = 0;
        double[] rgb = new double[3];
        int coreCount = 0;
        for (int y = Math.max(0, y0 - 1); y <= Math.min(h - 1, y1 + 1); y++) {
            for (int x = Math.max(0, x0 - 1); x <= Math.min(w - 1, x1 + 1); x++) {
                int p = y * w + x;
                boolean support = in[p] || (x > 0 && in[p - 1]) || (x < w - 1 && in[p + 1]) || (y > 0 && in[p - w]) || (y < h - 1 && in[p + w]);
                if (!support) continue;
                double m = Math.min(1, d[p] / core);
                mask[p] = m;
                area += m;
                sx += m * (x + 0.5);
                sy += m * (y + 0.5);
                if (in[p] && d[p] >= CORE * core) {
                    for (int c = 0; c < 3; c++) rgb[c] += img[c][p];
                    coreCount++;
                }
            }
        }
        double cxPx = sx / area;
        double cyPx = sy / area;
        for (int c = 0; c < 3; c++) rgb[c] /= Math.max(1, coreCount);
        double max = Math.max(rgb[0], Math.max(rgb[1], rgb[2]));
        double min = Math.min(rgb[0], Math.min(rgb[1], rgb[2]));
        double sat = max > 1e-6 ? (max - min) / max : 0;
        double[] dist = new double[SceneColor.values().length];
        for (SceneColor col : SceneColor.values()) {
            double[] ch = col.chroma();
            double s = 0;
            for (int c = 0; c < 3; c++) {
                double diff = (max > 1e-6 ? rgb[c] / max : 0) - ch[c];
                s += diff * diff;
            }
            dist[col.ordinal()] = Math.sqrt(s);
        }
        double[] iou = new double[SceneShape.values().length];
        for (SceneShape s : SceneShape.values()) iou[s.ordinal()] = templateIou(s, mask, area, cxPx, cyPx, x0, x1, y0, y1, h, w);
        return new DetectedObject(members.length, area, cxPx / w, cyPx / h, rgb, sat, dist, iou);
    }

    /** Soft IoU of the mask with the shape's template whose area equals the mask's, centred at (cx, cy) pixels. */
    static double templateIou(SceneShape s, double[] mask, double area, double cx, double cy, int x0, int x1, int y0, int y1, int h, int w) {
        double size = Math.sqrt(area / s.areaFactor());
        int pad = 2 + (int) Math.ceil(size / 2);
        int ax = Math.max(0, Math.min(x0 - 1, (int) Math.floor(cx - size) - pad));
        int bx = Math.min(w - 1, Math.max(x1 + 1, (int) Math.ceil(cx + size) + pad));
        int ay = Math.max(0, Math.min(y0 - 1, (int) Math.floor(cy - size) - pad));
        int by = Math.min(h - 1, Math.max(y1 + 1, (int) Math.ceil(cy + size) + pad));
        double inter = 0;
        double union = 0;
        for (int y = ay; y <= by; y++) {
            for (int x = ax; x <= bx; x++) {
                double t = s.coverage(x, y, cx, cy, size);
                double m = mask[y * w + x];
                inter += Math.min(t, m);
                union += Math.max(t, m);
            }
        }
        return union > 0 ? inter / union : 0;
    }
}
