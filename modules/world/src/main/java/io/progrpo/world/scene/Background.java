package io.progrpo.world.scene;

import java.util.Objects;
import java.util.Random;

/**
 * A scene's background: dim (every channel in [{@value #MIN_LEVEL}, {@value #MAX_LEVEL}]) so that the saturated
 * objects stand out, in one of three kinds: a solid colour, a linear gradient between two colours along an angle, or
 * a solid colour with a faint texture (two sinusoidal gratings and pixel noise, at most {@value #TEXTURE_AMPLITUDE}
 * away from the base colour).
 *
 * @param from    the colour (SOLID, TEXTURE) or the gradient's start colour
 * @param to      the gradient's end colour (equal to {@code from} for the other kinds)
 * @param angle   the gradient's direction in radians (0: left to right)
 * @param texture seed of the texture's gratings and noise
 */
public record Background(Kind kind, float[] from, float[] to, double angle, long texture) {
    public static final double MIN_LEVEL = 0.02;
    public static final double MAX_LEVEL = 0.30;
    public static final double TEXTURE_AMPLITUDE = 0.04;

    public enum Kind { SOLID, GRADIENT, TEXTURE }

    public Background {
        Objects.requireNonNull(kind, "kind");
        from = check(from, "from");
        to = check(to, "to");
    }

    private static float[] check(float[] c, String what) {
        if (c == null || c.length != 3) throw new IllegalArgumentException("background colour '" + what + "' needs 3 channels, got " + (c == null ? null : c.length));
        return c.clone();
    }

    @Override
    public float[] from() {
        return from.clone();
    }

    @Override
    public float[] to() {
        return to.clone();
    }

    /** A solid background of the given colour. */
    public static Background solid(float r, float g, float b) {
        float[] c = {r, g, b};
        return new Background(Kind.SOLID, c, c, 0, 0);
    }

    /** A random background: each kind with probability 1/3, dim colours. */
    public static Background random(Random rnd) {
        Kind k = Kind.values()[rnd.nextInt(3)];
        float[] a = dim(rnd);
        float[] b = k == Kind.GRADIENT ? dim(rnd) : a;
        return new Background(k, a, b, rnd.nextDouble() * 2 * Math.PI, rnd.nextLong());
    }

    private static float[] dim(Random rnd) {
        float[] c = new float[3];
        for (int i = 0; i < 3; i++) c[i] = (float) (MIN_LEVEL + rnd.nextDouble() * (MAX_LEVEL - MIN_LEVEL));
        return c;
    }

    /** Writes the background into a CHW image of {@code h x w} at {@code offset}. */
    void paint(float[] out, int offset, int h, int w) {
        int plane = h * w;
        double ux = Math.cos(angle);
        double uy = Math.sin(angle);
        // the gradient's parameter runs from 0 to 1 across the image along (ux, uy)
        double lo = Math.min(0, ux) + Math.min(0, uy);
        double span = Math.abs(ux) + Math.abs(uy);
        double[] grating = kind == Kind.TEXTURE ? gratings() : null;
        Random noise = kind == Kind.TEXTURE ? new Random(texture ^ 0x5DEECE66DL) : null;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double px = (x + 0.5) / w;
                double py = (y + 0.5) / h;
                double t = kind == Kind.GRADIENT ? ((px * ux + py * uy) - lo) / span : 0;
                double tex = 0;
                if (grating != null) {
                    tex = 0.4 * TEXTURE_AMPLITUDE * Math.sin(grating[0] * px + grating[1] * py + grating[2])
                            + 0.4 * TEXTURE_AMPLITUDE * Math.sin(grating[3] * px + grating[4] * py + grating[5])
                            + 0.2 * TEXTURE_AMPLITUDE * (noise.nextDouble() * 2 - 1);
                }
                for (int c = 0; c < 3; c++) out[offset + c * plane + y * w + x] = (float) (from[c] + (to[c] - from[c]) * t + tex);
            }
        }
    }

    /** Two gratings: wave vectors of 2 to 6 cycles across the image, and phases. */
    private double[] gratings() {
        Random r = new Random(texture);
        double[] g = new double[6];
        for (int i = 0; i < 2; i++) {
            double theta = r.nextDouble() * Math.PI;
            double k = 2 * Math.PI * (2 + 4 * r.nextDouble());
            g[3 * i] = k * Math.cos(theta);
            g[3 * i + 1] = k * Math.sin(theta);
            g[3 * i + 2] = r.nextDouble() * 2 * Math.PI;
        }
        return g;
    }
}
