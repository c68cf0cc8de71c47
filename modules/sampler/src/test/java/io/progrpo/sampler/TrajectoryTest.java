package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class TrajectoryTest {
    private static final VelocityModel MODEL = GaussianWorld.flowVelocity();

    private static Trajectory sample(Sampler s, long seed, int rows, boolean stochasticOnly) {
        try (Generator gen = Generator.create(seed); Tensor noise = Tensor.randn(gen, rows, GaussianWorld.DIMS)) {
            return SamplingLoop.run(s, MODEL, noise, null, gen, stochasticOnly);
        }
    }

    @Test
    void sameSeedSameTrajectoryOtherSeedAnother() {
        FlowSdeSampler s = FlowSdeSampler.sde(8, 3.0);
        try (Trajectory a = sample(s, 42, 16, false); Trajectory b = sample(s, 42, 16, false); Trajectory c = sample(s, 43, 16, false)) {
            assertEquals(8, a.stepsStored());
            for (int k = 0; k < a.stepsStored(); k++) {
                assertArrayEquals(a.latents(k).toFloatArray(), b.latents(k).toFloatArray());
                assertArrayEquals(a.nextLatents(k).toFloatArray(), b.nextLatents(k).toFloatArray());
                assertArrayEquals(a.mean(k).toFloatArray(), b.mean(k).toFloatArray());
                assertArrayEquals(a.logProb(k).toFloatArray(), b.logProb(k).toFloatArray());
                assertEquals(k, a.stepIndex(k));
                assertEquals(s.time(k), a.time(k));
            }
            assertFalse(Arrays.equals(a.finalLatents().toFloatArray(), c.finalLatents().toFloatArray()));
            assertFalse(Arrays.equals(a.logProb(3).toFloatArray(), c.logProb(3).toFloatArray()));
        }
    }

    @Test
    void consecutiveStepsShareLatents() {
        try (Trajectory t = sample(FlowSdeSampler.sde(5, 1.0), 1, 4, false)) {
            for (int k = 0; k + 1 < t.stepsStored(); k++) assertSame(t.nextLatents(k), t.latents(k + 1));
            assertSame(t.nextLatents(4), t.finalLatents());
            long latent = 4L * GaussianWorld.DIMS * 4;
            // x_0 .. x_5 (6 latents), 5 means, 5 log-probs of 4 rows
            assertEquals(6 * latent + 5 * latent + 5 * 4 * 4, t.bytes());
        }
    }

    @Test
    void keepRowsReleasesMemoryAndKeepsTheSelectedRows() {
        long live = MemoryLedger.liveTensors();
        int rows = 16;
        int[] keep = {5, 1, 12};
        Trajectory t = sample(FlowSdeSampler.sde(6, 3.0), 7, rows, false);
        float[][] before = new float[t.stepsStored()][];
        float[][] lpBefore = new float[t.stepsStored()][];
        for (int k = 0; k < t.stepsStored(); k++) {
            before[k] = t.latents(k).toFloatArray();
            lpBefore[k] = t.logProb(k).toFloatArray();
        }
        float[] fin = t.finalLatents().toFloatArray();
        long ledger = MemoryLedger.bytes(Device.CPU);
        long bytes = t.bytes();

        t.keepRows(keep);

        assertEquals(keep.length, t.rows());
        assertEquals(bytes * keep.length / rows, t.bytes());
        assertEquals(ledger - (bytes - t.bytes()), MemoryLedger.bytes(Device.CPU), "the ledger drops by the pruned rows' bytes");
        int d = GaussianWorld.DIMS;
        for (int k = 0; k < t.stepsStored(); k++) {
            float[] x = t.latents(k).toFloatArray();
            float[] lp = t.logProb(k).toFloatArray();
            for (int i = 0; i < keep.length; i++) {
                assertArrayEquals(Arrays.copyOfRange(before[k], keep[i] * d, (keep[i] + 1) * d), Arrays.copyOfRange(x, i * d, (i + 1) * d));
                assertEquals(lpBefore[k][keep[i]], lp[i]);
            }
            if (k + 1 < t.stepsStored()) assertSame(t.nextLatents(k), t.latents(k + 1), "sharing survives pruning");
        }
        float[] fin2 = t.finalLatents().toFloatArray();
        for (int i = 0; i < keep.length; i++) {
            assertArrayEquals(Arrays.copyOfRange(fin, keep[i] * d, (keep[i] + 1) * d), Arrays.copyOfRange(fin2, i * d, (i + 1) * d));
        }
        t.close();
        assertEquals(live, MemoryLedger.liveTensors(), "close frees everything");
        assertEquals(0, t.bytes());
    }

    @Test
    void pruningMidChainThenContinuing() {
        // the driver's loop: step, append, prune at a checkpoint, continue from finalLatents()
        FlowSdeSampler s = FlowSdeSampler.sde(6, 3.0);
        long live = MemoryLedger.liveTensors();
        try (Generator gen = Generator.create(3); Tensor noise = Tensor.randn(gen, 8, GaussianWorld.DIMS); Trajectory t = new Trajectory(s)) {
            Tensor x = noise;
            for (int i = 0; i < s.steps(); i++) {
                try (StepOutput out = s.step(MODEL, x, null, i, gen)) {
                    t.append(i, x, out);
                }
                if (i == 2) t.keepRows(new int[] {0, 2, 4, 6});
                x = t.finalLatents();
            }
            assertEquals(4, t.rows());
            assertEquals(6, t.stepsStored());
            for (int k = 0; k < 6; k++) assertEquals(4, t.latents(k).size(0));
        }
        assertEquals(live, MemoryLedger.liveTensors());
    }

    @Test
    void storedTensorsOutliveTheScopeOfTheAppend() {
        FlowSdeSampler s = FlowSdeSampler.sde(3, 1.0);
        long live = MemoryLedger.liveTensors();
        try (Generator gen = Generator.create(9); Trajectory t = new Trajectory(s)) {
            float[] expected;
            try (io.progrpo.tensor.Scope scope = io.progrpo.tensor.Scope.open()) {
                Tensor x = Tensor.randn(gen, 4, GaussianWorld.DIMS);
                for (int i = 0; i < s.steps(); i++) {
                    t.append(i, x, s.step(MODEL, x, null, i, gen)); // the step output stays the scope's
                    x = t.finalLatents();
                }
                expected = t.finalLatents().toFloatArray();
            }
            assertArrayEquals(expected, t.finalLatents().toFloatArray(), "the trajectory's copies survive the scope");
            assertEquals(3, t.stepsStored());
        }
        assertEquals(live, MemoryLedger.liveTensors());
    }

    @Test
    void stochasticOnlySkipsDeterministicSteps() {
        // alphabar' = 1 makes DDIM's last step deterministic
        DdimSampler s = new DdimSampler(BetaSchedule.stableDiffusion(), 5, 1.0, 0, true);
        VelocityModel eps = GaussianWorld.ddimEpsilon(BetaSchedule.stableDiffusion());
        try (Generator g0 = Generator.create(4); Generator g1 = Generator.create(5); Generator g2 = Generator.create(5);
             Tensor noise = Tensor.randn(g0, 4, GaussianWorld.DIMS);
             Trajectory all = SamplingLoop.run(s, eps, noise, null, g1, false);
             Trajectory sto = SamplingLoop.run(s, eps, noise, null, g2, true)) {
            assertEquals(5, all.stepsStored());
            assertEquals(4, sto.stepsStored());
            assertEquals(null, all.logProb(4));
            assertArrayEquals(all.finalLatents().toFloatArray(), sto.finalLatents().toFloatArray());
            assertNotEquals(0, sto.finalLatents().numel());
        }
    }

    @Test
    void badUseIsNamed() {
        FlowSdeSampler s = FlowSdeSampler.sde(4, 1.0);
        Trajectory t = sample(s, 2, 4, false);
        assertMessage(IndexOutOfBoundsException.class, () -> t.keepRows(new int[] {0, 4}), "row 4");
        assertMessage(IndexOutOfBoundsException.class, () -> t.keepRows(new int[] {-1}), "row -1");
        assertMessage(IllegalArgumentException.class, () -> t.keepRows(new int[0]), "none");
        assertMessage(IndexOutOfBoundsException.class, () -> t.latents(4), "stored step 4");
        try (Generator gen = Generator.create(1); StepOutput out = s.step(MODEL, t.finalLatents(), null, 3, gen)) {
            assertMessage(IllegalArgumentException.class, () -> t.append(3, t.finalLatents(), out), "step 3 after step 3");
        }
        t.close();
        assertTrue(t.isClosed());
        assertMessage(IllegalStateException.class, t::finalLatents, "closed");
        try (Trajectory empty = new Trajectory(s)) {
            assertMessage(IllegalStateException.class, empty::finalLatents, "no steps");
        }
    }
}
