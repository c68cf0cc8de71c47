package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static io.progrpo.sampler.FlowSdeSamplerTest.randomArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Random;

import org.junit.jupiter.api.Test;

class DdimSamplerTest {
    private static final BetaSchedule SD = BetaSchedule.scaledLinear(1000, 0.00085, 0.012);

    @Test
    void betaSchedulesAndAlphaBar() {
        for (int t : new int[] {0, 1, 500, 999}) {
            double sq = Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * t / 999.0;
            assertEquals(sq * sq, SD.beta(t), 1e-15);
            double lin = 1e-4 + (0.02 - 1e-4) * t / 999.0;
            assertEquals(lin, BetaSchedule.linear(1000, 1e-4, 0.02).beta(t), 1e-15);
        }
        double prod = 1;
        for (int t = 0; t < 1000; t++) {
            prod *= 1 - SD.beta(t);
            if (t % 97 == 0 || t == 999) assertEquals(prod, SD.alphaBar(t), 1e-12, "alphabar_" + t);
        }
        assertEquals(SD, BetaSchedule.stableDiffusion());
    }

    @Test
    void leadingTimesteps() {
        DdimSampler sd = new DdimSampler(SD, 50, 1.0);
        int[] expected = new int[50];
        for (int i = 0; i < 50; i++) expected[i] = (49 - i) * 20 + 1;
        assertArrayEquals(expected, sd.timesteps());
        assertEquals(981, sd.timestep(0));
        assertEquals(981.0, sd.time(0));
        assertEquals(SD.alphaBar(961), sd.alphaBarPrev(0), 1e-15);
        assertEquals(SD.alphaBar(0), sd.alphaBarPrev(49), 1e-15, "SD 1.x: past the start alphabar' = alphabar_0");
        DdimSampler plain = new DdimSampler(SD, 10, 1.0, 0, true);
        assertEquals(900, plain.timestep(0));
        assertEquals(0, plain.timestep(9));
        assertEquals(1.0, plain.alphaBarPrev(9));
        assertFalse(plain.isStochastic(9), "alphabar' = 1 gives sigma_t = 0 on the last step");
        assertTrue(plain.isStochastic(8));
    }

    /** x0_hat, sigma_t, mu and the log-prob recomputed in plain Java for random x and eps. */
    @Test
    void stepMatchesFormulasInDouble() {
        Random r = new Random(5);
        double eta = 0.3 + 0.7 * r.nextDouble();
        DdimSampler s = new DdimSampler(SD, 10, eta);
        int b = 3;
        int d = 7;
        try (Scope scope = Scope.open(); Generator gen = Generator.create(9)) {
            for (int i = 0; i < 10; i++) {
                float[] xs = randomArray(r, b * d);
                float[] es = randomArray(r, b * d);
                Tensor epsT = Tensor.of(es, b, d);
                int step = i;
                StepOutput out = s.step((x, t, c) -> {
                    for (float tv : t.toFloatArray()) assertEquals(s.timestep(step), tv, "the model gets the timestep value");
                    return epsT.mul(1.0);
                }, Tensor.of(xs, b, d), null, i, gen);
                double a = SD.alphaBar(s.timestep(i));
                int prevT = s.timestep(i) - 100;
                double ap = prevT >= 0 ? SD.alphaBar(prevT) : SD.alphaBar(0);
                double sigma = eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
                assertEquals(sigma, s.sigma(i), 1e-12);
                float[] x0 = out.x0Preview().toFloatArray();
                float[] mean = out.mean().toFloatArray();
                float[] next = out.next().toFloatArray();
                for (int e = 0; e < b * d; e++) {
                    double x0h = (xs[e] - Math.sqrt(1 - a) * es[e]) / Math.sqrt(a);
                    double mu = Math.sqrt(ap) * x0h + Math.sqrt(1 - ap - sigma * sigma) * es[e];
                    assertEquals(x0h, x0[e], 2e-5 * (1 + Math.abs(x0h)), "x0_hat at step " + i);
                    assertEquals(mu, mean[e], 2e-5 * (1 + Math.abs(mu)), "mu at step " + i);
                }
                for (float sv : out.std().toFloatArray()) assertEquals(sigma, sv, 1e-6 * sigma);
                double[] lp = out.logProb().toDoubleArray();
                for (int row = 0; row < b; row++) {
                    double sum = 0;
                    for (int e = row * d; e < (row + 1) * d; e++) {
                        double z = next[e] - mean[e];
                        sum += -z * z / (2 * sigma * sigma) - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
                    }
                    assertEquals(sum / d, lp[row], 1e-4 * (1 + Math.abs(sum / d)));
                }
            }
        }
    }

