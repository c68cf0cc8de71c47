package io.progrpo.world.scene;

import java.util.Locale;
import java.util.Optional;

/**
 * The object shapes of the scene world. Each is defined in units of its size d, centred on its area centroid, with a
 * d x d bounding box: a disc of diameter d, a square of side d, an upward isosceles triangle of base and height d
 * (apex 2/3 d above the centroid), a plus-shaped cross of arm width d/3.
 */
public enum SceneShape {
    CIRCLE("circles", Math.PI / 4, 0.5),
    SQUARE("squares", 1.0, 0.5),
    TRIANGLE("triangles", 0.5, 2.0 / 3.0),
    CROSS("crosses", 5.0 / 9.0, 0.5);

    private final String plural;
    private final double areaFactor;
    private final double up;

    SceneShape(String plural, double areaFactor, double up) {
        this.plural = plural;
        this.areaFactor = areaFactor;
        this.up = up;
    }

    /** The area of the shape of size d is {@code areaFactor() * d * d}. */
    public double areaFactor() {
        return areaFactor;
    }

    /** Extent above the centroid in units of d (the bounding box spans [-1/2, 1/2] in x and [-up, 1 - up] in y). */
    public double extentUp() {
        return up;
    }

    /** Extent below the centroid in units of d. */
    public double extentDown() {
        return 1 - up;
    }

    /**
     * A signed distance from (u, v), in units of the size relative to the centroid (v grows downwards), to the
     * outline: negative inside. Exact for the circle, the max/min of edge distances for the polygons (exact inside,
     * a lower bound outside); continuous in u and v, which is what the anti-aliasing needs.
     */
    public double signedDistance(double u, double v) {
        return switch (this) {
            case CIRCLE -> Math.sqrt(u * u + v * v) - 0.5;
            case SQUARE -> Math.max(Math.abs(u), Math.abs(v)) - 0.5;
            case TRIANGLE -> Math.max(v - 1.0 / 3.0, (Math.abs(u) - 0.5 * (v + 2.0 / 3.0)) / Math.sqrt(1.25));
            case CROSS -> Math.min(Math.max(Math.abs(u) - 1.0 / 6.0, Math.abs(v) - 0.5),
                    Math.max(Math.abs(u) - 0.5, Math.abs(v) - 1.0 / 6.0));
        };
    }

    /**
     * The fraction of pixel (x, y) covered by the shape of size {@code size} (pixels) centred at (cx, cy): 0.5 minus
     * the signed distance of the pixel centre to the outline in pixels, clamped to [0, 1].
     */
    public double coverage(int x, int y, double cx, double cy, double size) {
        double sd = signedDistance((x + 0.5 - cx) / size, (y + 0.5 - cy) / size) * size;
        return sd <= -0.5 ? 1 : (sd >= 0.5 ? 0 : 0.5 - sd);
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** "circles", "crosses": the form counting prompts use. */
    public String plural() {
        return plural;
    }

    /** The shape named {@code word} in the singular or the plural (case-insensitive), if any. */
    public static Optional<SceneShape> of(String word) {
        for (SceneShape s : values()) if (s.word().equalsIgnoreCase(word) || s.plural.equalsIgnoreCase(word)) return Optional.of(s);
        return Optional.empty();
    }
}
