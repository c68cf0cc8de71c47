package io.progrpo.world.scene;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class SceneRendererTest {
    @Test
    void layoutsSatisfyTheirPromptsForEveryPrompt() {
        Random rnd = new Random(11);
        for (ScenePrompt p : SceneGrammar.all()) {
            Scene s = SceneLayout.sample(p, rnd);
            List<PlacedObject> os = s.objects();
            assertEquals(p.objectCount(), os.size(), p.text());
            for (int i = 0; i < os.size(); i++) {
                PlacedObject o = os.get(i);
                ObjectSpec spec = p.category() == Category.COUNTING ? p.first() : p.objects().get(i);
                assertEquals(spec.shape(), o.shape());
                if (spec.color() != null) assertEquals(spec.color(), o.color());
                assertTrue(o.inside(SceneLayout.MARGIN - 1e-12), p + ": " + o);
                for (int j = 0; j < i; j++) assertTrue(o.separatedFrom(os.get(j), SceneLayout.GAP - 1e-12), p + ": objects touch");
                float[] rgb = o.rgb();
                float[] pal = o.color().rgb();
                for (int c = 0; c < 3; c++) assertTrue(Math.abs(rgb[c] - pal[c]) <= SceneLayout.COLOR_JITTER + 1e-6);
            }
            if (p.category() == Category.POSITION) assertTrue(p.position().margin(os.get(0).cx(), os.get(0).cy()) > 0.04, p + ": " + os);
            if (p.category() == Category.RELATION) {
                assertTrue(p.relation().margin(os.get(0).cx(), os.get(0).cy(), os.get(1).cx(), os.get(1).cy()) > 0.15, p + ": " + os);
            }
        }
    }

    @Test
    void renderingIsDeterministicInTheSeedAndVaries() {
        SceneRenderer r = new SceneRenderer();
        List<ScenePrompt> ps = SceneSplit.of(7).evalPrompts(3);
        float[] a = r.renderBatch(ps, 5);
        assertArrayEquals(a, r.renderBatch(ps, 5));
        assertFalse(java.util.Arrays.equals(a, r.renderBatch(ps, 6)));
        assertEquals(ps.size() * 3 * 32 * 32, a.length);
        for (float v : a) assertTrue(v >= 0 && v <= 1 && Float.isFinite(v));
        Random rnd = new Random(1);
        ScenePrompt p = ScenePrompt.parse("a red circle");
        float[] x = r.render(p, rnd);
        float[] y = r.render(p, rnd);
        assertFalse(java.util.Arrays.equals(x, y), "two samples of one prompt are equal");
    }

    @Test
    void coverageIntegratesToTheShapesAreaAndIsAntiAliased() {
        // independent check: the summed pixel coverage of each shape equals its analytic area (areaFactor d^2)
        Random rnd = new Random(2);
        for (SceneShape s : SceneShape.values()) {
            for (int k = 0; k < 20; k++) {
                double d = 8 + 10 * rnd.nextDouble();
                double cx = 20 + rnd.nextDouble();
                double cy = 20 + rnd.nextDouble();
                double sum = 0;
                int partial = 0;
                for (int y = 0; y < 40; y++) {
                    for (int x = 0; x < 40; x++) {
                        double c = s.coverage(x, y, cx, cy, d);
                        sum += c;
                        if (c > 0.05 && c < 0.95) partial++;
                    }
                }
                double area = s.areaFactor() * d * d;
                // the polygons' outside distance is a lower bound at corners: allow 6% plus one pixel per corner
                assertEquals(area, sum, 0.06 * area + 4, s + " d " + d);
                assertTrue(partial > 4, s + ": no anti-aliased edge pixels");
            }
        }
    }

    @Test
    void backgroundsAreDimAndGradientsFollowTheirFormula() {
        Random rnd = new Random(4);
        SceneRenderer r = new SceneRenderer(40);
        int n = 40;
        for (int k = 0; k < 30; k++) {
            Background bg = Background.random(rnd);
            float[] img = r.render(new Scene(bg, List.of(), 0));
            float[] from = bg.from();
            float[] to = bg.to();
            double ux = Math.cos(bg.angle());
            double uy = Math.sin(bg.angle());
            // recompute the gradient: t = projection on (ux, uy), rescaled so that the image's corners span [0, 1]
            double[] corners = {0, ux, uy, ux + uy};
            double lo = java.util.Arrays.stream(corners).min().orElseThrow();
            double hi = java.util.Arrays.stream(corners).max().orElseThrow();
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < n; y++) {
                    for (int x = 0; x < n; x++) {
                        double v = img[(c * n + y) * n + x];
                        assertTrue(v >= 0 && v <= Background.MAX_LEVEL + Background.TEXTURE_AMPLITUDE + 1e-6);
                        double t = ((x + 0.5) / n * ux + (y + 0.5) / n * uy - lo) / (hi - lo);
                        double want = switch (bg.kind()) {
                            case SOLID -> from[c];
                            case GRADIENT -> from[c] + (to[c] - from[c]) * t;
                            case TEXTURE -> from[c];
                        };
                        double tol = bg.kind() == Background.Kind.TEXTURE ? Background.TEXTURE_AMPLITUDE + 1e-6 : 1e-5;
                        assertEquals(want, v, tol, bg.kind() + " at " + x + "," + y);
                    }
                }
            }
        }
    }

    @Test
    void objectsAreDrawnInTheirColourOverTheBackground() {
        SceneRenderer r = new SceneRenderer(32);
        PlacedObject o = new PlacedObject(SceneColor.BLUE, SceneShape.SQUARE, 0.5, 0.5, 0.4, SceneColor.BLUE.rgb());
        float[] img = r.render(new Scene(Background.solid(0.1f, 0.1f, 0.1f), List.of(o), 3));
        float[] blue = SceneColor.BLUE.rgb();
        for (int c = 0; c < 3; c++) {
            assertEquals(blue[c], img[(c * 32 + 16) * 32 + 16], SceneRenderer.PIXEL_NOISE + 1e-6);
            assertEquals(0.1, img[(c * 32 + 1) * 32 + 1], 1e-6);
        }
    }

    @Test
    void largerSizesWorkAndSmallerOnesAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SceneRenderer(16));
        assertTrue(e.getMessage().contains("at least 32") && e.getMessage().contains("16"), e.getMessage());
        SceneRenderer r = new SceneRenderer(48);
        List<ScenePrompt> ps = new ArrayList<>(SceneGrammar.of(Category.COUNTING).subList(0, 4));
        try (Scope scope = Scope.open()) {
            Tensor t = r.batch(ps, 1);
            assertArrayEquals(new long[] {4, 3, 48, 48}, t.shape());
        }
    }
}
