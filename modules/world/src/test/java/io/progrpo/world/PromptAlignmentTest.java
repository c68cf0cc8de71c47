package io.progrpo.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.world.Vocabulary.Color;
import io.progrpo.world.Vocabulary.Position;
import io.progrpo.world.Vocabulary.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class PromptAlignmentTest {
    /** The prompts that differ from p in exactly one attribute: 5 colors + 3 shapes + 4 positions. */
    static List<Prompt> neighbours(Prompt p) {
        List<Prompt> out = new ArrayList<>();
        for (Color c : Color.values()) if (c != p.color()) out.add(p.withColor(c));
        for (Shape s : Shape.values()) if (s != p.shape()) out.add(p.withShape(s));
        for (Position q : Position.values()) if (q != p.position()) out.add(p.withPosition(q));
        return out;
    }

    @Test
    void groundTruthBeatsEveryOneAttributeNeighbourAt16And32() {
        for (int size : new int[] {16, 32}) {
            Renderer r = new Renderer(size, size);
            Random rnd = new Random(100 + size);
            for (Prompt p : PromptSet.all()) {
                PromptAlignment.Details truth = PromptAlignment.details(r.render(p, rnd), size, size, p);
                assertTrue(truth.score() >= 0.8, size + "px " + p + ": ground truth scores " + truth);
                for (Prompt q : neighbours(p)) {
                    double wrong = PromptAlignment.score(r.render(q, rnd), size, size, p);
                    assertTrue(truth.score() > wrong + 0.05, size + "px prompt '" + p + "': rendering of '" + q + "' scores " + wrong
                            + ", ground truth " + truth.score());
                }
            }
        }
    }

    @Test
    void eachPartDropsForItsOwnAttribute() {
        Renderer r = new Renderer();
        Random rnd = new Random(5);
        for (Prompt p : PromptSet.all()) {
            var truth = PromptAlignment.details(r.render(p, rnd), 16, 16, p);
            for (Prompt q : neighbours(p)) {
                var wrong = PromptAlignment.details(r.render(q, rnd), 16, 16, p);
                if (q.color() != p.color()) assertTrue(wrong.color() < truth.color() - 0.5, p + " vs " + q + ": " + wrong);
                if (q.shape() != p.shape()) assertTrue(wrong.shape() < truth.shape() - 0.2, p + " vs " + q + ": " + wrong);
                if (q.position() != p.position()) assertTrue(wrong.position() < truth.position() - 0.2, p + " vs " + q + ": " + wrong);
            }
        }
    }

    @Test
    void noiseAndEmptyImagesScoreLowAndFinite() {
        Random rnd = new Random(9);
        for (int size : new int[] {16, 32}) {
            for (Prompt p : PromptSet.all()) {
                float[] noise = new float[3 * size * size];
                for (int i = 0; i < noise.length; i++) noise[i] = rnd.nextFloat();
                double s = PromptAlignment.score(noise, size, size, p);
                assertTrue(s < 0.3, p + ": noise scores " + s);
                assertEquals(0.0, PromptAlignment.score(new float[3 * size * size], size, size, p), 1e-12, "black image");
                float[] white = new float[3 * size * size];
                java.util.Arrays.fill(white, 1f);
                double w = PromptAlignment.score(white, size, size, p);
                assertTrue(w < 0.1 && Double.isFinite(w), p + ": white image scores " + w);
                float[] nan = new float[3 * size * size];
                java.util.Arrays.fill(nan, Float.NaN);
                assertEquals(0.0, PromptAlignment.score(nan, size, size, p), 1e-12, "NaN image");
            }
        }
    }

    @Test
    void scoreIsContinuousInThePixels() {
        Renderer r = new Renderer();
        Random rnd = new Random(21);
        for (Prompt p : PromptSet.all().subList(0, 40)) {
            float[] img = r.render(p.withShape(Shape.values()[(p.shape().ordinal() + 1) % 4]), rnd);
            double base = PromptAlignment.score(img, 16, 16, p);
            for (int k = 0; k < 20; k++) {
                float[] moved = img.clone();
                int i = rnd.nextInt(img.length);
                moved[i] = Math.clamp(moved[i] + (rnd.nextBoolean() ? 1e-4f : -1e-4f), 0f, 1f);
                assertEquals(base, PromptAlignment.score(moved, 16, 16, p), 2e-3, p + ": a 1e-4 change of pixel " + i + " jumps the score");
            }
        }
    }

    /** Recomputes the color and position parts, in plain doubles, for a hard-edged block on black. */
    @Test
    void colorAndPositionPartsMatchAnIndependentRecomputation() {
        Random rnd = new Random(4);
        for (int trial = 0; trial < 30; trial++) {
            int n = 16;
            Color color = Color.values()[rnd.nextInt(6)];
            Prompt p = new Prompt(Color.values()[rnd.nextInt(6)], Shape.SQUARE, Position.values()[rnd.nextInt(5)]);
            int x0 = 2 + rnd.nextInt(6);
            int y0 = 2 + rnd.nextInt(6);
            int side = 4 + rnd.nextInt(4);
            float[] img = new float[3 * n * n];
            for (int y = y0; y < y0 + side; y++) {
                for (int x = x0; x < x0 + side; x++) {
                    for (int c = 0; c < 3; c++) img[c * n * n + y * n + x] = color.channel(c);
                }
            }
            // weights are exactly 0 or 1: mass = side^2, centroid = block centre, mean chroma = the block's color
            double d0 = 0.42 * n;
            double conf = Math.min(1, side * side / (0.3 * d0 * d0));
            double[] dist = new double[6];
            double z = 0;
            for (Color k : Color.values()) {
                double d = 0;
                for (int c = 0; c < 3; c++) d += Math.pow(color.channel(c) - k.channel(c), 2);
                dist[k.ordinal()] = d;
                z += Math.exp(-d / 0.05);
            }
            double expectColor = conf * Math.exp(-dist[p.color().ordinal()] / 0.2) * Math.exp(-dist[p.color().ordinal()] / 0.05) / z;
            double cx = x0 + side / 2.0;
            double cy = y0 + side / 2.0;
            double delta = Math.hypot(cx - p.position().x() * n, cy - p.position().y() * n) / n;
            double spread = Math.sqrt(2 * (side * side - 1) / 12.0) / n; // discrete uniform over side pixels, both axes
            double squareSpread = Math.sqrt(2 / 12.0) * 0.42;
            double conc = Math.pow(Math.min(1, 1.4 * squareSpread / spread), 2);
            double ex = Math.max(0, delta - 0.07);
            double expectPosition = conf * Math.exp(-ex * ex / (2 * 0.06 * 0.06)) * conc;
            var got = PromptAlignment.details(img, n, n, p);
            assertEquals(expectColor, got.color(), 1e-6, "color part, trial " + trial);
            assertEquals(expectPosition, got.position(), 2e-3, "position part, trial " + trial); // spread of the square from a grid
            assertEquals((got.color() + got.position() + got.shape()) / 3, got.score(), 1e-12);
        }
    }

    @Test
    void badImageSizeIsRejectedWithTheSizes() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> PromptAlignment.score(new float[100], 16, 16, PromptSet.all().getFirst()));
        assertTrue(e.getMessage().contains("768") && e.getMessage().contains("100"), e.getMessage());
    }
}
