package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link SamplingLoop#run(Sampler, VelocityModel, Tensor, Tensor, Generator, SamplingLoop.Storage, SamplingLoop.StepHook)},
 * the one sampling loop (the expand-and-prune driver prunes through its hook): the hook sees every step in order with
 * the trajectory holding it; after it keeps fewer rows the remaining steps run on those rows only, under the
 * conditioning it returned, and reach the same latents as those rows of an unpruned chain, bit for bit; the storage
 * choice decides what is stored and nothing else; a hook that returns a wrong conditioning, or throws, is named and
 * leaves nothing alive.
 */
class SamplingLoopHookTest {
    private static final int ROWS = 6;
    private static final int[] KEEP = {0, 2, 5};

    /** The Gaussian world's velocity, recording the rows and the conditioning of each call. */
    private static final class Recording implements VelocityModel {
        final VelocityModel inner = GaussianWorld.flowVelocity();
        final List<Long> rows = new ArrayList<>();
        final List<Tensor> conds = new ArrayList<>();

        @Override
        public Tensor predict(Tensor x, Tensor t, Tensor cond) {
            rows.add(x.size(0));
            conds.add(cond);
            return inner.predict(x, t, cond);
        }
    }

    private static long[] toLongs(int[] v) {
        return Arrays.stream(v).asLongStream().toArray();
    }

    /** Rows {@code keep} of a [B, D] tensor's floats, in order. */
    private static float[] rowsOf(float[] all, int[] keep, int d) {
        float[] out = new float[keep.length * d];
        for (int i = 0; i < keep.length; i++) System.arraycopy(all, keep[i] * d, out, i * d, d);
        return out;
    }

    @Test
    void afterAHookKeepsRowsTheRestRunsOnThemAndReachesTheSameLatents() {
        Sampler ode = FlowSdeSampler.ode(5, 1.0);
        int d = GaussianWorld.DIMS;
        try (Generator g = Generator.create(4); Tensor noise = Tensor.randn(g, ROWS, d); Tensor cond = Tensor.randn(g, ROWS, 2)) {
            float[] finalAll;
            List<float[]> storedAll = new ArrayList<>();
            try (Trajectory full = SamplingLoop.run(ode, GaussianWorld.flowVelocity(), noise, cond, g)) {
                finalAll = full.finalLatents().toFloatArray();
                for (int k = 0; k < full.stepsStored(); k++) storedAll.add(full.nextLatents(k).toFloatArray());
            }
            Recording model = new Recording();
            List<Integer> seen = new ArrayList<>();
            Tensor[] kept = {null};
            SamplingLoop.StepHook hook = (step, out, traj, c) -> {
                seen.add(step);
                assertEquals(step, traj.lastStep(), "the trajectory holds the step");
                assertEquals(out.rows(), traj.rows());
                assertSame(step <= 1 ? cond : kept[0], c, "the hook gets the conditioning the step used");
                if (step != 1) return c;
                traj.keepRows(KEEP);
                kept[0] = c.indexSelect(0, toLongs(KEEP));
                return kept[0];
            };
            try (Trajectory t = SamplingLoop.run(ode, model, noise, cond, g, SamplingLoop.Storage.ALL_STEPS, hook)) {
                assertEquals(List.of(0, 1, 2, 3, 4), seen);
                assertEquals(List.of(6L, 6L, 3L, 3L, 3L), model.rows, "the steps after the prune run on the kept rows");
                for (int i = 0; i < 5; i++) assertSame(i <= 1 ? cond : kept[0], model.conds.get(i), "conditioning of step " + i);
                assertEquals(3, t.rows());
                assertArrayEquals(rowsOf(finalAll, KEEP, d), t.finalLatents().toFloatArray(), "bit for bit");
                for (int k = 0; k < 5; k++) {
                    assertArrayEquals(rowsOf(storedAll.get(k), KEEP, d), t.nextLatents(k).toFloatArray(), "stored step " + k);
                }
            } finally {
                kept[0].close();
            }
            assertFalse(noise.isClosed() || cond.isClosed(), "noise and conditioning stay the caller's");
        }
    }

