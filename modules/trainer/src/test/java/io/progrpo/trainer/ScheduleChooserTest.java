package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * The schedule chooser on synthetic agreement curves, against the rule recomputed in the test: every candidate funnel
 * built and costed here (rows per step counted one step at a time, the training term per transition from a table of
 * ModelFlops' cases), the feasible ones sorted by the documented order; the named cases (a curve that clears tau at
 * step 6, one that never does, a budget too small to expand), monotonicity in the budget, every cost within budget.
 */
class ScheduleChooserTest {
    /** The demo preset's shape: T = 10, 9 trained steps, guidance with a detached branch, 8 groups, shadowEvery 2. */
    static final ScheduleChooser.CostModel DEMO = new ScheduleChooser.CostModel(10, 9, 2, 4, 8, 48.0 * 10 * 2 / 2);

    /** Forward-equivalents per trained transition, by case (cfg, detached, reference), as ModelFlops counts them. */
    @Test
    void theTrainingTermFollowsModelFlops() {
        // ModelFlops: n = training NFE (policy x cfg, the reference as many again), grad = n/2 if cfg and detached
        assertEquals(3, ScheduleChooser.CostModel.trainingPerTransition(false, true, false));
        assertEquals(3, ScheduleChooser.CostModel.trainingPerTransition(false, false, false));
        assertEquals(4, ScheduleChooser.CostModel.trainingPerTransition(true, true, false));   // 3 x 1 + 1
        assertEquals(6, ScheduleChooser.CostModel.trainingPerTransition(true, false, false));  // 3 x 2
        assertEquals(6, ScheduleChooser.CostModel.trainingPerTransition(false, true, true));   // 3 x 2
        assertEquals(8, ScheduleChooser.CostModel.trainingPerTransition(true, true, true));    // 3 x 2 + 2
        assertEquals(12, ScheduleChooser.CostModel.trainingPerTransition(true, false, true));  // 3 x 4
    }

    /** The cost of a funnel recomputed: rows at every step, one step at a time. */
    static double cost(ScheduleChooser.CostModel c, PruneSchedule s) {
        long rowSteps = 0;
        int[] cps = s.checkpoints();
        int[] sizes = s.survivors();
        for (int step = 0; step < c.totalSteps(); step++) {
            int rows = s.initialGroupSize();
            for (int i = 0; i < cps.length; i++) if (cps[i] <= step) rows = sizes[i];
            rowSteps += rows;
        }
        int k = sizes.length == 0 ? s.initialGroupSize() : sizes[sizes.length - 1];
        return c.groupsPerEpoch() * (c.cfgFactor() * rowSteps + (double) k * c.trainedSteps() * c.trainingPerTransition())
                + c.shadowPerEpoch();
    }

    static double reference(ScheduleChooser.CostModel c, int k) {
        return cost(new ScheduleChooser.CostModel(c.totalSteps(), c.trainedSteps(), c.cfgFactor(), c.trainingPerTransition(),
                c.groupsPerEpoch(), 0), PruneSchedule.none(2 * k, c.totalSteps()));
    }

    record Candidate(PruneSchedule s, double cost) {}

