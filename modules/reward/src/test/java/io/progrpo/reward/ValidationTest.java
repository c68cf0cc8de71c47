package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ValidationTest {
    /** A reward that returns fixed outputs, whatever the images. */
    record Fixed(String name, RewardOutput out) implements RewardFunction {
        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            return out;
        }
    }

    private static void scoreThreeImages(RewardFunction f) {
        try (Scope _ = Scope.open()) {
            f.scoreChecked(Tensor.zeros(3, 3, 4, 4), Collections.nCopies(3, "p"));
        }
    }

    @Test
    void nanScoreNamesRewardIndexAndValue() {
        var e = assertThrows(IllegalStateException.class, () -> scoreThreeImages(new Fixed("broken", RewardOutput.of(1, Double.NaN, 2))));
        assertTrue(e.getMessage().contains("'broken'") && e.getMessage().contains("index 1") && e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> scoreThreeImages(new Fixed("hot", RewardOutput.of(1, 2, Double.NEGATIVE_INFINITY))));
        assertTrue(e.getMessage().contains("'hot'") && e.getMessage().contains("index 2") && e.getMessage().contains("-Infinity"), e.getMessage());
    }

    @Test
    void nonFiniteMetricIsNamed() {
        RewardOutput out = new RewardOutput(new double[] {1, 2, 3}, Map.of("parts", new double[] {0, Double.POSITIVE_INFINITY, 0}));
        var e = assertThrows(IllegalStateException.class, () -> scoreThreeImages(new Fixed("m", out)));
        assertTrue(e.getMessage().contains("'parts'") && e.getMessage().contains("index 1") && e.getMessage().contains("Infinity"), e.getMessage());
    }

    @Test
    void wrongCountNamesRewardAndCounts() {
        var e = assertThrows(IllegalStateException.class, () -> scoreThreeImages(new Fixed("short", RewardOutput.of(1, 2))));
        assertTrue(e.getMessage().contains("'short'") && e.getMessage().contains("2 scores for 3 images"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> scoreThreeImages(new Fixed("nothing", null)));
        assertTrue(e.getMessage().contains("'nothing'") && e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void goodOutputPassesUnchanged() {
        RewardOutput out = RewardOutput.of(1, 2, 3);
        try (Scope _ = Scope.open()) {
            assertSame(out, new Fixed("ok", out).scoreChecked(Tensor.zeros(3, 3, 4, 4), List.of("a", "b", "c")));
        }
    }

    @Test
    void metricLengthMustMatchScores() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new RewardOutput(new double[] {1, 2}, Map.of("extra", new double[] {1, 2, 3})));
        assertTrue(e.getMessage().contains("'extra'") && e.getMessage().contains("3 values") && e.getMessage().contains("(2)"), e.getMessage());
    }

    @Test
    void outputIsACopy() {
        double[] s = {1, 2};
        RewardOutput out = RewardOutput.of(s);
        s[0] = 99;
        out.scores()[1] = 99;
        assertEquals(1, out.score(0));
        assertEquals(2, out.score(1));
    }
}
