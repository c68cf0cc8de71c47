package io.progrpo.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

class FlowSdeSamplerTest {

    @Test
    void shiftFormulaAndGrid() {
        Random r = new Random(1);
        for (int n = 0; n < 100; n++) {
            double s = r.nextDouble();
            double k = 0.1 + 5 * r.nextDouble();
            assertEquals(k * s / (1 + (k - 1) * s), FlowSchedule.shift(s, k), 1e-15);
        }
        int steps = 10;
        double k = 3;
        FlowSchedule g = FlowSchedule.shifted(steps, k);
        assertEquals(steps, g.steps());
        assertEquals(1.0, g.sigma(0));
        assertEquals(0.0, g.sigma(steps));
        for (int i = 0; i <= steps; i++) {
            double lin = 1.0 - (double) i / steps;
            assertEquals(k * lin / (1 + (k - 1) * lin), g.sigma(i), 1e-15, "sigma " + i);
            assertEquals(lin, FlowSchedule.linear(steps).sigma(i), 1e-15);
        }
        FlowSdeSampler s = new FlowSdeSampler(steps, k, 0.7);
        for (int i = 0; i < steps; i++) assertEquals(g.sigma(i), s.time(i), "t fed to the model is sigma");
    }

    /** Plain-Java recomputation of std_t, s_t, mu, x0_hat and the log-prob on random x, v and a random sigma grid. */
    @Test
    void sdeStepMatchesFormulasInDouble() {
        Random r = new Random(7);
        double[] sig = new double[7];
        sig[0] = 1.0; // includes the sigma = 1 special case
        for (int i = 1; i < 6; i++) sig[i] = r.nextDouble();
        sig[6] = 0.0;
        Arrays.sort(sig, 1, 6);
        for (int i = 1, j = 5; i < j; i++, j--) { double t = sig[i]; sig[i] = sig[j]; sig[j] = t; }
        double a = 0.3 + r.nextDouble();
        FlowSdeSampler sampler = new FlowSdeSampler(new FlowSchedule(sig), a);
        int b = 3;
        int d = 10;
        try (Scope scope = Scope.open(); Generator gen = Generator.create(3)) {
            for (int i = 0; i < 6; i++) {
                float[] xs = randomArray(r, b * d);
                float[] vs = randomArray(r, b * d);
                Tensor x = Tensor.of(xs, b, d);
                Tensor vFixed = Tensor.of(vs, b, d);
                StepOutput out = sampler.step((xx, t, c) -> vFixed.mul(1.0), x, null, i, gen);

                double sigma = sig[i];
                double dt = sig[i + 1] - sigma;
                double std = a * Math.sqrt(sigma / (1 - (i == 0 ? sig[1] : sigma)));
                double st = std * Math.sqrt(-dt);
                assertEquals(std, sampler.stdT(i), 1e-12);
                assertEquals(std, sampler.klStd(i), 1e-12, "Flow-GRPO's code divides the KL by std_t, without sqrt(-dt)");
                assertEquals(st, sampler.policyStd(i), 1e-12);
                float[] mean = out.mean().toFloatArray();
                float[] next = out.next().toFloatArray();
                float[] x0 = out.x0Preview().toFloatArray();
                for (int e = 0; e < b * d; e++) {
                    double mu = xs[e] * (1 + std * std / (2 * sigma) * dt) + vs[e] * (1 + std * std * (1 - sigma) / (2 * sigma)) * dt;
                    assertEquals(mu, mean[e], 1e-5 * (1 + Math.abs(mu)), "mean at step " + i);
                    assertEquals(xs[e] - sigma * vs[e], x0[e], 1e-5 * (1 + Math.abs(x0[e])), "x0 preview");
                }
                for (float sv : out.std().toFloatArray()) assertEquals(st, sv, 1e-6 * st);
                double[] lp = out.logProb().toDoubleArray();
                for (int row = 0; row < b; row++) {
                    double sum = 0;
                    for (int e = row * d; e < (row + 1) * d; e++) {
                        double z = next[e] - mean[e];
                        sum += -z * z / (2 * st * st) - Math.log(st) - Math.log(Math.sqrt(2 * Math.PI));
                    }
                    assertEquals(sum / d, lp[row], 1e-4, "log-prob of row " + row + " at step " + i);
                }
                assertArrayEqualsTol(vs, out.modelOutput().toFloatArray());
            }
        }
    }