    /** The rule as the javadoc states it, by enumeration; null when nothing is feasible. */
    static PruneSchedule bruteForce(double[] curve, double tau, int k, int largest, ScheduleChooser.CostModel c, double rho) {
        int t = c.totalSteps();
        List<Integer> sizes = new ArrayList<>();
        for (int g = 2 * k; g <= largest; g += 4) sizes.add(g);
        if (!sizes.contains(largest)) sizes.add(largest);
        List<Candidate> feasible = new ArrayList<>();
        double limit = rho * reference(c, k);
        for (int g : sizes) {
            for (int s1 = 1; s1 < t; s1++) {
                if (!(curve[s1 - 1] >= tau)) continue;
                PruneSchedule one = new PruneSchedule(g, new int[] {s1}, new int[] {k}, t, "ovf");
                if (cost(c, one) <= limit) feasible.add(new Candidate(one, cost(c, one)));
                for (int s2 = s1 + 1; s2 < t; s2++) {
                    if (!(curve[s2 - 1] >= tau)) continue;
                    for (int m = k + 1; m < g; m++) {
                        PruneSchedule two = new PruneSchedule(g, new int[] {s1, s2}, new int[] {m, k}, t, "ovf");
                        if (cost(c, two) <= limit) feasible.add(new Candidate(two, cost(c, two)));
                    }
                }
            }
        }
        Comparator<Candidate> order = Comparator.comparingInt((Candidate x) -> -x.s().initialGroupSize())
                .thenComparingDouble(Candidate::cost)
                .thenComparing((x, y) -> Arrays.compare(x.s().checkpoints(), y.s().checkpoints()))
                .thenComparingInt(x -> x.s().survivors()[0]);
        return feasible.stream().min(order).map(Candidate::s).orElse(null);
    }

    static double[] randomCurve(Random rnd, int t) {
        double[] c = new double[t - 1];
        double level = rnd.nextDouble() * 0.4;
        for (int i = 0; i < c.length; i++) {
            level = Math.min(1, level + rnd.nextDouble() * 0.25);
            c[i] = rnd.nextInt(10) == 0 ? Double.NaN : level + 0.1 * rnd.nextGaussian();
        }
        return c;
    }

    static ScheduleChooser.CostModel randomModel(Random rnd, int t, int largest) {
        boolean cfg = rnd.nextBoolean();
        int every = 1 + rnd.nextInt(4);
        return new ScheduleChooser.CostModel(t, 1 + rnd.nextInt(t - 1), cfg ? 2 : 1,
                ScheduleChooser.CostModel.trainingPerTransition(cfg, rnd.nextBoolean(), rnd.nextBoolean()), 1 + rnd.nextInt(10),
                rnd.nextBoolean() ? 0 : (double) largest * t * (cfg ? 2 : 1) / every);
    }

    @Test
    void theChoiceIsTheRuleRecomputedOnRandomCurves() {
        Random rnd = new Random(1812);
        int agreement = 0;
        int other = 0;
        for (int trial = 0; trial < 300; trial++) {
            int t = 2 + rnd.nextInt(10);
            int k = 2 + rnd.nextInt(8);
            int largest = k + 1 + rnd.nextInt(3 * k);
            ScheduleChooser.CostModel c = randomModel(rnd, t, largest);
            double[] curve = randomCurve(rnd, t);
            double tau = 0.3 + 0.6 * rnd.nextDouble();
            double rho = 0.3 + 1.5 * rnd.nextDouble();
            ScheduleChooser.Decision d = ScheduleChooser.choose(curve, tau, k, largest, c, rho);
            PruneSchedule expected = bruteForce(curve, tau, k, largest, c, rho);
            String at = "trial " + trial + ": " + Arrays.toString(curve) + " tau " + tau + " rho " + rho + " " + c;
            assertEquals(cost(c, d.schedule()), d.cost(), 1e-9 * d.cost(), at);
            assertEquals(reference(c, k), d.referenceCost(), 1e-9 * d.referenceCost(), at);
            assertEquals(k, d.schedule().finalGroupSize(), at);
            for (int i = 0; i < d.agreement().length; i++) {
                assertEquals(curve[d.schedule().checkpoints()[i] - 1], d.agreement()[i], 0.0, at);
            }
            if (expected != null) {
                agreement++;
                assertEquals(expected, d.schedule(), at);
                assertEquals("agreement", d.reason(), at);
                assertTrue(d.withinBudget() && d.feasible() > 0, at);
                for (double a : d.agreement()) assertTrue(a >= tau, at);
            } else {
                other++;
                boolean clears = Arrays.stream(curve).anyMatch(v -> v >= tau);
                assertEquals(clears ? "budget" : "fallback", d.reason(), at);
                assertEquals(0, d.feasible(), at);
                int step = d.schedule().checkpoints()[0];
                int first = 1;
                while (clears && !(curve[first - 1] >= tau)) first++;
                assertEquals(clears ? first : t - 1, step, at);
                assertEquals(1, d.schedule().checkpointCount(), at);
                // the largest G there that fits: nothing larger fits, and it fits unless it is k + 1
                int g = d.schedule().initialGroupSize();
                double limit = rho * reference(c, k);
                assertEquals(cost(c, d.schedule()) <= limit, d.withinBudget(), at);
                assertTrue(d.withinBudget() || g == k + 1, at);
                for (int h = g + 1; h <= largest; h++) {
                    assertTrue(cost(c, new PruneSchedule(h, new int[] {step}, new int[] {k}, t, "ovf")) > limit, at + ": G " + h + " fits");
                }
            }
            if (d.withinBudget()) assertTrue(cost(c, d.schedule()) <= rho * reference(c, k) * (1 + 1e-12), at);
        }
        assertTrue(agreement > 50 && other > 50, "both branches exercised: " + agreement + " and " + other);
    }

