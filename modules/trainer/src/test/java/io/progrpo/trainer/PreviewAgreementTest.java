package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The per-step within-group agreement on a tiny world (latents 3 x 2 x 2, an affine policy, a nonlinear reward):
 * every figure against an independent double-precision recomputation from the returned proxies and final rewards
 * (Pearson by one-pass sums, Spearman by counted ranks, the mean and its standard error by their definitions), the
 * proxies against the final rewards where they must meet, and nothing left alive.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PreviewAgreementTest {
    /** The mean of tanh(3 x) over an image's pixels: nonlinear, so Pearson and Spearman differ. */
    static final RewardFunction TANH = new RewardFunction() {
        @Override
        public String name() {
            return "tanh_mean";
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            try (Scope s = Scope.open()) {
                return RewardOutput.of(images.mul(3).tanh().reshape(images.size(0), -1).mean(false, 1).toDoubleArray());
            }
        }
    };

    @Test
    void perStepMeansAndStandardErrorsMatchAnIndependentRecomputation() {
        long live = MemoryLedger.liveTensors();
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(-0.3, 0.2, 0.1)) {
            int[] steps = {1, 2, 3, 4};
            PreviewAgreement.Options o = new PreviewAgreement.Options(6, 5, steps, 4.5, 2, 17);
            PreviewAgreement.Result r = PreviewAgreement.measure(policy, new LearningDirectionTest.World(), x -> x.clamp(-1e6, 1e6),
                    TANH, new FlowSdeSampler(5, 1.0, 0.7), Device.CPU, o);
            assertEquals(5, r.prompts().size());
            assertEquals(6L * 5 * 5 * 2, r.nfe(), "G x groups x T x 2 (guidance)");
            assertEquals(4, r.steps().size());
            for (int k = 0; k < steps.length; k++) {
                double[] p = new double[5];
                double[] s = new double[5];
                for (int g = 0; g < 5; g++) {
                    assertEquals(6, r.proxies()[g][k].length);
                    p[g] = ShadowGroupTest.CorrelationOracle.pearson(r.proxies()[g][k], r.finals()[g]);
                    s[g] = ShadowGroupTest.CorrelationOracle.spearman(r.proxies()[g][k], r.finals()[g]);
                }
                PreviewAgreement.Step st = r.steps().get(k);
                assertEquals(steps[k], st.step());
                assertEquals(5, st.groups());
                assertEquals(mean(p), st.pearson(), 1e-9);
                assertEquals(se(p), st.pearsonSe(), 1e-9);
                assertEquals(mean(s), st.spearman(), 1e-9);
                assertEquals(se(s), st.spearmanSe(), 1e-9);
                assertNotEquals(st.pearson(), st.spearman(), "a nonlinear reward: two different figures");
            }
            // the previews are of the chain itself: different after each step, and no preview is a final reward
            assertNotEquals(r.proxies()[0][0][0], r.proxies()[0][3][0]);
            assertNotEquals(r.finals()[0][0], r.finals()[1][0]);
        }
        assertEquals(live, MemoryLedger.liveTensors(), "every tensor of the runs is freed");
    }

    @Test
    void oneSeedDrawsTheSameGroupsAndNoGuidanceIsOneEvaluationPerRowAndStep() {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(-0.3, 0.2, 0.1)) {
            PreviewAgreement.Result a = PreviewAgreement.measure(policy, new LearningDirectionTest.World(), x -> x.clamp(-1e6, 1e6),
                    TANH, new FlowSdeSampler(5, 1.0, 0.7), Device.CPU, new PreviewAgreement.Options(4, 3, new int[] {2}, 1, 3, 9));
            PreviewAgreement.Result b = PreviewAgreement.measure(policy, new LearningDirectionTest.World(), x -> x.clamp(-1e6, 1e6),
                    TANH, new FlowSdeSampler(5, 1.0, 0.7), Device.CPU, new PreviewAgreement.Options(4, 3, new int[] {2}, 1, 3, 9));
            assertEquals(a.prompts(), b.prompts());
            for (int g = 0; g < 3; g++) assertArrayEquals(a.finals()[g], b.finals()[g], 0.0, "one seed, one draw");
            assertEquals(4L * 3 * 5, a.nfe(), "no guidance: one evaluation per row and step");
        }
    }

    @Test
    void badOptionsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new PreviewAgreement.Options(2, 4, new int[] {1}, 1, 1, 0));
        assertTrue(e.getMessage().contains("groupSize must be >= 3, got 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PreviewAgreement.Options(4, 1, new int[] {1}, 1, 1, 0));
        assertTrue(e.getMessage().contains("groups must be >= 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PreviewAgreement.Options(4, 4, new int[0], 1, 1, 0));
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0, 0, 0)) {
            e = assertThrows(IllegalArgumentException.class, () -> PreviewAgreement.measure(policy, new LearningDirectionTest.World(),
                    x -> x.clone_(), TANH, new FlowSdeSampler(5, 1.0, 0.7), Device.CPU,
                    new PreviewAgreement.Options(4, 2, new int[] {3, 6}, 1, 1, 0)));
            assertTrue(e.getMessage().contains("[1, 5]") && e.getMessage().contains("got 6"), e.getMessage());
        }
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /** sqrt(sum (x - mean)^2 / (n (n - 1))). */
    static double se(double[] v) {
        double m = mean(v);
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length * (v.length - 1.0)));
    }
}
