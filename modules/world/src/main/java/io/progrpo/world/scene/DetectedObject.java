package io.progrpo.world.scene;

/**
 * An object the evaluator found in an image: a connected component of the foreground, measured.
 *
 * @param pixels     pixels above the foreground threshold
 * @param area       soft area in pixels (the sum of the soft mask: contrast over the component's core contrast)
 * @param cx         centroid x as a fraction of the width (soft-mask weighted)
 * @param cy         centroid y as a fraction of the height
 * @param rgb        mean RGB of the component's core pixels
 * @param saturation (max - min) / max of {@code rgb}
 * @param colorDistance distance of rgb's chroma (rgb / its max) to each palette colour's, in {@link SceneColor} order
 * @param iou        soft IoU of the mask with each shape's template (centred at the centroid, area matched), in
 *                   {@link SceneShape} order
 */
public record DetectedObject(int pixels, double area, double cx, double cy, double[] rgb, double saturation,
                             double[] colorDistance, double[] iou) {
    public DetectedObject {
        rgb = rgb.clone();
        colorDistance = colorDistance.clone();
        iou = iou.clone();
    }

    @Override
    public double[] rgb() {
        return rgb.clone();
    }

    @Override
    public double[] colorDistance() {
        return colorDistance.clone();
    }

    @Override
    public double[] iou() {
        return iou.clone();
    }

    /** The nearest palette colour by chroma. */
    public SceneColor nearestColor() {
        return SceneColor.values()[argmin(colorDistance)];
    }

    /** The shape of the highest IoU. */
    public SceneShape bestShape() {
        int best = 0;
        for (int i = 1; i < iou.length; i++) if (iou[i] > iou[best]) best = i;
        return SceneShape.values()[best];
    }

    double iou(SceneShape s) {
        return iou[s.ordinal()];
    }

    double colorDistance(SceneColor c) {
        return colorDistance[c.ordinal()];
    }

    private static int argmin(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] < v[best]) best = i;
        return best;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s %s at (%.2f, %.2f), area %.1f, iou %.2f, sat %.2f",
                nearestColor().word(), bestShape().word(), cx, cy, area, iou[bestShape().ordinal()], saturation);
    }
}
