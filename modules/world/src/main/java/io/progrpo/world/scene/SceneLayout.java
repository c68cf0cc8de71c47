package io.progrpo.world.scene;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Draws a random scene that satisfies a prompt, so that each prompt has many valid images. Geometry is in fractions
 * of the image side; every object's bounding box stays {@value #MARGIN} inside the image and at least {@value #GAP}
 * from every other object's (so objects never touch and the evaluator sees them apart).
 * <ul>
 *   <li>single_object, colors: size U[0.30, 0.42], anywhere; a single_object prompt's colour is drawn uniformly;</li>
 *   <li>position: size U[0.28, 0.36], centroid at the position's anchor +-{@value #POSITION_JITTER} per axis;</li>
 *   <li>two_object: sizes U[0.24, 0.32], anywhere apart;</li>
 *   <li>relation: sizes U[0.24, 0.30], the offset from the subject to the other object U[0.32, 0.50] along the
 *       relation's axis and U[-0.10, 0.10] across it;</li>
 *   <li>counting: n objects of size U[s - 0.05, s], s = 0.28, 0.25, 0.22 for n = 2, 3, 4, anywhere apart.</li>
 * </ul>
 * Colours get +-{@value #COLOR_JITTER} per channel; the background is {@link Background#random}.
 */
public final class SceneLayout {
    public static final double MARGIN = 0.07;
    public static final double GAP = 0.05;
    public static final double POSITION_JITTER = 0.05;
    public static final double COLOR_JITTER = 0.05;
    private static final int TRIES = 400;

    private SceneLayout() {
    }

    /** A random scene of the prompt on a random background. */
    public static Scene sample(ScenePrompt p, Random rnd) {
        Background bg = Background.random(rnd);
        return new Scene(bg, objects(p, rnd), rnd.nextLong());
    }

    /** Random objects that satisfy the prompt (no background). */
    public static List<PlacedObject> objects(ScenePrompt p, Random rnd) {
        double shrink = 1;
        for (int round = 0; ; round++) {
            List<PlacedObject> out = tryObjects(p, rnd, shrink);
            if (out != null) return out;
            shrink *= 0.9;
            if (round > 20) throw new IllegalStateException("cannot lay out '" + p.text() + "' (sizes shrunk to " + shrink + ")");
        }
    }

    private static List<PlacedObject> tryObjects(ScenePrompt p, Random rnd, double shrink) {
        return switch (p.category()) {
            case SINGLE_OBJECT, COLORS -> {
                PlacedObject o = draw(p.first(), uniform(rnd, 0.30, 0.42) * shrink, rnd);
                yield List.of(anywhere(o, rnd));
            }
            case POSITION -> {
                PlacedObject o = draw(p.first(), uniform(rnd, 0.28, 0.36) * shrink, rnd);
                double x = p.position().x() + uniform(rnd, -POSITION_JITTER, POSITION_JITTER);
                double y = p.position().y() + uniform(rnd, -POSITION_JITTER, POSITION_JITTER);
                yield List.of(clampInside(o.at(x, y)));
            }
            case TWO_OBJECT -> apart(List.of(draw(p.first(), uniform(rnd, 0.24, 0.32) * shrink, rnd),
                    draw(p.second(), uniform(rnd, 0.24, 0.32) * shrink, rnd)), rnd);
            case RELATION -> related(p, rnd, shrink);
            case COUNTING -> {
                double s = 0.28 - 0.03 * (p.count() - 2);
                List<PlacedObject> os = new ArrayList<>();
                for (int i = 0; i < p.count(); i++) os.add(draw(p.first(), uniform(rnd, s - 0.05, s) * shrink, rnd));
                yield apart(os, rnd);
            }
        };
    }

    private static List<PlacedObject> related(ScenePrompt p, Random rnd, double shrink) {
        PlacedObject a = draw(p.first(), uniform(rnd, 0.24, 0.30) * shrink, rnd);
        PlacedObject b = draw(p.second(), uniform(rnd, 0.24, 0.30) * shrink, rnd);
        for (int t = 0; t < TRIES; t++) {
            double along = uniform(rnd, 0.32, 0.50);
            double across = uniform(rnd, -0.10, 0.10);
            double dx = switch (p.relation()) {
                case LEFT_OF -> along;
                case RIGHT_OF -> -along;
                default -> across;
            };
            double dy = switch (p.relation()) {
                case ABOVE -> along;
                case BELOW -> -along;
                default -> across;
            };
            PlacedObject a1 = anywhere(a, rnd);
            PlacedObject b1 = b.at(a1.cx() + dx, a1.cy() + dy);
            if (b1.inside(MARGIN) && a1.separatedFrom(b1, GAP)) return List.of(a1, b1);
        }
        return null;
    }

    /** The objects placed uniformly at random, pairwise apart; null when the tries run out. */
    private static List<PlacedObject> apart(List<PlacedObject> os, Random rnd) {
        for (int t = 0; t < TRIES; t++) {
            List<PlacedObject> placed = new ArrayList<>();
            boolean ok = true;
            for (PlacedObject o : os) {
                PlacedObject q = anywhere(o, rnd);
                for (PlacedObject other : placed) ok &= q.separatedFrom(other, GAP);
                if (!ok) break;
                placed.add(q);
            }
            if (ok) return placed;
        }
        return null;
    }

    /** The object with its centroid drawn uniformly where its box fits inside the margins. */
    private static PlacedObject anywhere(PlacedObject o, Random rnd) {
        double s = o.size();
        double x = uniform(rnd, MARGIN + 0.5 * s, 1 - MARGIN - 0.5 * s);
        double y = uniform(rnd, MARGIN + o.shape().extentUp() * s, 1 - MARGIN - o.shape().extentDown() * s);
        return o.at(x, y);
    }

    private static PlacedObject clampInside(PlacedObject o) {
        double s = o.size();
        double x = Math.max(MARGIN + 0.5 * s, Math.min(1 - MARGIN - 0.5 * s, o.cx()));
        double y = Math.max(MARGIN + o.shape().extentUp() * s, Math.min(1 - MARGIN - o.shape().extentDown() * s, o.cy()));
        return o.at(x, y);
    }

    /** The spec's object with a jittered colour (a uniform palette colour when the spec names none), at (0.5, 0.5). */
    private static PlacedObject draw(ObjectSpec spec, double size, Random rnd) {
        SceneColor c = spec.color() != null ? spec.color() : SceneColor.values()[rnd.nextInt(SceneColor.values().length)];
        float[] rgb = c.rgb();
        for (int i = 0; i < 3; i++) rgb[i] = (float) Math.max(0, Math.min(1, rgb[i] + uniform(rnd, -COLOR_JITTER, COLOR_JITTER)));
        return new PlacedObject(c, spec.shape(), 0.5, 0.5, size, rgb);
    }

    private static double uniform(Random rnd, double lo, double hi) {
        return lo + rnd.nextDouble() * (hi - lo);
    }
}