    /** A curve that clears 0.75 from step 6 on. */
    static double[] clearsAtSix() {
        return new double[] {0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.85, 0.9, 0.95};
    }

    @Test
    void aCurveThatClearsTauAtStepSixPrunesThere() {
        ScheduleChooser.Decision d = ScheduleChooser.choose(clearsAtSix(), 0.75, 12, 48, DEMO, 1.0);
        assertEquals("48>12@6", d.schedule().spec());
        assertEquals("agreement", d.reason());
        assertArrayEquals(new double[] {0.8}, d.agreement());
        // (48 x 6 + 12 x 4) x 2 + 12 x 9 x 4 per group, + 48 x 10 x 2 / 2 shadow, against (24 x 10 x 2 + 24 x 9 x 4) per group
        assertEquals((8 * ((48 * 6 + 12 * 4) * 2 + 12 * 9 * 4) + 480.0) / (8 * (24 * 10 * 2 + 24 * 9 * 4)), d.costRatio(), 1e-12);
        // a stricter threshold moves the checkpoint later; at step 9 48 no longer fits the budget: 44 does
        assertEquals("48>12@8", ScheduleChooser.choose(clearsAtSix(), 0.88, 12, 48, DEMO, 1.0).schedule().spec());
        assertEquals("44>12@9", ScheduleChooser.choose(clearsAtSix(), 0.92, 12, 48, DEMO, 1.0).schedule().spec());
    }

    @Test
    void aCurveThatNeverClearsFallsBackToTheLastStochasticStep() {
        double[] low = {0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7};
        ScheduleChooser.Decision d = ScheduleChooser.choose(low, 0.75, 12, 48, DEMO, 1.0);
        assertEquals("fallback", d.reason());
        assertEquals(9, d.schedule().checkpoints()[0]);
        // 48 @9 costs 1.027 x the reference: the largest candidate that fits is 44
        assertTrue(cost(DEMO, new PruneSchedule(48, new int[] {9}, new int[] {12}, 10, "ovf")) > reference(DEMO, 12));
        assertEquals("44>12@9", d.schedule().spec());
        assertTrue(d.withinBudget());
        // with room in the budget, the largest G_max
        assertEquals("48>12@9", ScheduleChooser.choose(low, 0.75, 12, 48, DEMO, 1.5).schedule().spec());
        // unmeasured steps (NaN) never clear
        double[] none = new double[9];
        Arrays.fill(none, Double.NaN);
        assertEquals("fallback", ScheduleChooser.choose(none, 0.75, 12, 48, DEMO, 1.0).reason());
    }

