package io.progrpo.world;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The words of the embedded benchmark world: 6 colors x 4 shapes x 5 positions = 120 prompts.
 *
 * <p>Geometry is in image-relative units: a position is where the object's (area) centre sits, as a fraction of the
 * image width and height; {@link #OBJECT_SIZE} is the nominal extent of an object's bounding box as a fraction of the
 * image side.
 */
public final class Vocabulary {
    /** Nominal object extent as a fraction of the image side (the world draws objects at about 40-50% of it). */
    public static final double OBJECT_SIZE = 0.42;

    private Vocabulary() {
    }

    /** Object colors, each a saturated RGB primary or secondary so that hue alone tells them apart. */
    public enum Color {
        RED(1, 0, 0), GREEN(0, 1, 0), BLUE(0, 0, 1), YELLOW(1, 1, 0), MAGENTA(1, 0, 1), CYAN(0, 1, 1);

        private final float r;
        private final float g;
        private final float b;

        Color(float r, float g, float b) {
            this.r = r;
            this.g = g;
            this.b = b;
        }

        /** The color's RGB values in [0,1] (a copy). */
        public float[] rgb() {
            return new float[] {r, g, b};
        }

        /** Channel {@code c} (0 = R, 1 = G, 2 = B). */
        public float channel(int c) {
            return switch (c) {
                case 0 -> r;
                case 1 -> g;
                case 2 -> b;
                default -> throw new IndexOutOfBoundsException("channel " + c + " not in [0, 3)");
            };
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Object shapes. Each is defined in units of the object size d, centred on its area centroid, with a d x d
     * bounding box: a disc of diameter d, a square of side d, an upward isosceles triangle of base and height d, a
     * plus-shaped cross of arm width d/3.
     */
    public enum Shape {
        CIRCLE(Math.PI / 4), SQUARE(1.0), TRIANGLE(0.5), CROSS(5.0 / 9.0);

        private final double areaFactor;

        Shape(double areaFactor) {
            this.areaFactor = areaFactor;
        }

        /** Area of the shape of size d is {@code areaFactor() * d * d}. */
        public double areaFactor() {
            return areaFactor;
        }

        /**
         * Whether the point (u, v), in units of the object size relative to the shape's centroid (v grows downwards),
         * lies inside the shape.
         */
        public boolean contains(double u, double v) {
            return signedDistance(u, v) <= 0;
        }

        /**
         * A signed distance from (u, v) to the shape's outline, in units of the object size: negative inside. Exact for
         * the circle, the max/min of edge distances for the polygons (exact inside, a lower bound outside), which is
         * all the anti-aliasing needs: it is continuous in u and v.
         */
        public double signedDistance(double u, double v) {
            return switch (this) {
                case CIRCLE -> Math.sqrt(u * u + v * v) - 0.5;
                case SQUARE -> Math.max(Math.abs(u), Math.abs(v)) - 0.5;
                // apex (0, -2/3), base corners (+-1/2, 1/3): the centroid of a triangle sits at a third of its height
                case TRIANGLE -> Math.max(v - 1.0 / 3.0, (Math.abs(u) - 0.5 * (v + 2.0 / 3.0)) / Math.sqrt(1.25));
                case CROSS -> Math.min(Math.max(Math.abs(u) - 1.0 / 6.0, Math.abs(v) - 0.5),
                        Math.max(Math.abs(u) - 0.5, Math.abs(v) - 1.0 / 6.0));
            };
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where the object's centre sits, as fractions (x, y) of the image width and height. */
    public enum Position {
        LEFT(0.28, 0.5), RIGHT(0.72, 0.5), TOP(0.5, 0.28), BOTTOM(0.5, 0.72), CENTER(0.5, 0.5);

        private final double x;
        private final double y;

        Position(double x, double y) {
            this.x = x;
            this.y = y;
        }

        public double x() {
            return x;
        }

        public double y() {
            return y;
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static List<Color> colors() {
        return List.of(Color.values());
    }

    public static List<Shape> shapes() {
        return List.of(Shape.values());
    }

    public static List<Position> positions() {
        return List.of(Position.values());
    }

    /** Every vocabulary word: colors, then shapes, then positions. */
    public static List<String> words() {
        return java.util.stream.Stream.of(Color.values(), Shape.values(), Position.values())
                .flatMap(Arrays::stream)
                .map(e -> e.name().toLowerCase(Locale.ROOT))
                .toList();
    }

    public static Optional<Color> color(String word) {
        return find(Color.class, word);
    }

    public static Optional<Shape> shape(String word) {
        return find(Shape.class, word);
    }

    public static Optional<Position> position(String word) {
        return find(Position.class, word);
    }

    private static <E extends Enum<E>> Optional<E> find(Class<E> type, String word) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(word)) return Optional.of(e);
        }
        return Optional.empty();
    }

    /** "colors [red, ...], shapes [...], positions [...]" for error messages. */
    public static String describe() {
        return "colors " + colors().stream().map(Color::word).toList()
                + ", shapes " + shapes().stream().map(Shape::word).toList()
                + ", positions " + positions().stream().map(Position::word).toList();
    }
}
