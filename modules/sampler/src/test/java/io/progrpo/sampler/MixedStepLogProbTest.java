package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static io.progrpo.sampler.FlowSdeSamplerTest.randomArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.sampler.custom.NoisyEulerSampler;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Linear;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link Sampler#logProb(VelocityModel, Tensor, Tensor, Tensor, int[])}: rows of different steps in one call equal,
 * row for row, the per-step log-prob of their step (the built-in overrides with one forward, and the default that
 * groups rows by step for custom samplers).
 */
class MixedStepLogProbTest {
    private static final int ROWS = 7;

    /** v = Linear(x) + 0.3 t + 0.5 cond over latents [B, 4, 8] and cond [B, 8]: depends on the per-row time. */
    private static VelocityModel learnable(Linear lin) {
        return (x, t, c) -> {
            try (Scope s = Scope.open()) {
                return s.keep(lin.forward(x).add(t.reshape(x.size(0), 1, 1).mul(0.3)).add(c.unsqueeze(1).mul(0.5)));
            }
        };
    }

    @Test
    void mixedStepsEqualThePerStepLogProbsWithGuidance() {
        for (boolean detach : new boolean[] {true, false}) {
            checkAgainstPerStep(FlowSdeSampler.sde(6, 3.0), detach, 11);
            checkAgainstPerStep(new DdimSampler(BetaSchedule.stableDiffusion(), 6, 1.0), detach, 12);
            checkAgainstPerStep(new NoisyEulerSampler(6, 0.5), detach, 13); // the default implementation
        }
    }

    private static void checkAgainstPerStep(Sampler sampler, boolean detach, long seed) {
        long live = MemoryLedger.liveTensors();
        Random r = new Random(seed);
        try (Scope scope = Scope.open(); Generator gen = Generator.create(seed); Linear lin = new Linear(8, 8, gen)) {
            VelocityModel model = new ClassifierFreeGuidance(learnable(lin), 4.5, Tensor.zeros(8), detach);
            Tensor x = Tensor.of(randomArray(r, ROWS * 32), ROWS, 4, 8);
            Tensor xNext = Tensor.of(randomArray(r, ROWS * 32), ROWS, 4, 8);
            Tensor cond = Tensor.of(randomArray(r, ROWS * 8), ROWS, 8);
            int[] steps = new int[ROWS];
            for (int i = 0; i < ROWS; i++) steps[i] = r.nextInt(sampler.steps());
            steps[0] = 0;
            steps[1] = sampler.steps() - 1; // at least two distinct steps, unordered
            LogProbResult mixed = sampler.logProb(model, x, xNext, cond, steps);
            assertArrayEquals(new long[] {ROWS}, mixed.logProb().shape());
            assertArrayEquals(x.shape(), mixed.mean().shape());
            assertArrayEquals(new long[] {ROWS}, mixed.std().shape());
            assertTrue(mixed.logProb().requiresGrad(), "with gradient");
            float[] lp = mixed.logProb().toFloatArray();
            float[] mean = mixed.mean().toFloatArray();
            float[] std = mixed.std().toFloatArray();
            for (int i = 0; i < ROWS; i++) {
                long[] row = {i};
                LogProbResult one = sampler.logProb(model, x.indexSelect(0, row), xNext.indexSelect(0, row),
                        cond.indexSelect(0, row), steps[i]);
                String what = sampler + " detach=" + detach + " row " + i + " step " + steps[i];
                assertEquals(one.logProb().toFloatArray()[0], lp[i], 1e-6, what);
                assertEquals(one.std().toFloatArray()[0], std[i], 1e-6, what);
                float[] m = one.mean().toFloatArray();
                for (int e = 0; e < m.length; e++) assertEquals(m[e], mean[i * m.length + e], 1e-6, what + " element " + e);
            }
            mixed.logProb().sum().backward();
            try (Tensor g = lin.weight().grad()) {
                assertNotNull(g, "the gradient reaches the model parameters");
            }
        }
        assertEquals(live, MemoryLedger.liveTensors(), "no tensor left behind");
    }

