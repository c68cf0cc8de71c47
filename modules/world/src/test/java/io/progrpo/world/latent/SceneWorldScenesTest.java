package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.world.model.WorldModel;
import io.progrpo.world.scene.Category;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The scene world as the latent world's scene source, and the default latent config it gives. */
@ExtendWith(SingleThreadedTorch.class)
class SceneWorldScenesTest {
    static final SceneWorldScenes SCENES = new SceneWorldScenes();

    @Test
    void trainsOnTheSplitsTrainPromptsAndEvaluatesOnItsEvaluationList() {
        assertEquals(SCENES.split().train().size(), SCENES.trainPrompts().size());
        Set<String> train = new HashSet<>(SCENES.trainPrompts());
        Set<String> heldOut = new HashSet<>();
        SCENES.split().heldOut().forEach(p -> heldOut.add(p.text()));
        assertTrue(train.stream().noneMatch(heldOut::contains), "no held-out prompt is a training prompt");
        List<String> eval = SCENES.heldOutPrompts();
        Map<Category, Integer> perCategory = new EnumMap<>(Category.class);
        for (String p : eval) {
            ScenePrompt sp = ScenePrompt.parse(p);
            perCategory.merge(sp.category(), 1, Integer::sum);
            if (sp.category() != Category.SINGLE_OBJECT) assertTrue(heldOut.contains(p), p + " is held out");
        }
        assertEquals(Category.values().length, perCategory.size(), "every category is evaluated: " + perCategory);
        perCategory.values().forEach(n -> assertTrue(n >= 1 && n <= SceneWorldScenes.EVAL_PER_CATEGORY, perCategory.toString()));
    }

    @Test
    void everyPrefixOfTheEvaluationListCoversTheCategoriesEvenly() {
        List<String> eval = SCENES.heldOutPrompts();
        assertEquals(new HashSet<>(SCENES.split().evalPrompts(SceneWorldScenes.EVAL_PER_CATEGORY).stream().map(ScenePrompt::text).toList()),
                new HashSet<>(eval), "the same prompts, reordered");
        Map<Category, Integer> total = new EnumMap<>(Category.class);
        for (String p : eval) total.merge(ScenePrompt.parse(p).category(), 1, Integer::sum);
        for (int n = 1; n <= eval.size(); n++) {
            Map<Category, Integer> seen = new EnumMap<>(Category.class);
            for (String p : eval.subList(0, n)) seen.merge(ScenePrompt.parse(p).category(), 1, Integer::sum);
            // round-robin: while a category has prompts left, no two categories differ by more than one
            int lo = Integer.MAX_VALUE;
            for (Category c : total.keySet()) {
                int k = seen.getOrDefault(c, 0);
                if (k < total.get(c)) lo = Math.min(lo, k);
            }
            for (Category c : total.keySet()) {
                int k = seen.getOrDefault(c, 0);
                if (lo != Integer.MAX_VALUE) assertTrue(k <= lo + 1, "prefix " + n + ": " + seen);
            }
        }
    }

    @Test
    void drawsTrainingPromptsCategoryBalanced() {
        Random rnd = new Random(1);
        Map<Category, Integer> n = new EnumMap<>(Category.class);
        Set<String> train = new HashSet<>(SCENES.trainPrompts());
        int draws = 6000;
        for (int i = 0; i < draws; i++) {
            String p = SCENES.drawTrainPrompt(rnd);
            assertTrue(train.contains(p), p);
            n.merge(ScenePrompt.parse(p).category(), 1, Integer::sum);
        }
        for (Category c : Category.values()) {
            double share = n.getOrDefault(c, 0) / (double) draws;
            assertEquals(1.0 / Category.values().length, share, 0.03, c + " drawn " + share);
        }
    }

    @Test
    void tokenizesAndRendersAsTheSceneWorldDoes() {
        String p = SCENES.trainPrompts().get(0);
        assertEquals(SceneTokenizer.SEQUENCE_LENGTH, SCENES.encode(p).length);
        assertEquals(SceneTokenizer.vocabularySize(), SCENES.vocabularySize());
        assertEquals(32, SCENES.imageSize());
        float[] a = SCENES.render(List.of(p, p), 3);
        assertEquals(2 * 3 * 32 * 32, a.length);
        for (float v : a) assertTrue(v >= 0 && v <= 1, "pixels in [0, 1]");
        assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOf(a, 3072), java.util.Arrays.copyOfRange(a, 3072, 6144)),
                "jitter: two images of one prompt differ");
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(SCENES.render(List.of(p, p), 3)), "deterministic in the seed");
        assertNotEquals(SCENES.identity(), new SceneWorldScenes(32, 8, 8).identity(), "the split is part of the identity");
        assertEquals(SCENES.identity(), new SceneWorldScenes(32, 7, 3).identity(), "the evaluation list is not");
    }

    @Test
    void theDefaultLatentConfigFitsTheSceneWorldAndTheForwardBudget() {
        LatentConfig cfg = LatentConfig.defaults(SCENES);
        assertEquals(SceneTokenizer.SEQUENCE_LENGTH, cfg.text().tokens());
        assertEquals(8, cfg.generator().latentSize());
        assertEquals(16, cfg.generator().imageTokens(), "patch 2 on 8x8 latents: 16 tokens");
        long macs = LatentFlowTransformer.forwardMacs(cfg.generator(), true) + TextEncoder.macsPerRow(cfg.text());
        assertTrue(macs <= 2 * WorldModel.forwardMacs(16, 32, 3), macs + " MACs per row");
    }
}
