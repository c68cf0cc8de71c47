package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

/** The clipped surrogate and the KL term against a plain-Java double computation on random inputs. */
class GrpoObjectiveTest {
    @Test
    void lossMatchesHandComputation() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 20; trial++) {
            int b = 1 + rnd.nextInt(6);
            int d = 1 + rnd.nextInt(5);
            double eps = trial % 2 == 0 ? 1e-4 : 0.2;
            double beta = trial % 3 == 0 ? 0 : 0.05;
            float[] lp = new float[b];
            float[] old = new float[b];
            float[] adv = new float[b];
            float[] std = new float[b];
            float[] mu = new float[b * d];
            float[] ref = new float[b * d];
            for (int i = 0; i < b; i++) {
                old[i] = (float) rnd.nextGaussian();
                lp[i] = old[i] + (float) (rnd.nextGaussian() * (trial % 2 == 0 ? 1e-4 : 0.3));
                adv[i] = (float) (rnd.nextGaussian() * 2);
                std[i] = (float) (0.1 + rnd.nextDouble());
            }
            for (int i = 0; i < b * d; i++) {
                mu[i] = (float) rnd.nextGaussian();
                ref[i] = (float) rnd.nextGaussian();
            }
            // independent computation in double
            double policy = 0;
            double kl = 0;
            for (int i = 0; i < b; i++) {
                double ratio = Math.exp((double) lp[i] - old[i]);
                double clipped = Math.min(Math.max(ratio, 1 - eps), 1 + eps);
                policy += Math.max(-adv[i] * ratio, -adv[i] * clipped) / b;
                double sq = 0;
                for (int j = 0; j < d; j++) sq += Math.pow((double) mu[i * d + j] - ref[i * d + j], 2) / d;
                kl += sq / (2.0 * std[i] * std[i]) / b;
            }
            double expected = policy + beta * kl;
            try (Scope s = Scope.open()) {
                GrpoObjective o = new GrpoObjective(eps, beta);
                GrpoObjective.Parts p = o.loss(Tensor.of(lp, b), Tensor.of(old, b), Tensor.of(adv, b), Tensor.of(mu, b, d),
                        beta > 0 ? Tensor.of(ref, b, d) : null, Tensor.of(std, b));
                assertEquals(expected, p.loss().item(), 1e-4 * (1 + Math.abs(expected)), "trial " + trial);
                assertEquals(policy, p.policyLoss(), 1e-4 * (1 + Math.abs(policy)));
                if (beta > 0) assertEquals(kl, p.kl(), 1e-4 * (1 + kl));
            }
        }
    }

    @Test
    void gradientOfTheOnPolicyLossIsMinusAdvantageOverB() {
        // at ratio == 1 (first, on-policy update) d loss / d logp_i = -A_i / B
        try (Scope s = Scope.open()) {
            Tensor lp = Tensor.vector(0.5f, -1f, 2f).setRequiresGrad(true);
            Tensor old = Tensor.vector(0.5f, -1f, 2f);
            Tensor adv = Tensor.vector(1f, -2f, 0.5f);
            new GrpoObjective(1e-4, 0).loss(lp, old, adv, null, null, null).loss().backward();
            float[] g = lp.grad().toFloatArray();
            assertEquals(-1 / 3.0, g[0], 1e-6);
            assertEquals(2 / 3.0, g[1], 1e-6);
            assertEquals(-0.5 / 3.0, g[2], 1e-6);
        }
    }

    @Test
    void badSettingsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> new GrpoObjective(0, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GrpoObjective(1e-4, Double.NaN));
        assertEquals(true, e.getMessage().contains("NaN"), e.getMessage());
    }
}