    @Test
    void aBudgetTooSmallToExpandShrinksTheGroupAndSaysSo() {
        // 24 -> 12 @6 costs 0.652 x the reference; at 0.6 no candidate fits: 12 G + 588 per group <= 806.4 gives G = 18
        ScheduleChooser.Decision d = ScheduleChooser.choose(clearsAtSix(), 0.75, 12, 48, DEMO, 0.6);
        assertEquals("budget", d.reason());
        assertEquals("18>12@6", d.schedule().spec());
        assertTrue(d.withinBudget() && d.costRatio() <= 0.6);
        assertTrue(cost(DEMO, new PruneSchedule(19, new int[] {6}, new int[] {12}, 10, "ovf")) > 0.6 * reference(DEMO, 12));
        // below the cheapest funnel (13 -> 12): k + 1, over budget
        ScheduleChooser.Decision tiny = ScheduleChooser.choose(clearsAtSix(), 0.75, 12, 48, DEMO, 0.3);
        assertEquals("13>12@6", tiny.schedule().spec());
        assertFalse(tiny.withinBudget());
        assertTrue(tiny.costRatio() > 0.3);
        // between 2k and 2k + 4 at step 6: G_max = 2k, not expanded further
        double between = (cost(DEMO, new PruneSchedule(26, new int[] {6}, new int[] {12}, 10, "ovf"))) / reference(DEMO, 12);
        assertEquals("24>12@6", ScheduleChooser.choose(clearsAtSix(), 0.75, 12, 48, DEMO, between).schedule().spec());
    }

    @Test
    void raisingTheBudgetNeverLowersGmax() {
        Random rnd = new Random(99);
        for (int trial = 0; trial < 60; trial++) {
            int t = 2 + rnd.nextInt(10);
            int k = 2 + rnd.nextInt(8);
            int largest = k + 1 + rnd.nextInt(4 * k);
            ScheduleChooser.CostModel c = randomModel(rnd, t, largest);
            double[] curve = randomCurve(rnd, t);
            double tau = 0.3 + 0.6 * rnd.nextDouble();
            int previous = 0;
            for (double rho = 0.1; rho <= 3; rho += 0.05) {
                ScheduleChooser.Decision d = ScheduleChooser.choose(curve, tau, k, largest, c, rho);
                int g = d.schedule().initialGroupSize();
                assertTrue(g >= previous, "trial " + trial + " rho " + rho + ": G_max " + g + " after " + previous);
                assertTrue(!d.withinBudget() || d.cost() <= rho * d.referenceCost());
                previous = g;
            }
        }
    }

    @Test
    void candidateSizesAndBadInput() {
        assertEquals(List.of(48, 44, 40, 36, 32, 28, 24), ScheduleChooser.groupSizes(12, 48));
        assertEquals(List.of(30, 28, 24), ScheduleChooser.groupSizes(12, 30));
        assertEquals(List.of(20), ScheduleChooser.groupSizes(12, 20), "below 2k: the largest only");
        double[] c = clearsAtSix();
        var e = assertThrows(IllegalArgumentException.class, () -> ScheduleChooser.choose(new double[3], 0.75, 12, 48, DEMO, 1));
        assertTrue(e.getMessage().contains("per step 1..9") && e.getMessage().contains("got 3 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleChooser.choose(c, 0.75, 12, 12, DEMO, 1));
        assertTrue(e.getMessage().contains("> k = 12") && e.getMessage().contains("got 12"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleChooser.choose(c, 0.75, 1, 48, DEMO, 1));
        assertTrue(e.getMessage().contains("k must be >= 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleChooser.choose(c, 0.75, 12, 48, DEMO, 0));
        assertTrue(e.getMessage().contains("rho") && e.getMessage().contains("got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ScheduleChooser.CostModel(10, 11, 2, 4, 8, 0));
        assertTrue(e.getMessage().contains("trainedSteps must be in [1, 10], got 11"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ScheduleChooser.CostModel(10, 9, 3, 4, 8, 0));
        assertTrue(e.getMessage().contains("cfgFactor must be 1 or 2, got 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DEMO.epoch(PruneSchedule.none(24, 5)));
        assertTrue(e.getMessage().contains("5 steps") && e.getMessage().contains("10"), e.getMessage());
    }
}
