package io.progrpo.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

/**
 * The dance-sde and cps dynamics and the SDE window, each against its formula recomputed in plain Java doubles on
 * random latents, velocities and sigma grids (module-info-docs/sampler.md, "Flow dynamics" and "SDE windows").
 */
class SamplerDynamicsTest {

    private static double[] randomGrid(Random r, int steps) {
        double[] sig = new double[steps + 1];
        sig[0] = 1.0;
        for (int i = 1; i < steps; i++) sig[i] = 0.02 + 0.96 * r.nextDouble();
        sig[steps] = 0.0;
        Arrays.sort(sig, 1, steps);
        for (int i = 1, j = steps - 1; i < j; i++, j--) {
            double t = sig[i];
            sig[i] = sig[j];
            sig[j] = t;
        }
        return sig;
    }

    private static float[] randomArray(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** The expected (coefX, coefV, s_t) of one step in doubles, from the formulas as written in the docs. */
    private static double[] expected(FlowSdeSampler.Dynamics dyn, double a, double sigma, double next) {
        double dt = next - sigma;
        return switch (dyn) {
            case DANCE_SDE -> new double[] {1 + a * a / (2 * sigma) * dt, (1 + a * a * (1 - sigma) / (2 * sigma)) * dt, a * Math.sqrt(-dt)};
            case CPS -> {
                double s = next * Math.sin(a * Math.PI / 2);
                double keep = Math.sqrt(next * next - s * s);
                // mu = (1 - next) x0_hat + keep x1_hat with x0_hat = x - sigma v, x1_hat = x + (1 - sigma) v
                yield new double[] {(1 - next) + keep, -(1 - next) * sigma + keep * (1 - sigma), s};
            }
            case FLOW_SDE -> throw new AssertionError("covered by FlowSdeSamplerTest");
        };
    }

    @Test
    void danceSdeAndCpsStepsMatchTheirFormulasInDouble() {
        Random r = new Random(11);
        for (FlowSdeSampler.Dynamics dyn : new FlowSdeSampler.Dynamics[] {FlowSdeSampler.Dynamics.DANCE_SDE, FlowSdeSampler.Dynamics.CPS}) {
            double[] sig = randomGrid(r, 6);
            double a = 0.2 + 0.7 * r.nextDouble();
            FlowSdeSampler sampler = new FlowSdeSampler(new FlowSchedule(sig), a, dyn);
            int b = 3;
            int d = 8;
            try (Scope scope = Scope.open(); Generator gen = Generator.create(5)) {
                for (int i = 0; i < 6; i++) {
                    float[] xs = randomArray(r, b * d);
                    float[] vs = randomArray(r, b * d);
                    Tensor x = Tensor.of(xs, b, d);
                    Tensor v = Tensor.of(vs, b, d);
                    StepOutput out = sampler.step((xx, t, c) -> v.mul(1.0), x, null, i, gen);
                    double[] e = expected(dyn, a, sig[i], sig[i + 1]);
                    assertEquals(e[2], sampler.policyStd(i), 1e-12, dyn + " s_t at step " + i);
                    float[] mean = out.mean().toFloatArray();
                    float[] next = out.next().toFloatArray();
                    float[] x0 = out.x0Preview().toFloatArray();
                    double lp = 0;
                    for (int k = 0; k < b * d; k++) {
                        double mu = e[0] * xs[k] + e[1] * vs[k];
                        assertEquals(mu, mean[k], 1e-5 * (1 + Math.abs(mu)), dyn + " mean at step " + i);
                        assertEquals(xs[k] - sig[i] * vs[k], x0[k], 1e-5 * (1 + Math.abs(x0[k])), "x0 preview");
                        if (e[2] > 0 && k < d) lp += -Math.pow(next[k] - mean[k], 2) / (2 * e[2] * e[2]) - Math.log(e[2]) - 0.5 * Math.log(2 * Math.PI);
                    }
                    if (e[2] > 0) {
                        assertTrue(out.isStochastic(), dyn + " step " + i + " is stochastic");
                        assertEquals(lp / d, out.logProb().toDoubleArray()[0], 1e-4 * (1 + Math.abs(lp / d)), dyn + " log-prob of row 0");
                        // the stored log-prob is that of the step's own sample under its own mean
                        LogProbResult again = sampler.logProb((xx, t, c) -> v.mul(1.0), x, out.next(), null, i);
                        assertArrayEquals(out.logProb().toFloatArray(), again.logProb().toFloatArray(), 1e-6f);
                    } else {
                        assertFalse(out.isStochastic(), dyn + " step " + i + " (sigma_next = " + sig[i + 1] + ") is deterministic");
                        assertArrayEquals(out.mean().toFloatArray(), out.next().toFloatArray());
                    }
                }
            }
            assertEquals(dyn == FlowSdeSampler.Dynamics.CPS, !sampler.isStochastic(5), dyn + ": the last step is deterministic for CPS only");
        }
    }

    @Test
    void cpsPreservesTheNoiseVarianceOfTheMarginal() {
        // the noise in x_next: keep^2 (of x1_hat, unit variance at the true velocity) + s_t^2 = sigma_next^2
        for (double a : new double[] {0.1, 0.5, 0.9, 1.0}) {
            FlowSdeSampler s = new FlowSdeSampler(8, 3.0, a, FlowSdeSampler.Dynamics.CPS);
            for (int i = 0; i < 8; i++) {
                double next = s.schedule().sigma(i + 1);
                double keep = next * Math.cos(a * Math.PI / 2);
                assertEquals(next * next, keep * keep + s.policyStd(i) * s.policyStd(i), 1e-12);
            }
            assertTrue(Double.isNaN(s.klStd(0)), "CPS has no std_t / sqrt(-dt) split");
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new FlowSdeSampler(8, 1.0, 1.5, FlowSdeSampler.Dynamics.CPS));
        assertTrue(e.getMessage().contains("[0, 1]") && e.getMessage().contains("1.5"), e.getMessage());
    }

    @Test
    void everyDynamicsAtNoiseZeroIsTheEulerOde() {
        for (FlowSdeSampler.Dynamics dyn : FlowSdeSampler.Dynamics.values()) {
            FlowSdeSampler s = new FlowSdeSampler(6, 2.0, 0.0, dyn);
            for (int i = 0; i < 6; i++) assertFalse(s.isStochastic(i), dyn + " step " + i);
        }
    }

    @Test
    void theWindowIsStochasticInsideAndTheEulerOdeOutside() {
        Random r = new Random(3);
        FlowSdeSampler sde = new FlowSdeSampler(new FlowSchedule(randomGrid(r, 8)), 0.7);
        SdeWindowSampler w = new SdeWindowSampler(sde, 2, 3, 0);
        try (Scope scope = Scope.open()) {
            float[] xs = randomArray(r, 12);
            float[] vs = randomArray(r, 12);
            Tensor x = Tensor.of(xs, 2, 6);
            Tensor v = Tensor.of(vs, 2, 6);
            for (int i = 0; i < 8; i++) {
                boolean in = i >= 2 && i < 5;
                assertEquals(in, w.isStochastic(i), "step " + i);
                StepOutput a;
                StepOutput b;
                try (Generator g1 = Generator.create(1); Generator g2 = Generator.create(2)) {
                    a = w.step((xx, t, c) -> v.mul(1.0), x, null, i, g1);
                    b = w.step((xx, t, c) -> v.mul(1.0), x, null, i, g2);
                }
                if (in) {
                    assertFalse(Arrays.equals(a.next().toFloatArray(), b.next().toFloatArray()), "window step " + i + " draws noise");
                } else {
                    assertNull(a.logProb(), "ODE step " + i + " has no log-prob");
                    assertArrayEquals(a.next().toFloatArray(), b.next().toFloatArray(), "ODE step " + i + " ignores the generator");
                    double dt = sde.schedule().sigma(i + 1) - sde.schedule().sigma(i);
                    float[] next = a.next().toFloatArray();
                    for (int k = 0; k < 12; k++) assertEquals(xs[k] + vs[k] * dt, next[k], 1e-5 * (1 + Math.abs(next[k])), "Euler step " + i);
                    int step = i;
                    assertThrows(IllegalArgumentException.class, () -> w.logProb((xx, t, c) -> v, x, x, null, step));
                }
            }
            // only the window's steps are stored for training
            try (Generator g = Generator.create(9);
                 Trajectory t = SamplingLoop.run(w, (xx, tt, c) -> xx.mul(-0.5), x, null, g, SamplingLoop.Storage.TRAINING, null)) {
                assertEquals(3, t.stepsStored());
                assertEquals(2, t.stepIndex(0));
                assertEquals(4, t.stepIndex(2));
            }
        }
    }

    @Test
    void theWindowSlidesPerEpochAndWraps() {
        FlowSdeSampler sde = FlowSdeSampler.sde(10, 1.0);
        SdeWindowSampler w = new SdeWindowSampler(sde, 0, 2, 3);
        // starts 0..T-1-length = 0..7: 8 positions
        int[] starts = new int[6];
        for (int e = 0; e < 6; e++) starts[e] = w.forEpoch(e).start();
        assertArrayEquals(new int[] {0, 3, 6, 1, 4, 7}, starts);
        for (int e = 0; e < 40; e++) {
            SdeWindowSampler at = w.forEpoch(e);
            assertTrue(at.start() + at.length() <= 9, "epoch " + e + " stays within the T - 1 trainable steps");
        }
        SdeWindowSampler fixed = new SdeWindowSampler(sde, 4, 2, 0);
        assertSame(fixed, fixed.forEpoch(7));
        var e = assertThrows(IllegalArgumentException.class, () -> new SdeWindowSampler(sde, 8, 2, 0));
        assertTrue(e.getMessage().contains("8:2") && e.getMessage().contains("T - 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SdeWindowSampler(sde, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SdeWindowSampler(sde, 0, 2, -1));
    }

    @Test
    void theNewSamplersAreRegistered() {
        SamplerSettings settings = new SamplerSettings(10, 6, 3.0, 0.6, 1.0, SamplerSettings.Prediction.VELOCITY, BetaSchedule.stableDiffusion());
        FlowSdeSampler dance = assertInstanceOf(FlowSdeSampler.class, SamplerRegistry.trainSampler("dance-sde", settings, null));
        assertEquals(FlowSdeSampler.Dynamics.DANCE_SDE, dance.dynamics());
        assertEquals(0.6, dance.stdT(3), 1e-12);
        FlowSdeSampler cps = assertInstanceOf(FlowSdeSampler.class, SamplerRegistry.trainSampler("cps", settings, null));
        assertEquals(FlowSdeSampler.Dynamics.CPS, cps.dynamics());
        FlowSdeSampler ode = assertInstanceOf(FlowSdeSampler.class, SamplerRegistry.evalSampler("cps", settings, null));
        assertEquals(0.0, ode.noiseLevel());
        assertEquals(6, ode.steps());
        assertFalse(SamplerRegistry.provider("cps", null).supports(SamplerSettings.Prediction.EPSILON));
    }
}
