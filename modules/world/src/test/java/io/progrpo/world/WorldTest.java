package io.progrpo.world;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.world.Vocabulary.Color;
import io.progrpo.world.Vocabulary.Position;
import io.progrpo.world.Vocabulary.Shape;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class WorldTest {
    @Test
    void vocabularyHas120DistinctPrompts() {
        assertEquals(6, Vocabulary.colors().size());
        assertEquals(4, Vocabulary.shapes().size());
        assertEquals(5, Vocabulary.positions().size());
        assertEquals(15, Vocabulary.words().size());
        List<Prompt> all = PromptSet.all();
        assertEquals(120, all.size());
        assertEquals(120, new HashSet<>(all.stream().map(Prompt::text).toList()).size());
        assertEquals("a red circle at the left", new Prompt(Color.RED, Shape.CIRCLE, Position.LEFT).text());
    }

    @Test
    void parseReadsBackEveryTextAndToleratesCaseAndOrder() {
        for (Prompt p : PromptSet.all()) assertEquals(p, Prompt.parse(p.text()));
        assertEquals(new Prompt(Color.CYAN, Shape.CROSS, Position.TOP), Prompt.parse("  A Cyan CROSS, at the top."));
        assertEquals(new Prompt(Color.BLUE, Shape.SQUARE, Position.CENTER), Prompt.parse("center blue square"));
    }

    @Test
    void parseErrorsNameTheWordAndListTheVocabulary() {
        var e = assertThrows(IllegalArgumentException.class, () -> Prompt.parse("a purple circle at the left"));
        assertTrue(e.getMessage().contains("'purple'"), e.getMessage());
        assertTrue(e.getMessage().contains("magenta") && e.getMessage().contains("triangle") && e.getMessage().contains("bottom"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Prompt.parse("a red circle"));
        assertTrue(e.getMessage().contains("no position"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Prompt.parse("a red blue circle at the left"));
        assertTrue(e.getMessage().contains("'red' and 'blue'"), e.getMessage());
    }

    @Test
    void splitIsDeterministicDisjointAndKeepsEveryWordInTraining() {
        PromptSet a = PromptSet.split(7);
        PromptSet b = PromptSet.split(7);
        assertEquals(a.train(), b.train());
        assertEquals(a.heldOut(), b.heldOut());
        assertEquals(24, a.heldOut().size());
        assertEquals(96, a.train().size());
        Set<Prompt> union = new HashSet<>(a.train());
        union.addAll(a.heldOut());
        assertEquals(120, union.size());
        assertTrue(a.train().stream().noneMatch(a.heldOut()::contains));
        for (long seed = 0; seed < 50; seed++) {
            PromptSet s = PromptSet.split(seed);
            EnumSet<Color> colors = EnumSet.noneOf(Color.class);
            EnumSet<Shape> shapes = EnumSet.noneOf(Shape.class);
            EnumSet<Position> positions = EnumSet.noneOf(Position.class);
            for (Prompt p : s.train()) {
                colors.add(p.color());
                shapes.add(p.shape());
                positions.add(p.position());
            }
            assertEquals(EnumSet.allOf(Color.class), colors);
            assertEquals(EnumSet.allOf(Shape.class), shapes);
            assertEquals(EnumSet.allOf(Position.class), positions);
        }
        assertNotEquals(PromptSet.split(1).heldOut(), PromptSet.split(2).heldOut());
        var e = assertThrows(IllegalArgumentException.class, () -> PromptSet.split(1, 0.9));
        assertTrue(e.getMessage().contains("0.9"), e.getMessage());
    }

    @Test
    void tokenizerHasFixedIdsAndRoundTrips() {
        assertEquals(16, Tokenizer.vocabularySize());
        Set<List<Long>> seen = new HashSet<>();
        for (Prompt p : PromptSet.all()) {
            long[] ids = Tokenizer.encode(p);
            assertEquals(Tokenizer.SEQUENCE_LENGTH, ids.length);
            for (long id : ids) assertTrue(id > Tokenizer.PAD && id < Tokenizer.vocabularySize());
            assertEquals(p, Tokenizer.decode(ids));
            assertArrayEquals(ids, Tokenizer.encode(p.text()));
            assertEquals(p.color().word(), Tokenizer.word(ids[0]));
            assertEquals(p.shape().word(), Tokenizer.word(ids[1]));
            assertEquals(p.position().word(), Tokenizer.word(ids[2]));
            seen.add(List.of(ids[0], ids[1], ids[2]));
        }
        assertEquals(120, seen.size());
        assertArrayEquals(new long[] {1, 7, 11}, Tokenizer.encode(PromptSet.all().getFirst()));
        assertEquals(120 * 3, Tokenizer.encode(PromptSet.all()).length);
        var e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.id("purple"));
        assertTrue(e.getMessage().contains("purple"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.decode(new long[] {7, 7, 11}));
        assertTrue(e.getMessage().contains("7 is not a color"), e.getMessage());
    }

    @Test
    void rendererDrawsTheObjectWhereThePromptSays() {
        for (int size : new int[] {16, 32}) {
            Renderer r = new Renderer(size, size);
            Random rnd = new Random(3);
            for (Prompt p : PromptSet.all()) {
                float[] img = r.render(p, rnd);
                assertEquals(3 * size * size, img.length);
                double mass = 0;
                double sx = 0;
                double sy = 0;
                double[] channelSum = new double[3];
                int plane = size * size;
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        double m = 0;
                        for (int c = 0; c < 3; c++) {
                            float v = img[c * plane + y * size + x];
                            assertTrue(v >= 0 && v <= 1, "pixel value " + v);
                            m = Math.max(m, v);
                            channelSum[c] += v;
                        }
                        mass += m;
                        sx += m * (x + 0.5);
                        sy += m * (y + 0.5);
                    }
                }
                // area of the object: 40-50% of the side, +-10% size jitter, color jitter up to 6%
                double d = Vocabulary.OBJECT_SIZE * size;
                double area = p.shape().areaFactor() * d * d;
                assertTrue(mass > 0.65 * area && mass < 1.3 * area, p + ": mass " + mass + " vs area " + area);
                assertEquals(p.position().x() * size, sx / mass, 0.1 * size, p + " centroid x");
                assertEquals(p.position().y() * size, sy / mass, 0.1 * size, p + " centroid y");
                for (int c = 0; c < 3; c++) {
                    if (p.color().channel(c) == 0) assertTrue(channelSum[c] < 0.1 * mass, p + " channel " + c + " should be dark");
                    else assertTrue(channelSum[c] > 0.8 * mass, p + " channel " + c + " should be lit");
                }
            }
        }
        assertEquals(0f, new Renderer().renderExact(PromptSet.all().getFirst())[0], "corner is background");
    }

    @Test
    void renderBatchIsDeterministicInTheSeed() {
        Renderer r = new Renderer();
        List<Prompt> ps = PromptSet.all().subList(0, 10);
        float[] a = r.renderBatch(ps, 11);
        assertEquals(10 * 3 * 16 * 16, a.length);
        assertArrayEquals(a, r.renderBatch(ps, 11));
        assertTrue(!java.util.Arrays.equals(a, r.renderBatch(ps, 12)));
        // image i of the batch is the i-th render of one Random stream
        Random rnd = new Random(11);
        float[] first = r.render(ps.get(0), rnd);
        assertArrayEquals(first, java.util.Arrays.copyOfRange(a, 0, first.length));
        var e = assertThrows(IllegalArgumentException.class, () -> new Renderer(4, 16));
        assertTrue(e.getMessage().contains("4 x 16"), e.getMessage());
    }
}
