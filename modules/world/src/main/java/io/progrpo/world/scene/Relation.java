package io.progrpo.world.scene;

import java.util.Optional;

/**
 * Spatial relations between two objects ("a red circle left of a blue square"). A holds relation r to B when the
 * offset from A's centroid to B's along r's axis is at least {@link #THRESHOLD} of the side and dominates the offset
 * along the other axis (the rule of GenEval's position check, on centroids).
 */
public enum Relation {
    LEFT_OF("left of"), RIGHT_OF("right of"), ABOVE("above"), BELOW("below");

    /** The least offset along the relation's axis, as a fraction of the side. */
    public static final double THRESHOLD = 0.12;

    private final String words;

    Relation(String words) {
        this.words = words;
    }

    /** "left of", "above". */
    public String words() {
        return words;
    }

    /** The relation that holds when this one holds with the objects swapped (left of &lt;-&gt; right of, above &lt;-&gt; below). */
    public Relation converse() {
        return switch (this) {
            case LEFT_OF -> RIGHT_OF;
            case RIGHT_OF -> LEFT_OF;
            case ABOVE -> BELOW;
            case BELOW -> ABOVE;
        };
    }

    /** Whether the relation is along the x axis. */
    public boolean horizontal() {
        return this == LEFT_OF || this == RIGHT_OF;
    }

    /**
     * How clearly A (at ax, ay) holds this relation to B (at bx, by), in fractions of the side: positive when it
     * holds, negative otherwise.
     */
    public double margin(double ax, double ay, double bx, double by) {
        double dx = bx - ax;
        double dy = by - ay;
        return switch (this) {
            case LEFT_OF -> Math.min(dx - THRESHOLD, dx - Math.abs(dy));
            case RIGHT_OF -> Math.min(-dx - THRESHOLD, -dx - Math.abs(dy));
            case ABOVE -> Math.min(dy - THRESHOLD, dy - Math.abs(dx));
            case BELOW -> Math.min(-dy - THRESHOLD, -dy - Math.abs(dx));
        };
    }

    /** The relation written as {@code words} ("left of"), if any. */
    public static Optional<Relation> of(String words) {
        for (Relation r : values()) if (r.words.equalsIgnoreCase(words)) return Optional.of(r);
        return Optional.empty();
    }
}
