package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class PruneScheduleTest {

    /**
     * Simulates the funnel one step at a time, as the driver runs it: before step s, apply the prune of a
     * checkpoint equal to s (s steps taken); the step's model forward runs on the rows alive then.
     */
    static long simulatedNfe(PruneSchedule p) {
        int rows = p.initialGroupSize();
        int[] cps = p.checkpoints();
        int[] surv = p.survivors();
        long nfe = 0;
        for (int s = 0; s < p.totalSteps(); s++) {
            for (int i = 0; i < cps.length; i++) {
                if (cps[i] == s) {
                    rows = surv[i];
                }
            }
            assertEquals(rows, p.groupSizeAtStep(s), "step " + s + " of " + p.describe());
            nfe += rows;
        }
        return nfe;
    }

    record Expected(String name, int g, int[] cps, int[] surv, int t, String strategy, int fin, long nfe,
            String describe) {}

    @Test
    void everyPresetHasThePapersShapeAndCost() {
        List<Expected> all = List.of(
                new Expected("flow-standard", 48, new int[] {5, 7}, new int[] {24, 12}, 10, "ovf", 12,
                        5 * 48 + 2 * 24 + 3 * 12, "48 -> 24 @5 -> 12 @7 of 10 steps (ovf)"),
                new Expected("flow-flash", 24, new int[] {5, 7}, new int[] {16, 12}, 10, "ovf", 12,
                        5 * 24 + 2 * 16 + 3 * 12, "24 -> 16 @5 -> 12 @7 of 10 steps (ovf)"),
                new Expected("diffusion", 48, new int[] {30, 40}, new int[] {32, 8}, 50, "ovf", 8,
                        30 * 48 + 10 * 32 + 10 * 8, "48 -> 32 @30 -> 8 @40 of 50 steps (ovf)"),
                new Expected("flow-baseline", 24, new int[0], new int[0], 10, "none", 24, 240,
                        "24 of 10 steps (no pruning)"),
                new Expected("diffusion-baseline", 16, new int[0], new int[0], 50, "none", 16, 800,
                        "16 of 50 steps (no pruning)"));
        assertEquals(all.stream().map(Expected::name).toList(), PruneSchedule.presetNames());
        for (Expected e : all) {
            PruneSchedule p = PruneSchedule.preset(e.name());
            assertEquals(e.g(), p.initialGroupSize(), e.name());
            assertArrayEquals(e.cps(), p.checkpoints(), e.name());
            assertArrayEquals(e.surv(), p.survivors(), e.name());
            assertEquals(e.t(), p.totalSteps(), e.name());
            assertEquals(e.strategy(), p.strategy(), e.name());
            assertEquals(e.fin(), p.finalGroupSize(), e.name());
            assertEquals(e.nfe(), p.nfe(), e.name());
            assertEquals(simulatedNfe(p), p.nfe(), e.name());
            assertEquals((long) e.g() * e.t(), p.nfeWithoutPruning(), e.name());
            assertEquals(p.nfeWithoutPruning() - p.nfe(), p.stepsSaved(), e.name());
            assertEquals(e.describe(), p.describe());
            assertEquals(e.cps().length, p.checkpointCount());
            assertEquals(p, PruneSchedule.preset(e.name()));
        }
        // Standard samples more row-forwards than Flow-GRPO (324 > 240) but trains on half the group.
        assertEquals(324, PruneSchedule.preset("flow-standard").nfe());
        assertEquals(156, PruneSchedule.preset("flow-standard").stepsSaved());
    }

    @Test
    void unknownPresetListsTheNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PruneSchedule.preset("flow-turbo"));
        assertTrue(e.getMessage().contains("'flow-turbo'"), e.getMessage());
        for (String n : PruneSchedule.presetNames()) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
    }

    @Test
    void randomValidSchedulesMatchTheStepByStepSimulation() {
        SplittableRandom rnd = new SplittableRandom(31);
        for (int trial = 0; trial < 500; trial++) {
            int t = 1 + rnd.nextInt(60);
            int g = 3 + rnd.nextInt(100);
            int n = rnd.nextInt(Math.min(t, g - 2) + 1); // at most t checkpoints and g - 2 size drops
            int[] cps = new int[n];
            int[] surv = new int[n];
            int step = 0;
            int size = g;
            for (int i = 0; i < n; i++) {
                step += 1 + rnd.nextInt(t - step - (n - 1 - i)); // leave room for the later checkpoints
                size -= 1 + rnd.nextInt(size - 2 - (n - 1 - i)); // and for the later drops, final >= 2
                cps[i] = step;
                surv[i] = size;
            }
            String strategy = n == 0 ? "none" : List.of("ovf", "uniform", "extremes").get(rnd.nextInt(3));
            PruneSchedule p = new PruneSchedule(g, cps, surv, t, strategy);
            assertEquals(simulatedNfe(p), p.nfe(), p.describe());
            assertEquals((long) g * t - p.nfe(), p.stepsSaved(), p.describe());
            assertEquals(n == 0 ? g : surv[n - 1], p.finalGroupSize());
            // the spec a config writes, read back: the same schedule (parse gives ovf)
            StringBuilder spec = new StringBuilder().append(g);
            for (int i = 0; i < n; i++) spec.append('>').append(surv[i]).append('@').append(cps[i]);
            assertEquals(spec.toString(), p.spec());
            if (n > 0) assertEquals(p.withStrategy("ovf"), PruneSchedule.parse(p.spec(), t, t));
            for (int s = 0; s <= t; s++) {
                int idx = indexOf(cps, s);
                assertEquals(idx < 0 ? OptionalInt.empty() : OptionalInt.of(surv[idx]), p.pruneTo(s));
            }
        }
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void staticOvfPrunesAfterFullSampling() {
        PruneSchedule p = PruneSchedule.staticOvf(24, 12, 10);
        assertArrayEquals(new int[] {10}, p.checkpoints());
        assertEquals(12, p.finalGroupSize());
        assertEquals(240, p.nfe());
        assertEquals(0, p.stepsSaved());
        assertEquals(OptionalInt.of(12), p.pruneTo(10));
        assertEquals(24, p.groupSizeAtStep(9));
        assertEquals("ovf", p.strategy());
        assertEquals(SubsetStrategy.OVF, p.subsetStrategy());
        assertEquals("24 -> 12 @10 of 10 steps (ovf)", p.describe());
    }

    @Test
    void noneNeverPrunes() {
        PruneSchedule p = PruneSchedule.none(16, 50);
        assertEquals(16, p.finalGroupSize());
        assertEquals(800, p.nfe());
        assertEquals(0, p.stepsSaved());
        assertEquals(SubsetStrategy.NONE, p.subsetStrategy());
        for (int s = 0; s <= 50; s++) {
            assertEquals(OptionalInt.empty(), p.pruneTo(s));
        }
    }

    @Test
    void withStrategySwapsOnlyTheStrategy() {
        PruneSchedule p = PruneSchedule.preset("flow-standard").withStrategy("uniform");
        assertEquals("uniform", p.strategy());
        assertEquals(SubsetStrategy.UNIFORM, p.subsetStrategy());
        assertEquals(324, p.nfe());
        assertNotEquals(PruneSchedule.preset("flow-standard"), p);
    }

    @Test
    void arraysAreCopiedInAndOut() {
        int[] cps = {5, 7};
        int[] surv = {24, 12};
        PruneSchedule p = new PruneSchedule(48, cps, surv, 10, "ovf");
        cps[0] = 1;
        surv[1] = 3;
        p.checkpoints()[1] = 9;
        p.survivors()[0] = 2;
        assertEquals(PruneSchedule.preset("flow-standard"), p);
        assertEquals(PruneSchedule.preset("flow-standard").hashCode(), p.hashCode());
        assertTrue(p.toString().contains("48 -> 24 @5 -> 12 @7"), p.toString());
    }

    @Test
    void groupSizeAtStepRejectsStepsOutsideTheRun() {
        PruneSchedule p = PruneSchedule.preset("flow-standard");
        assertEquals(48, p.groupSizeAtStep(4));
        assertEquals(24, p.groupSizeAtStep(5));
        assertEquals(12, p.groupSizeAtStep(9));
        assertMessage(() -> p.groupSizeAtStep(10), "step", "10");
        assertMessage(() -> p.groupSizeAtStep(-1), "step", "-1");
    }

    private static void assertMessage(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing in: " + e.getMessage());
        }
    }

    private static PruneSchedule make(int g, int[] cps, int[] surv, int t, String strategy) {
        return new PruneSchedule(g, cps, surv, t, strategy);
    }

    @Test
    void eachValidationFailureNamesTheFieldAndValue() {
        int[] c = {5, 7};
        int[] s = {24, 12};
        assertMessage(() -> make(1, new int[0], new int[0], 10, "none"), "initialGroupSize", "1");
        assertMessage(() -> make(48, c, s, 0, "ovf"), "totalSteps", "0");
        assertMessage(() -> make(48, null, s, 10, "ovf"), "checkpoints", "null");
        assertMessage(() -> make(48, c, null, 10, "ovf"), "survivors", "null");
        assertMessage(() -> make(48, new int[] {5}, s, 10, "ovf"), "same length", "[5]", "[24, 12]");
        assertMessage(() -> make(48, new int[] {0, 7}, s, 10, "ovf"), "checkpoints[0]", "got 0");
        assertMessage(() -> make(48, new int[] {5, 11}, s, 10, "ovf"), "checkpoints[1]", "got 11", "10]");
        assertMessage(() -> make(48, new int[] {5, 5}, s, 10, "ovf"), "checkpoints[1]", "got 5", "strictly");
        assertMessage(() -> make(48, new int[] {7, 5}, s, 10, "ovf"), "checkpoints[1]", "got 5");
        assertMessage(() -> make(48, new int[] {-3, 5}, s, 10, "ovf"), "checkpoints[0]", "got -3");
        assertMessage(() -> make(48, c, new int[] {48, 12}, 10, "ovf"), "survivors[0]", "< 48", "got 48");
        assertMessage(() -> make(48, c, new int[] {60, 12}, 10, "ovf"), "survivors[0]", "got 60");
        assertMessage(() -> make(48, c, new int[] {24, 24}, 10, "ovf"), "survivors[1]", "< 24", "got 24");
        assertMessage(() -> make(48, c, new int[] {24, 30}, 10, "ovf"), "survivors[1]", "got 30");
        assertMessage(() -> make(48, c, new int[] {24, 1}, 10, "ovf"), "final group size", ">= 2", "got 1");
        assertMessage(() -> make(48, c, s, 10, "best"), "strategy", "'best'", "ovf", "uniform", "extremes");
        assertMessage(() -> make(48, c, s, 10, null), "strategy", "null");
        assertMessage(() -> make(48, c, s, 10, "none"), "none", "[5, 7]");
        assertMessage(() -> PruneSchedule.staticOvf(24, 24, 10), "survivors[0]", "got 24");
        assertMessage(() -> PruneSchedule.none(24, 0), "totalSteps", "0");
    }

    /**
     * The one reader of the schedule grammar: random funnels written as specs read back to the same sizes,
     * checkpoints and cost; preset names give the presets; every malformed spec is named with what was expected.
     */
    @Test
    void parseReadsSpecsAndPresetNames() {
        SplittableRandom rnd = new SplittableRandom(48_24_5);
        int parsed = 0;
        for (int trial = 0; trial < 300; trial++) {
            int t = 2 + rnd.nextInt(60);
            int g = 3 + rnd.nextInt(60);
            int stages = 1 + rnd.nextInt(Math.min(3, Math.min(g - 2, t - 1)));
            int[] sizes = new int[stages];
            int[] steps = new int[stages];
            int size = g;
            int step = 0;
            StringBuilder spec = new StringBuilder().append(g);
            boolean fits = true;
            for (int i = 0; i < stages; i++) {
                int room = size - 2 - (stages - 1 - i);
                int stepRoom = t - 1 - step - (stages - 1 - i);
                if (room < 1 || stepRoom < 1) {
                    fits = false;
                    break;
                }
                size = size - 1 - rnd.nextInt(room);
                step = step + 1 + rnd.nextInt(stepRoom);
                sizes[i] = size;
                steps[i] = step;
                spec.append('>').append(size).append('@').append(step);
            }
            if (!fits) continue;
            PruneSchedule p = PruneSchedule.parse(spec.toString(), t, t - 1);
            assertEquals(g, p.initialGroupSize(), spec.toString());
            assertArrayEquals(sizes, p.survivors(), spec.toString());
            assertArrayEquals(steps, p.checkpoints(), spec.toString());
            assertEquals(t, p.totalSteps());
            assertEquals("ovf", p.strategy());
            assertEquals(simulatedNfe(p), p.nfe(), spec.toString());
            assertTrue(PruneSchedule.isSpec(spec.toString()));
            parsed++;
        }
        assertTrue(parsed > 200, parsed + " random specs read");
        for (String name : PruneSchedule.presetNames()) {
            assertEquals(PruneSchedule.preset(name), PruneSchedule.parse(name, 3, 2), name + ": a preset names its own steps");
            assertTrue(!PruneSchedule.isSpec(name));
        }
        // static pruning after sampling: a checkpoint at T where lastCheckpoint allows it
        assertEquals(PruneSchedule.staticOvf(24, 12, 10), PruneSchedule.parse("24>12@10", 10, 10));
        String[][] bad = {
                {"48-24", "must look like G_max>size@step"},
                {"48>24@5>", "must look like G_max>size@step"},
                {"48>48@5", "size 48 must be in [2, 47]"},
                {"48>24@5>1@7", "size 1 must be in [2, 23]"},
                {"48>24@5>12@5", "checkpoint step 5 must be in [6, 9]"},
                {"48>24@10", "checkpoint step 10 must be in [1, 9] (increasing, before the last of 10 steps)"},
                {"48>24@0", "checkpoint step 0 must be in [1, 9]"},
                {"48>24@9>12@10", "checkpoint step 10 has no room: it must come after step 9 and at most at step 9"},
                {"99999999999>24@5", "G_max of 99999999999 is out of range"},
                {"48>24@99999999999", "a checkpoint step of 99999999999 is out of range"},
                {"Standard", "lower-case preset name (flow-standard, "},
                {"standard", "'standard' is neither a spec like 48>24@5>12@7 nor a preset"},
                {"", "lower-case preset name"},
        };
        for (String[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PruneSchedule.parse(b[0], 10, 9), b[0]);
            assertTrue(e.getMessage().contains(b[1]), b[0] + ": " + e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PruneSchedule.parse("48>24@11", 10, 10));
        assertTrue(e.getMessage().contains("must be in [1, 10] (increasing, at most 10 steps)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PruneSchedule.parse("48>24@5", 10, 11));
        assertTrue(e.getMessage().contains("lastCheckpoint in [0, totalSteps]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PruneSchedule.parse(null, 10, 9));
        assertTrue(e.getMessage().contains("got null"), e.getMessage());
    }
}