    @Test
    void etaZeroIsDeterministic() {
        DdimSampler s = new DdimSampler(SD, 5, 0.0);
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.ones(2, 3);
            for (int i = 0; i < 5; i++) {
                assertFalse(s.isStochastic(i));
                StepOutput out = s.step((xx, t, c) -> xx.mul(0.1), x, null, i, null);
                assertNull(out.logProb());
                assertArrayEquals(out.mean().toFloatArray(), out.next().toFloatArray());
            }
        }
    }

    @Test
    void etaOneReproducesData() {
        checkMoments(new DdimSampler(SD, 50, 1.0), 21, 0.20);
    }

    @Test
    void etaZeroReproducesData() {
        checkMoments(new DdimSampler(SD, 50, 0.0), 22, 0.12);
    }

    /**
     * Starts from the exact marginal at t_0 (SD's schedule does not reach zero SNR: N(0, I) is not x_T), compares the
     * final latents with the exact discrete chain within 5 SE and with the data marginal at the end point within
     * {@code varTol} relative: DDIM's coarse steps under-disperse (T = 50: -15% at eta = 1, -7.5% at eta = 0).
     */
    private static void checkMoments(DdimSampler s, long seed, double varTol) {
        int n = GaussianWorld.ROWS;
        int dims = GaussianWorld.DIMS;
        double a0 = SD.alphaBar(s.timestep(0));
        double var0 = a0 * GaussianWorld.S * GaussianWorld.S + 1 - a0;
        double[] mean0 = new double[dims];
        float[] shift = new float[dims];
        for (int j = 0; j < dims; j++) {
            mean0[j] = Math.sqrt(a0) * GaussianWorld.dataMean(j);
            shift[j] = (float) mean0[j];
        }
        int[] ts = s.timesteps();
        double[] prev = new double[ts.length];
        for (int i = 0; i < ts.length; i++) prev[i] = s.alphaBarPrev(i);
        double[] oracle = GaussianWorld.ddimOracle(SD, ts, prev, s.eta(), mean0, var0);
        double[] sample;
        try (Scope scope = Scope.open(); Generator gen = Generator.create(seed)) {
            Tensor noise = Tensor.randn(gen, n, dims).mul(Math.sqrt(var0)).add(Tensor.of(shift, 1, dims));
            try (Trajectory traj = SamplingLoop.run(s, GaussianWorld.ddimEpsilon(SD), noise, null, gen, true)) {
                sample = GaussianWorld.moments(traj.finalLatents());
            }
        }
        GaussianWorld.assertMoments(oracle, sample, s + " vs exact discrete chain");
        double aEnd = s.alphaBarPrev(s.steps() - 1);
        double endVar = aEnd * GaussianWorld.S * GaussianWorld.S + 1 - aEnd;
        for (int j = 0; j < dims; j++) {
            assertEquals(Math.sqrt(aEnd) * GaussianWorld.dataMean(j), sample[j], 5 * Math.sqrt(endVar / n) + 0.01, "mean of dimension " + j);
        }
        assertEquals(endVar, sample[dims], varTol * endVar, "variance");
    }

    @Test
    void badConfigurationsNameTheValue() {
        assertMessage(IllegalArgumentException.class, () -> new DdimSampler(SD, 0, 1.0), "steps", "0");
        assertMessage(IllegalArgumentException.class, () -> new DdimSampler(SD, 1001, 1.0), "1001");
        assertMessage(IllegalArgumentException.class, () -> new DdimSampler(SD, 50, -0.5), "eta", "-0.5");
        assertMessage(IllegalArgumentException.class, () -> new DdimSampler(SD, 1000, 1.0, 1, false), "timestep 1000");
        assertMessage(IllegalArgumentException.class, () -> new DdimSampler(SD, 2, 50.0), "eta 50.0");
        assertMessage(IllegalArgumentException.class, () -> new BetaSchedule(new double[] {0.1, 1.5}), "beta[1]", "1.5");
        assertMessage(IllegalArgumentException.class, () -> BetaSchedule.linear(0, 0.1, 0.2), "0");
        assertMessage(IllegalArgumentException.class, () -> BetaSchedule.scaledLinear(10, -0.1, 0.2), "-0.1");
    }
}
