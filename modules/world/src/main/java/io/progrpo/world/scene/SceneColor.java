package io.progrpo.world.scene;

import java.util.Locale;
import java.util.Optional;

/**
 * The object colours of the scene world: seven saturated hues, at least 0.38 apart in chroma (the colour divided by
 * its largest channel), so that the evaluator tells them apart by the nearest palette chroma.
 */
public enum SceneColor {
    RED(0.90f, 0.12f, 0.12f),
    ORANGE(0.95f, 0.55f, 0.08f),
    YELLOW(0.92f, 0.88f, 0.12f),
    GREEN(0.15f, 0.78f, 0.20f),
    CYAN(0.10f, 0.80f, 0.85f),
    BLUE(0.15f, 0.30f, 0.95f),
    PURPLE(0.62f, 0.20f, 0.90f);

    private final float r;
    private final float g;
    private final float b;

    SceneColor(float r, float g, float b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    /** RGB in [0, 1] (a copy). */
    public float[] rgb() {
        return new float[] {r, g, b};
    }

    /** The colour divided by its largest channel: what the evaluator compares. */
    public double[] chroma() {
        double m = Math.max(r, Math.max(g, b));
        return new double[] {r / m, g / m, b / m};
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The colour named {@code word} (case-insensitive), if any. */
    public static Optional<SceneColor> of(String word) {
        for (SceneColor c : values()) if (c.word().equalsIgnoreCase(word)) return Optional.of(c);
        return Optional.empty();
    }
}
