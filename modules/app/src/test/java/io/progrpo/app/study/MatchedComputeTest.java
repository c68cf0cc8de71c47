package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The matched-compute rule against a brute-force search over every epoch count an arm could train to. */
class MatchedComputeTest {
    /** Trains by the rule from nothing, with epoch e costing cost[e]; returns the cumulative FLOPs it ends with. */
    private static double[] simulate(double[] cost, int epochs, double target) {
        double[] cum = new double[0];
        while (true) {
            int to = MatchedCompute.trainTo(cum, epochs, target);
            if (to == cum.length) return cum;
            assertTrue(to > cum.length && to <= cost.length, "trains forward, within the cap: " + to);
            double[] next = new double[to];
            for (int e = 0; e < to; e++) next[e] = (e == 0 ? 0 : next[e - 1]) + cost[e];
            cum = next;
        }
    }

    @Test
    void anArmEndsAtTheEpochNearestTheBaselinesCompute() {
        Random rnd = new Random(21);
        for (int trial = 0; trial < 500; trial++) {
            int epochs = 1 + rnd.nextInt(30);
            double ratio = 0.3 + 1.2 * rnd.nextDouble();        // the arm's cost per epoch relative to flow-grpo's
            int cap = MatchedCompute.CAP_FACTOR * epochs;
            double[] cost = new double[cap];
            java.util.Arrays.fill(cost, ratio);
            double target = epochs;                            // flow-grpo: E epochs of cost 1
            double[] cum = simulate(cost, epochs, target);
            int from = MatchedCompute.snapshotFrom(epochs);
            int chosen = MatchedCompute.choose(cum, epochs, target, from);
            // brute force over every epoch count from the first snapshot up to the cap: nearest |e r - E|, smaller e on a tie
            int best = -1;
            for (int e = from; e <= cap; e++) {
                if (best < 0 || Math.abs(e * ratio - target) < Math.abs(best * ratio - target) - 1e-12) best = e;
            }
            assertEquals(best, chosen, "E " + epochs + ", ratio " + ratio);
            assertTrue(cum.length >= epochs, "always at least E epochs (matched epochs)");
            if (ratio >= 1) assertEquals(epochs, cum.length, "a costlier arm trains E epochs only");
        }
    }

    @Test
    void varyingEpochCostsStillEndNearTheTarget() {
        Random rnd = new Random(8);
        for (int trial = 0; trial < 300; trial++) {
            int epochs = 2 + rnd.nextInt(20);
            double[] cost = new double[MatchedCompute.CAP_FACTOR * epochs];
            double base = 0.4 + rnd.nextDouble();
            // a shadow group every other epoch, as the adaptive arm has
            for (int e = 0; e < cost.length; e++) cost[e] = base * (e % 2 == 0 ? 1.3 : 1.0);
            double target = epochs;
            double[] cum = simulate(cost, epochs, target);
            int chosen = MatchedCompute.choose(cum, epochs, target, MatchedCompute.snapshotFrom(epochs));
            for (int e = MatchedCompute.snapshotFrom(epochs); e <= cum.length; e++) {
                assertTrue(Math.abs(cum[chosen - 1] - target) <= Math.abs(cum[e - 1] - target), "nearest among those trained");
            }
            boolean capped = cum.length == cost.length;
            if (!capped) assertTrue(cum[cum.length - 1] >= target - cum[epochs - 1] / epochs / 2, "stopped only once near the target");
        }
    }

    @Test
    void theBaselineStopsAtE() {
        double[] cum = {1, 2, 3, 4};
        assertEquals(4, MatchedCompute.trainTo(new double[] {1, 2}, 4, Double.NaN));
        assertEquals(4, MatchedCompute.trainTo(cum, 4, Double.NaN));
        assertEquals(4, MatchedCompute.choose(cum, 4, Double.NaN, 2));
        assertEquals(2, MatchedCompute.snapshotFrom(4));
        assertEquals(1, MatchedCompute.snapshotFrom(1));
    }

    @Test
    void badInputIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> MatchedCompute.choose(new double[] {1, 2}, 2, 2, 3));
        assertTrue(e.getMessage().contains("[1, 2]") && e.getMessage().contains("got 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MatchedCompute.trainTo(new double[] {0, 0}, 2, 5));
        assertTrue(e.getMessage().contains("> 0"), e.getMessage());
    }
}
