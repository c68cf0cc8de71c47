package io.progrpo.world.scene;

import java.util.Locale;
import java.util.Optional;

/**
 * Absolute positions of the position category ("a red circle at the left"): where the object's centroid is drawn (an
 * anchor, as fractions of the width and height) and the region the evaluator accepts.
 *
 * <p>Regions, with (x, y) the centroid as fractions of the side: left x &lt;= 0.40 and |x - 0.5| &gt;= |y - 0.5| (the
 * horizontal offset dominates), right x &gt;= 0.60 likewise, top y &lt;= 0.40 and |y - 0.5| &gt;= |x - 0.5|, bottom y &gt;= 0.60
 * likewise, center max(|x - 0.5|, |y - 0.5|) &lt;= 0.12. The regions are disjoint.
 */
public enum ScenePosition {
    LEFT(0.28, 0.5), RIGHT(0.72, 0.5), TOP(0.5, 0.28), BOTTOM(0.5, 0.72), CENTER(0.5, 0.5);

    /** How far from the middle an off-centre position must be (fraction of the side). */
    public static final double SIDE_THRESHOLD = 0.10;
    /** Half the side of the center region (fraction of the side). */
    public static final double CENTER_HALF = 0.12;

    private final double x;
    private final double y;

    ScenePosition(double x, double y) {
        this.x = x;
        this.y = y;
    }

    public double x() {
        return x;
    }

    public double y() {
        return y;
    }

    /**
     * How far inside the region the point (x, y) lies, in fractions of the side: positive inside, negative outside
     * (the evaluator's soft check is a sigmoid of it).
     */
    public double margin(double px, double py) {
        double dx = px - 0.5;
        double dy = py - 0.5;
        return switch (this) {
            case LEFT -> Math.min(-dx - SIDE_THRESHOLD, Math.abs(dx) - Math.abs(dy));
            case RIGHT -> Math.min(dx - SIDE_THRESHOLD, Math.abs(dx) - Math.abs(dy));
            case TOP -> Math.min(-dy - SIDE_THRESHOLD, Math.abs(dy) - Math.abs(dx));
            case BOTTOM -> Math.min(dy - SIDE_THRESHOLD, Math.abs(dy) - Math.abs(dx));
            case CENTER -> CENTER_HALF - Math.max(Math.abs(dx), Math.abs(dy));
        };
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<ScenePosition> of(String word) {
        for (ScenePosition p : values()) if (p.word().equalsIgnoreCase(word)) return Optional.of(p);
        return Optional.empty();
    }
}
