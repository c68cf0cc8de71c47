package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The driver prunes with the strategy its schedule names: a conflicting built-in strategy is refused (it used to win
 * silently while the schedule's description still named the other), a user's own strategy is named where it is used,
 * and a sampler that returns no preview gets an exception naming it and the step.
 */
class DriverStrategyTest {
    private static final PruneSchedule OVF = new PruneSchedule(8, new int[] {2}, new int[] {4}, 3, "ovf");
    private static final VelocityModel ZERO = (x, t, cond) -> Tensor.zeros(x.shape());

    /** One group of 8 rows with distinct constant values (the preview at step 2 is value + 1, the proxy its mean). */
    private static final double[] VALUES = {0.3, -1.2, 2.5, 0.0, 1.1, -0.4, 3.3, -2.0};

    private static int[] survivors(ExpandAndPruneDriver driver) {
        float[] noise = new float[8 * ExpandAndPruneDriverTest.D];
        for (int r = 0; r < 8; r++) Arrays.fill(noise, r * ExpandAndPruneDriverTest.D, (r + 1) * ExpandAndPruneDriverTest.D, (float) VALUES[r]);
        try (Tensor nz = Tensor.of(noise, 8, 3, 2, 2);
             ExpandAndPruneDriver.Result res = driver.run(new ExpandAndPruneDriverTest.ShiftSampler(3), ZERO, List.of("a"), nz, null,
                     ExpandAndPruneDriverTest.MEAN_PIXEL, ExpandAndPruneDriverTest.MEAN_PIXEL, null)) {
            return res.originalRow().clone();
        }
    }

    @Test
    void aConflictingBuiltInStrategyIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new ExpandAndPruneDriver(OVF, SubsetStrategy.UNIFORM, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("names subset strategy 'ovf', the driver was given 'uniform'"), e.getMessage());
        assertTrue(e.getMessage().contains("withStrategy(\"uniform\")"), e.getMessage());
        // a schedule without checkpoints uses no strategy, so any is accepted (the trainer's static-subset methods)
        new ExpandAndPruneDriver(PruneSchedule.none(8, 3), SubsetStrategy.UNIFORM, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1));
    }

    @Test
    void theScheduleNamesTheStrategyThatRuns() {
        // extremes keeps the 2 lowest and the 2 highest proxies: recomputed here by sorting the known values
        Integer[] order = IntStream.range(0, 8).boxed().sorted(Comparator.comparingDouble(i -> VALUES[i])).toArray(Integer[]::new);
        int[] expected = IntStream.of(order[0], order[1], order[6], order[7]).sorted().toArray();
        PruneSchedule extremes = OVF.withStrategy("extremes");
        ExpandAndPruneDriver byName = new ExpandAndPruneDriver(extremes, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1));
        assertSame(SubsetStrategy.EXTREMES, byName.strategy());
        assertArrayEquals(expected, survivors(byName));
        assertArrayEquals(expected, survivors(new ExpandAndPruneDriver(extremes, SubsetStrategy.EXTREMES, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1))));
        assertEquals(extremes.describe(), byName.describe());
        assertTrue(byName.describe().endsWith("(extremes)"), byName.describe());
    }

    @Test
    void aUsersOwnStrategyRunsAndIsNamed() {
        SubsetStrategy firstFour = new SubsetStrategy() {
            @Override
            public String name() {
                return "first-four";
            }

            @Override
            public int[] select(double[] rewards, int k, java.util.random.RandomGenerator rng) {
                return IntStream.range(0, k).toArray();
            }
        };
        ExpandAndPruneDriver d = new ExpandAndPruneDriver(OVF, firstFour, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1));
        assertArrayEquals(new int[] {0, 1, 2, 3}, survivors(d));
        assertEquals("8 -> 4 @2 of 3 steps (first-four, the caller's own strategy)", d.describe());
    }

    @Test
    void aSamplerWithoutPreviewIsNamedAtTheCheckpoint() {
        final class NoPreview implements Sampler {
            final ExpandAndPruneDriverTest.ShiftSampler inner = new ExpandAndPruneDriverTest.ShiftSampler(3);

            @Override
            public int steps() {
                return 3;
            }

            @Override
            public double time(int stepIndex) {
                return inner.time(stepIndex);
            }

            @Override
            public StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen) {
                StepOutput o = inner.step(model, x, cond, stepIndex, gen);
                o.x0Preview().close();
                return new StepOutput(o.next(), o.mean(), o.std(), o.logProb(), null, o.modelOutput());
            }

            @Override
            public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean isStochastic(int stepIndex) {
                return true;
            }
        }
        long live = MemoryLedger.liveTensors();
        ExpandAndPruneDriver d = new ExpandAndPruneDriver(OVF, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1));
        try (Tensor nz = Tensor.zeros(8, 3, 2, 2)) {
            var e = assertThrows(IllegalStateException.class, () -> d.run(new NoPreview(), ZERO, List.of("a"), nz, null,
                    ExpandAndPruneDriverTest.MEAN_PIXEL, ExpandAndPruneDriverTest.MEAN_PIXEL, null));
            assertTrue(e.getMessage().contains("sampler " + NoPreview.class.getName() + " returned no x0Preview at step 2 of 3"), e.getMessage());
            assertTrue(e.getMessage().contains("a checkpoint of 8 -> 4 @2 of 3 steps (ovf)"), e.getMessage());
        }
        assertEquals(live, MemoryLedger.liveTensors(), "nothing leaks on the way out");
    }
}