    /** The flow override against the SDE formula recomputed in double precision (no guidance, v = 0.5 x + sigma). */
    @Test
    void flowMixedStepsMatchTheFormulaInDouble() {
        FlowSdeSampler s = FlowSdeSampler.sde(8, 3.0);
        Random r = new Random(21);
        int per = 12;
        float[] xs = randomArray(r, ROWS * per);
        float[] xn = randomArray(r, ROWS * per);
        int[] steps = {0, 5, 2, 7, 5, 1, 3};
        try (Scope scope = Scope.open()) {
            VelocityModel model = (x, t, c) -> x.mul(0.5).add(t.reshape(x.size(0), 1));
            LogProbResult res = s.logProb(model, Tensor.of(xs, ROWS, per), Tensor.of(xn, ROWS, per), null, steps);
            double[] got = res.logProb().toDoubleArray();
            for (int i = 0; i < ROWS; i++) {
                int k = steps[i];
                double sigma = s.time(k);
                double dt = s.dt(k);
                double std = s.stdT(k);
                double sd = std * Math.sqrt(-dt);
                double sum = 0;
                for (int e = i * per; e < (i + 1) * per; e++) {
                    double v = 0.5 * xs[e] + sigma;
                    double mu = xs[e] * (1 + std * std / (2 * sigma) * dt) + v * (1 + std * std * (1 - sigma) / (2 * sigma)) * dt;
                    double z = xn[e] - mu;
                    sum += -z * z / (2 * sd * sd) - Math.log(sd) - GaussianPolicy.LOG_SQRT_2PI;
                }
                double want = sum / per;
                assertEquals(want, got[i], 1e-5 * (1 + Math.abs(want)), "row " + i + " step " + k);
                assertEquals(sd, res.std().toDoubleArray()[i], 1e-6, "row " + i + " std");
            }
        }
    }

    @Test
    void badInputsAreNamed() {
        Sampler[] samplers = {FlowSdeSampler.sde(4, 1.0), new DdimSampler(BetaSchedule.stableDiffusion(), 4, 1.0),
                new NoisyEulerSampler(4, 0.5)};
        try (Scope scope = Scope.open()) {
            VelocityModel model = (x, t, c) -> x.mul(1.0);
            Tensor x = Tensor.zeros(3, 5);
            for (Sampler s : samplers) {
                assertMessage(IllegalArgumentException.class, () -> s.logProb(model, x, x, null, new int[] {0, 1}),
                        "2 entries", "3 rows");
                assertMessage(IllegalArgumentException.class, () -> s.logProb(model, x, x, null, (int[]) null), "stepIndexPerRow");
                assertMessage(IndexOutOfBoundsException.class, () -> s.logProb(model, x, x, null, new int[] {0, 4, 1}),
                        "row 1", "step index 4", "[0, 4)");
                assertMessage(IndexOutOfBoundsException.class, () -> s.logProb(model, x, x, null, new int[] {0, 1, -1}),
                        "row 2", "step index -1");
                assertMessage(IllegalArgumentException.class, () -> s.logProb(model, x, Tensor.zeros(3, 4), null, new int[] {0, 1, 2}),
                        "[3, 4]", "[3, 5]");
                assertMessage(IllegalArgumentException.class, () -> s.logProb(model, x, x, Tensor.zeros(2, 8), new int[] {0, 1, 2}),
                        "[2, 8]", "3 rows");
            }
            // deterministic steps have no log-prob: the ODE (a = 0) and DDIM with eta = 0
            for (Sampler s : new Sampler[] {FlowSdeSampler.ode(4, 1.0), new DdimSampler(BetaSchedule.stableDiffusion(), 4, 0.0)}) {
                assertMessage(IllegalArgumentException.class, () -> s.logProb(model, x, x, null, new int[] {2, 0, 1}),
                        "row 0", "step 2", "deterministic");
            }
        }
    }
}
