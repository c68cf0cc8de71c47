package io.progrpo.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardRegistry;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The world's rule-based alignment reward, found by name through the reward registry. */
class AlignmentRewardTest {
    @Test
    void theRegistryFindsTheWorldsReward() {
        assertTrue(RewardRegistry.available().contains("alignment"), RewardRegistry.available().toString());
        assertEquals("alignment", RewardRegistry.create("alignment").name());
    }

    @Test
    void alignmentRanksTheCorrectRenderingAboveEveryOneAttributeNeighbour() {
        long liveBefore = MemoryLedger.liveTensors();  // other tests of this JVM may hold tensors (caches, other threads)
        Renderer r = new Renderer();
        RewardFunction alignment = RewardRegistry.create("alignment");
        List<Prompt> all = PromptSet.all();
        // one batch: for each prompt its ground truth and its 12 neighbours, all scored against the prompt
        List<String> prompts = new ArrayList<>();
        List<Prompt> drawn = new ArrayList<>();
        for (Prompt p : all) {
            List<Prompt> group = new ArrayList<>();
            group.add(p);
            for (Vocabulary.Color c : Vocabulary.Color.values()) if (c != p.color()) group.add(p.withColor(c));
            for (Vocabulary.Shape c : Vocabulary.Shape.values()) if (c != p.shape()) group.add(p.withShape(c));
            for (Vocabulary.Position c : Vocabulary.Position.values()) if (c != p.position()) group.add(p.withPosition(c));
            for (Prompt q : group) {
                drawn.add(q);
                prompts.add(p.text());
            }
        }
        try (Scope _ = Scope.open()) {
            Tensor images = Tensor.of(r.renderBatch(drawn, 77), drawn.size(), 3, 16, 16);
            RewardOutput out = alignment.score(images, prompts);
            assertEquals(List.of("color", "position", "shape"), List.copyOf(out.metrics().keySet()));
            int k = 0;
            for (Prompt p : all) {
                double truth = out.score(k++);
                assertTrue(truth >= 0.8, p + ": " + truth);
                for (int j = 0; j < 12; j++) {
                    double wrong = out.score(k);
                    assertTrue(truth > wrong, p + " vs rendering of " + drawn.get(k) + ": " + truth + " <= " + wrong);
                    k++;
                }
            }
        }
        // <=, not ==: tensors that earlier tests of this JVM dropped unclosed may be freed by the safety net meanwhile
        assertTrue(MemoryLedger.liveTensors() <= liveBefore, "the reward frees every tensor it makes: " + liveBefore
                + " live before, " + MemoryLedger.liveTensors() + " after");
    }

    @Test
    void alignmentRejectsUnparsablePrompts() {
        try (Scope _ = Scope.open()) {
            Tensor images = Tensor.zeros(1, 3, 16, 16);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> RewardRegistry.create("alignment").score(images, List.of("a purple circle at the left")));
            assertTrue(e.getMessage().contains("purple"), e.getMessage());
        }
    }

}
