package io.progrpo.world.scene;

import java.util.Objects;

/**
 * An object as drawn: its shape and colour, where its area centroid sits and its size, in fractions of the image
 * side (so a scene renders at any resolution), and the RGB it is drawn in (the palette colour with jitter).
 */
public record PlacedObject(SceneColor color, SceneShape shape, double cx, double cy, double size, float[] rgb) {
    public PlacedObject {
        Objects.requireNonNull(color, "color");
        Objects.requireNonNull(shape, "shape");
        if (!(size > 0) || !Double.isFinite(cx) || !Double.isFinite(cy)) {
            throw new IllegalArgumentException("an object needs a finite centre and a positive size, got (" + cx + ", " + cy + ") size " + size);
        }
        if (rgb == null || rgb.length != 3) throw new IllegalArgumentException("an object's rgb needs 3 channels");
        rgb = rgb.clone();
    }

    @Override
    public float[] rgb() {
        return rgb.clone();
    }

    /** This object moved so that its centroid sits at (x, y). */
    public PlacedObject at(double x, double y) {
        return new PlacedObject(color, shape, x, y, size, rgb);
    }

    double left() {
        return cx - 0.5 * size;
    }

    double right() {
        return cx + 0.5 * size;
    }

    double top() {
        return cy - shape.extentUp() * size;
    }

    double bottom() {
        return cy + shape.extentDown() * size;
    }

    /** Whether the bounding boxes of the two objects are at least {@code gap} apart along x or y. */
    boolean separatedFrom(PlacedObject o, double gap) {
        return left() >= o.right() + gap || o.left() >= right() + gap || top() >= o.bottom() + gap || o.top() >= bottom() + gap;
    }

    /** Whether the bounding box lies inside [margin, 1 - margin] on both axes. */
    boolean inside(double margin) {
        return left() >= margin && right() <= 1 - margin && top() >= margin && bottom() <= 1 - margin;
    }
}
