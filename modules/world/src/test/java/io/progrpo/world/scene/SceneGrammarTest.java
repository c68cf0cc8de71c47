package io.progrpo.world.scene;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SceneGrammarTest {
    @Test
    void grammarHasThousandsOfDistinctPromptsInEveryCategory() {
        Map<Category, Integer> want = new EnumMap<>(Map.of(Category.SINGLE_OBJECT, 4, Category.COLORS, 28, Category.POSITION, 140,
                Category.TWO_OBJECT, 756, Category.RELATION, 3024, Category.COUNTING, 84));
        for (Category c : Category.values()) assertEquals(want.get(c), SceneGrammar.of(c).size(), c.key());
        List<ScenePrompt> all = SceneGrammar.all();
        assertEquals(4036, all.size());
        Set<String> texts = new HashSet<>();
        for (ScenePrompt p : all) assertTrue(texts.add(p.text()), "duplicate text " + p.text());
    }

    @Test
    void parseReadsBackEveryPromptAndNamesWhatIsWrong() {
        for (ScenePrompt p : SceneGrammar.all()) assertEquals(p, ScenePrompt.parse(p.text()), p.text());
        assertEquals(ScenePrompt.counting(3, SceneColor.GREEN, SceneShape.CROSS), ScenePrompt.parse("Three GREEN crosses."));
        assertEquals("an orange circle left of a blue square",
                ScenePrompt.related(new ObjectSpec(SceneColor.ORANGE, SceneShape.CIRCLE), Relation.LEFT_OF,
                        new ObjectSpec(SceneColor.BLUE, SceneShape.SQUARE)).text());
        String[][] bad = {
                {"", "no words"}, {"a red", "expected a shape"}, {"a red blob", "'blob' is not a shape"},
                {"a circle at the left", "only a lone object"}, {"a red circle at the middle", "'middle' is not a position"},
                {"a red circle near a blue square", "got 'near'"}, {"two red circle", "not a plural shape"},
                {"five red circles", "expected 'a' or 'an'"}, {"a red circle and a square", "second object needs a colour"},
                {"a red circle and a red circle", "two different objects"}, {"a red circle and a blue square now", "unexpected words"}};
        for (String[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScenePrompt.parse(b[0]), b[0]);
            assertTrue(e.getMessage().contains(b[1]) && e.getMessage().contains("'" + b[0] + "'"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ScenePrompt.counting(5, SceneColor.RED, SceneShape.CIRCLE));
    }

    @Test
    void splitHoldsOutUnseenCombinationsOfSeenWordsAndIsDeterministic() {
        for (long seed : new long[] {0, 7, 123}) {
            SceneSplit s = SceneSplit.of(seed);
            assertEquals(s.train(), SceneSplit.of(seed).train());
            assertEquals(SceneGrammar.all().size(), s.train().size() + s.heldOut().size());
            assertEquals(SceneSplit.HELD_OUT_PAIRS, s.heldOutPairs().size());
            assertEquals(2 * SceneSplit.HELD_OUT_ARRANGEMENTS, s.heldOutArrangements().size());
            assertTrue(s.heldOut().size() > 500 && s.train().size() > 2000, s.heldOut().size() + " held out");
            Set<String> trainWords = new HashSet<>();
            Set<ObjectSpec> trainPairs = new HashSet<>();
            Set<SceneSplit.Arrangement> trainArr = new HashSet<>();
            for (ScenePrompt p : s.train()) {
                trainWords.addAll(List.of(p.text().split(" ")));
                for (ObjectSpec o : p.objects()) if (o.color() != null) trainPairs.add(o);
                if (p.category() == Category.RELATION) trainArr.add(new SceneSplit.Arrangement(p.first().shape(), p.relation(), p.second().shape()));
            }
            for (String w : SceneTokenizer.words()) {
                assertTrue(trainWords.contains(w), "word '" + w + "' unseen in training");
            }
            for (ObjectSpec o : s.heldOutPairs()) assertFalse(trainPairs.contains(o), o + " seen in training");
            for (SceneSplit.Arrangement a : s.heldOutArrangements()) {
                assertFalse(trainArr.contains(a), a + " seen in training");
                assertTrue(s.heldOutArrangements().contains(a.converse()));
            }
            for (ScenePrompt p : s.heldOut()) assertTrue(s.isHeldOut(p));
            for (Category c : Category.values()) {
                assertFalse(s.train(c).isEmpty(), c.key());
                if (c != Category.SINGLE_OBJECT) assertFalse(s.heldOut(c).isEmpty(), c.key());
            }
            List<ScenePrompt> eval = s.evalPrompts(10);
            int want = 0;
            for (Category c : Category.values()) want += Math.min(10, c == Category.SINGLE_OBJECT ? 4 : s.heldOut(c).size());
            assertEquals(want, eval.size());
            assertEquals(SceneSplit.HELD_OUT_PAIRS, s.heldOut(Category.COLORS).size());
            assertEquals(eval, s.evalPrompts(10));
            for (ScenePrompt p : eval) assertTrue(p.category() == Category.SINGLE_OBJECT || s.isHeldOut(p), p.text());
        }
        assertNotEquals(SceneSplit.of(1).heldOut(), SceneSplit.of(2).heldOut());
    }

    @Test
    void drawTrainIsCategoryBalancedAndOnlyTrain() {
        SceneSplit s = SceneSplit.of(7);
        Random rnd = new Random(3);
        int[] n = new int[Category.values().length];
        Set<ScenePrompt> train = new HashSet<>(s.train());
        for (int i = 0; i < 6000; i++) {
            ScenePrompt p = s.drawTrain(rnd);
            assertTrue(train.contains(p));
            n[p.category().ordinal()]++;
        }
        for (int k : n) assertTrue(k > 850 && k < 1150, "category draws " + java.util.Arrays.toString(n));
    }

    @Test
    void neighboursDifferInOneAttributeAndAreValid() {
        for (ScenePrompt p : SceneGrammar.all()) {
            List<Neighbours.Neighbour> ns = Neighbours.of(p);
            assertFalse(ns.isEmpty());
            for (Neighbours.Neighbour n : ns) {
                ScenePrompt q = n.prompt();
                assertNotEquals(p, q);
                assertEquals(p.category(), q.category());
                int diff = 0;
                for (int i = 0; i < p.objects().size(); i++) {
                    if (p.objects().get(i).color() != q.objects().get(i).color()) diff++;
                    if (p.objects().get(i).shape() != q.objects().get(i).shape()) diff++;
                }
                if (p.position() != q.position()) diff++;
                if (p.relation() != q.relation()) diff++;
                if (p.count() != q.count()) diff++;
                assertEquals(1, diff, p + " -> " + q);
            }
        }
        ScenePrompt rel = ScenePrompt.parse("a red circle left of a blue square");
        assertTrue(Neighbours.of(rel).stream().anyMatch(n -> n.prompt().text().equals("a red circle right of a blue square")));
    }
}