    @Test
    void theStorageDecidesWhatIsStoredAndNothingElse() {
        // DDIM with a final alpha of one: the last step is deterministic
        Sampler ddim = new DdimSampler(BetaSchedule.stableDiffusion(), 4, 1.0, 1, true);
        assertFalse(ddim.isStochastic(3));
        VelocityModel eps = GaussianWorld.ddimEpsilon(BetaSchedule.stableDiffusion());
        float[] reference = null;
        for (SamplingLoop.Storage s : SamplingLoop.Storage.values()) {
            try (Generator g = Generator.create(8); Tensor noise = Tensor.randn(g, 3, GaussianWorld.DIMS);
                 Trajectory t = SamplingLoop.run(ddim, eps, noise, null, g, s, null)) {
                assertEquals(s == SamplingLoop.Storage.ALL_STEPS ? 4 : 3, t.stepsStored(), s.name());
                if (s == SamplingLoop.Storage.TRAINING) {
                    assertMessage(IllegalStateException.class, () -> t.mean(0), "without storing the policy means");
                } else {
                    assertEquals(3, t.mean(0).size(0), s.name());
                }
                assertTrue(t.logProb(0) != null, s.name());
                float[] x0 = t.finalLatents().toFloatArray();
                if (reference == null) reference = x0;
                assertArrayEquals(reference, x0, s.name() + ": the same chain, bit for bit");
            }
        }
        // the older entry points are two of these storages
        try (Generator g = Generator.create(8); Tensor noise = Tensor.randn(g, 3, GaussianWorld.DIMS);
             Trajectory t = SamplingLoop.run(ddim, eps, noise, null, g, true)) {
            assertEquals(3, t.stepsStored());
            assertArrayEquals(reference, t.finalLatents().toFloatArray());
        }
    }

    @Test
    void aBadOrThrowingHookIsNamedAndLeavesNothingAlive() {
        Sampler ode = FlowSdeSampler.ode(4, 1.0);
        VelocityModel m = GaussianWorld.flowVelocity();
        try (Generator g = Generator.create(2); Tensor noise = Tensor.randn(g, ROWS, GaussianWorld.DIMS);
             Tensor cond = Tensor.randn(g, ROWS, 2)) {
            long live = MemoryLedger.liveTensors();
            SamplingLoop.StepHook dropsCond = (step, out, traj, c) -> step == 1 ? null : c;
            assertMessage(IllegalStateException.class, () -> SamplingLoop.run(ode, m, noise, cond, g, SamplingLoop.Storage.TRAINING, dropsCond),
                    "step hook after step 1 returned no conditioning", "expected 6 rows");
            SamplingLoop.StepHook forgetsCond = (step, out, traj, c) -> {
                if (step == 2) traj.keepRows(KEEP);
                return c;
            };
            assertMessage(IllegalStateException.class, () -> SamplingLoop.run(ode, m, noise, cond, g, SamplingLoop.Storage.TRAINING, forgetsCond),
                    "after step 2", "shape [6, 2] for 3 active rows");
            SamplingLoop.StepHook inventsCond = (step, out, traj, c) -> cond;
            assertMessage(IllegalStateException.class, () -> SamplingLoop.run(ode, m, noise, null, g, SamplingLoop.Storage.TRAINING, inventsCond),
                    "after step 0 returned a conditioning for a chain without one", "expected null");
            SamplingLoop.StepHook throwing = (step, out, traj, c) -> {
                if (step == 3) throw new IllegalArgumentException("hook failed at step " + step);
                return c;
            };
            assertMessage(IllegalArgumentException.class, () -> SamplingLoop.run(ode, m, noise, cond, g, SamplingLoop.Storage.ALL_STEPS, throwing),
                    "hook failed at step 3");
            SamplingLoop.StepHook error = (step, out, traj, c) -> {
                throw new AssertionError("hook error");
            };
            assertMessage(AssertionError.class, () -> SamplingLoop.run(ode, m, noise, cond, g, SamplingLoop.Storage.ALL_STEPS, error), "hook error");
            assertMessage(IllegalArgumentException.class, () -> SamplingLoop.run(ode, m, noise, cond, g, null, null), "storage", "null");
            assertEquals(live, MemoryLedger.liveTensors(), "every failed run closed its trajectory");
            assertFalse(noise.isClosed() || cond.isClosed());
        }
    }
}