    @Test
    void odeStepIsEulerAndDeterministic() {
        FlowSdeSampler ode = FlowSdeSampler.ode(4, 1.0);
        Random r = new Random(2);
        try (Scope scope = Scope.open()) {
            float[] xs = randomArray(r, 6);
            float[] vs = randomArray(r, 6);
            Tensor v = Tensor.of(vs, 2, 3);
            for (int i = 0; i < 4; i++) {
                assertFalse(ode.isStochastic(i));
                StepOutput out = ode.step((x, t, c) -> v.mul(1.0), Tensor.of(xs, 2, 3), null, i, null);
                assertNull(out.logProb());
                float[] next = out.next().toFloatArray();
                for (int e = 0; e < 6; e++) assertEquals(xs[e] + vs[e] * -0.25, next[e], 1e-6);
                for (float s : out.std().toFloatArray()) assertEquals(0f, s);
            }
            int step = 1;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ode.logProb((x, t, c) -> v.mul(1.0), Tensor.of(xs, 2, 3), Tensor.of(xs, 2, 3), null, step));
            assertTrue(e.getMessage().contains("step 1") && e.getMessage().contains("deterministic"), e.getMessage());
        }
        assertTrue(FlowSdeSampler.sde(10, 3).isStochastic(9), "the SDE's last step has s_t > 0");
    }

    @Test
    void sdeReproducesDataMoments() {
        FlowSdeSampler sampler = new FlowSdeSampler(50, 1.0, 0.7);
        double[] oracle = GaussianWorld.flowOracle(sampler.schedule().sigmas(), 0.7);
        double[] sample = sampleFinal(sampler, 11);
        GaussianWorld.assertMoments(oracle, sample, "SDE vs exact discrete chain");
        // the T = 50 chain's own bias is tiny (variance 0.3589 vs 0.36): the data moments are met within 5 SE
        GaussianWorld.assertMoments(GaussianWorld.dataMoments(), sample, "SDE vs data");
    }

    @Test
    void odeReproducesDataMoments() {
        FlowSdeSampler sampler = FlowSdeSampler.ode(50, 3.0);
        double[] oracle = GaussianWorld.flowOracle(sampler.schedule().sigmas(), 0.0);
        double[] sample = sampleFinal(sampler, 12);
        GaussianWorld.assertMoments(oracle, sample, "ODE vs exact discrete chain");
        // Euler at T = 50 with shift 3 under-disperses by ~10% (oracle variance 0.325 vs 0.36); the mean is exact
        double[] data = GaussianWorld.dataMoments();
        for (int j = 0; j < GaussianWorld.DIMS; j++) assertEquals(data[j], sample[j], 0.05, "mean of dimension " + j);
        assertEquals(data[GaussianWorld.DIMS], sample[GaussianWorld.DIMS], 0.15 * data[GaussianWorld.DIMS], "variance");
    }

    static double[] sampleFinal(Sampler sampler, long seed) {
        long before = MemoryLedger.liveTensors();
        double[] m;
        try (Generator gen = Generator.create(seed); Tensor noise = Tensor.randn(gen, GaussianWorld.ROWS, GaussianWorld.DIMS);
             Trajectory traj = SamplingLoop.run(sampler, GaussianWorld.flowVelocity(), noise, null, gen)) {
            assertEquals(sampler.steps(), traj.stepsStored());
            m = GaussianWorld.moments(traj.finalLatents());
        }
        assertEquals(before, MemoryLedger.liveTensors(), "sampling leaves no tensor behind");
        return m;
    }

    @Test
    void badConfigurationsNameTheValue() {
        assertMessage(IllegalArgumentException.class, () -> new FlowSdeSampler(0, 1, 0.7), "0");
        assertMessage(IllegalArgumentException.class, () -> new FlowSdeSampler(10, 0.0, 0.7), "shift k", "0.0");
        assertMessage(IllegalArgumentException.class, () -> new FlowSdeSampler(10, -2.0, 0.7), "-2.0");
        assertMessage(IllegalArgumentException.class, () -> new FlowSdeSampler(10, 3, -0.1), "noise level", "-0.1");
        assertMessage(IllegalArgumentException.class, () -> new FlowSdeSampler(10, 3, Double.NaN), "NaN");
        assertMessage(IllegalArgumentException.class, () -> new FlowSchedule(new double[] {1.2, 0.5, 0}), "sigma[0]", "1.2");
        assertMessage(IllegalArgumentException.class, () -> new FlowSchedule(new double[] {1, 0.5, -0.01}), "sigma[2]", "-0.01");
        assertMessage(IllegalArgumentException.class, () -> new FlowSchedule(new double[] {1, 0.5, 0.5, 0}), "0.5");
        assertMessage(IllegalArgumentException.class, () -> new FlowSchedule(new double[] {1}), "1");
    }

    @Test
    void badModelOutputsNameTheStep() {
        FlowSdeSampler s = FlowSdeSampler.sde(10, 3);
        try (Scope scope = Scope.open(); Generator gen = Generator.create(1)) {
            Tensor x = Tensor.zeros(2, 4);
            assertMessage(IllegalStateException.class, () -> s.step((xx, t, c) -> Tensor.zeros(2, 5), x, null, 3, gen),
                    "step 3", "[2, 5]", "[2, 4]");
            assertMessage(IllegalStateException.class, () -> s.step((xx, t, c) -> null, x, null, 2, gen), "step 2");
            assertMessage(IllegalArgumentException.class, () -> s.step((xx, t, c) -> Tensor.full(Double.NaN,
                    io.progrpo.tensor.DType.FLOAT32, io.progrpo.tensor.Device.CPU, 2, 4), x, null, 4, gen), "step 4", "NaN");
            assertMessage(IndexOutOfBoundsException.class, () -> s.step((xx, t, c) -> xx.mul(1.0), x, null, 10, gen), "10");
            assertMessage(IndexOutOfBoundsException.class, () -> s.time(-1), "-1");
            assertMessage(IllegalArgumentException.class, () -> s.logProb((xx, t, c) -> xx.mul(1.0), x, Tensor.zeros(2, 3), null, 1),
                    "[2, 3]", "[2, 4]");
        }
    }

    static <T extends Throwable> void assertMessage(Class<T> type, org.junit.jupiter.api.function.Executable call, String... parts) {
        T e = assertThrows(type, call);
        for (String p : parts) assertTrue(e.getMessage() != null && e.getMessage().contains(p), "message '" + e.getMessage() + "' should name " + p);
    }

    static float[] randomArray(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static void assertArrayEqualsTol(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-6 * (1 + Math.abs(expected[i])));
    }
}
