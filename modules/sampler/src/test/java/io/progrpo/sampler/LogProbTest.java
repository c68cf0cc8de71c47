package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.randomArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Linear;

import java.util.Random;

import org.junit.jupiter.api.Test;

class LogProbTest {

    @Test
    void gaussianLogProbMatchesDouble() {
        Random r = new Random(17);
        int b = 4;
        int per = 3 * 5;
        try (Scope scope = Scope.open()) {
            float[] xn = randomArray(r, b * per);
            float[] mu = randomArray(r, b * per);
            float[] sd = new float[b];
            for (int i = 0; i < b; i++) sd[i] = (float) (0.05 + r.nextDouble());
            Tensor lp = GaussianPolicy.logProb(Tensor.of(xn, b, 3, 5), Tensor.of(mu, b, 3, 5), Tensor.of(sd, b));
            assertArrayEquals(new long[] {b}, lp.shape());
            double[] got = lp.toDoubleArray();
            for (int row = 0; row < b; row++) {
                double s = sd[row];
                double sum = 0;
                for (int e = row * per; e < (row + 1) * per; e++) {
                    double z = (double) xn[e] - mu[e];
                    sum += -z * z / (2 * s * s) - Math.log(s) - Math.log(Math.sqrt(2 * Math.PI));
                }
                assertEquals(sum / per, got[row], 1e-5 * (1 + Math.abs(sum / per)), "row " + row);
            }
            // one element per row: the latents are [B]
            Tensor one = GaussianPolicy.logProb(Tensor.vector(0.5f, -1f), Tensor.vector(0f, 0f), Tensor.vector(1f, 2f));
            double[] o = one.toDoubleArray();
            assertEquals(-0.125 - Math.log(Math.sqrt(2 * Math.PI)), o[0], 1e-6);
            assertEquals(-1.0 / 8 - Math.log(2) - Math.log(Math.sqrt(2 * Math.PI)), o[1], 1e-6);
        }
    }

    @Test
    void sampleDrawsAroundTheMeanWithThePerRowStd() {
        try (Scope scope = Scope.open(); Generator gen = Generator.create(4)) {
            int b = 2;
            int d = 20000;
            Tensor mean = Tensor.full(3.0, io.progrpo.tensor.DType.FLOAT32, io.progrpo.tensor.Device.CPU, b, d);
            Tensor std = Tensor.vector(0.5f, 2f);
            StepOutput out = GaussianPolicy.sample(mean, std, null, null, gen);
            float[] next = out.next().toFloatArray();
            double[] s2 = new double[b];
            for (int row = 0; row < b; row++) {
                double m = 0;
                double ss = 0;
                for (int e = row * d; e < (row + 1) * d; e++) m += next[e];
                m /= d;
                for (int e = row * d; e < (row + 1) * d; e++) ss += (next[e] - m) * (next[e] - m);
                s2[row] = ss / (d - 1);
                assertEquals(3.0, m, 5 * Math.sqrt(s2[row] / d));
            }
            assertEquals(0.25, s2[0], 0.25 * 5 * Math.sqrt(2.0 / d));
            assertEquals(4.0, s2[1], 4.0 * 5 * Math.sqrt(2.0 / d));
            assertArrayEquals(GaussianPolicy.logProb(out.next(), mean, std).toFloatArray(), out.logProb().toFloatArray());
        }
    }

    /** A small learnable model: v = Linear(x) + 0.3 t + 0.5 cond, over latents [B, 4, 8] and cond [B, 8]. */
    private static VelocityModel learnable(Linear lin) {
        return (x, t, c) -> {
            try (Scope s = Scope.open()) {
                Tensor out = lin.forward(x).add(t.reshape(x.size(0), 1, 1).mul(0.3)).add(c.unsqueeze(1).mul(0.5));
                return s.keep(out);
            }
        };
    }

    @Test
    void recomputedLogProbEqualsStoredBitForBit() {
        for (boolean detach : new boolean[] {true, false}) {
            checkRecompute(FlowSdeSampler.sde(6, 3.0), detach);
            checkRecompute(new DdimSampler(BetaSchedule.stableDiffusion(), 6, 1.0), detach);
        }
    }

    private static void checkRecompute(Sampler sampler, boolean detach) {
        long live = MemoryLedger.liveTensors();
        try (Scope scope = Scope.open(); Generator gen = Generator.create(8); Linear lin = new Linear(8, 8, gen)) {
            Tensor cond = Tensor.randn(gen, 5, 8);
            Tensor uncond = Tensor.zeros(8);
            VelocityModel model = new ClassifierFreeGuidance(learnable(lin), 4.5, uncond, detach);
            Tensor noise = Tensor.randn(gen, 5, 4, 8);
            try (Trajectory traj = SamplingLoop.run(sampler, model, noise, cond, gen)) {
                assertEquals(sampler.steps(), traj.stepsStored());
                for (int k = 0; k < traj.stepsStored(); k++) {
                    assertTrue(Autograd.isGradEnabled());
                    try (LogProbResult re = sampler.logProb(model, traj.latents(k), traj.nextLatents(k), cond, traj.stepIndex(k))) {
                        String what = sampler + " detach=" + detach + " step " + k;
                        assertArrayEquals(traj.logProb(k).toFloatArray(), re.logProb().toFloatArray(), what);
                        assertArrayEquals(traj.mean(k).toFloatArray(), re.mean().toFloatArray(), what);
                        assertTrue(re.logProb().requiresGrad(), "recomputed with gradient");
                        try (Tensor loss = re.logProb().sum()) {
                            loss.backward();
                        }
                        try (Tensor g = lin.weight().grad()) {
                            assertNotNull(g, "gradient reaches the model parameters");
                        }
                        lin.weight().zeroGrad();
                    }
                }
            }
        }
        assertEquals(live, MemoryLedger.liveTensors(), "no tensor left behind");
    }
}
