package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static io.progrpo.sampler.FlowSdeSamplerTest.randomArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class ClassifierFreeGuidanceTest {
    private static final int B = 3;
    private static final int D = 4;

    /** v = p x + q cond elementwise, with scalar parameters p, q; records the batch size of every call. */
    private static VelocityModel model(Tensor p, Tensor q, List<Long> calls) {
        return (x, t, c) -> {
            calls.add(x.size(0));
            try (Scope s = Scope.open()) {
                return s.keep(x.mul(p).add(c.mul(q)));
            }
        };
    }

    @Test
    void combinesBranchesAndBatchesThemWhenNotDetached() {
        Random r = new Random(3);
        float[] xs = randomArray(r, B * D);
        float[] cs = randomArray(r, B * D);
        float[] us = randomArray(r, D);
        double w = 4.5;
        double p = 0.7;
        double q = -1.3;
        for (boolean detach : new boolean[] {true, false}) {
            for (boolean batchDim : new boolean[] {true, false}) {
                try (Scope scope = Scope.open()) {
                    List<Long> calls = new ArrayList<>();
                    Tensor uncond = batchDim ? Tensor.of(us, 1, D) : Tensor.of(us, D);
                    VelocityModel cfg = new ClassifierFreeGuidance(model(Tensor.scalar(p), Tensor.scalar(q), calls), w, uncond, detach);
                    float[] v = cfg.predict(Tensor.of(xs, B, D), Tensor.zeros(B), Tensor.of(cs, B, D)).toFloatArray();
                    for (int i = 0; i < B * D; i++) {
                        double vc = p * xs[i] + q * cs[i];
                        double vu = p * xs[i] + q * us[i % D];
                        assertEquals(vu + w * (vc - vu), v[i], 1e-5 * (1 + Math.abs(v[i])));
                    }
                    assertEquals(detach ? List.of((long) B, (long) B) : List.of(2L * B), calls,
                            "detached: two forwards of B rows; not detached: one forward of 2B rows");
                }
            }
        }
    }

    /** d v / d p = (1 - w) x + w x = x with the unconditional gradient, w x without it. */
    @Test
    void detachingTheUnconditionalBranchDropsItsGradient() {
        Random r = new Random(4);
        float[] xs = randomArray(r, B * D);
        double sumX = 0;
        for (float x : xs) sumX += x;
        double w = 5.0;
        for (boolean detach : new boolean[] {true, false}) {
            try (Scope scope = Scope.open()) {
                Tensor p = Tensor.scalar(0.7).setRequiresGrad(true);
                Tensor q = Tensor.scalar(0.2).setRequiresGrad(true);
                VelocityModel cfg = new ClassifierFreeGuidance(model(p, q, new ArrayList<>()), w, Tensor.zeros(D), detach);
                cfg.predict(Tensor.of(xs, B, D), Tensor.zeros(B), Tensor.ones(B, D)).sum().backward();
                assertEquals(detach ? w * sumX : sumX, p.grad().item(), 1e-4, "detach=" + detach);
                assertEquals(w * B * D, q.grad().item(), 1e-3, "only the conditional branch sees cond = 1");
            }
        }
    }

    @Test
    void badInputsAreNamed() {
        try (Scope scope = Scope.open()) {
            VelocityModel m = (x, t, c) -> x.mul(1.0);
            Tensor x = Tensor.zeros(B, D);
            Tensor t = Tensor.zeros(B);
            assertMessage(IllegalArgumentException.class,
                    () -> new ClassifierFreeGuidance(m, 1, Tensor.zeros(D + 1), true).predict(x, t, Tensor.zeros(B, D)), "[5]", "[3, 4]");
            assertMessage(IllegalArgumentException.class,
                    () -> new ClassifierFreeGuidance(m, 1, Tensor.zeros(2, D), false).predict(x, t, Tensor.zeros(B, D)), "[2, 4]");
            assertMessage(IllegalArgumentException.class, () -> new ClassifierFreeGuidance(m, 1, Tensor.zeros(D), true).predict(x, t, null), "null");
            assertMessage(IllegalArgumentException.class, () -> new ClassifierFreeGuidance(m, Double.NaN, Tensor.zeros(D), true), "NaN");
            assertMessage(IllegalArgumentException.class,
                    () -> new ClassifierFreeGuidance(m, 1, Tensor.zeros(D), true).predict(x, t, Tensor.zeros(B + 1, D)), "4 rows");
            // scale 1 returns the conditional output
            Tensor c = Tensor.ones(B, D);
            VelocityModel plus = (xx, tt, cc) -> xx.add(cc);
            assertArrayEquals(Tensor.ones(B, D).toFloatArray(), new ClassifierFreeGuidance(plus, 1, Tensor.zeros(D), false).predict(x, t, c).toFloatArray());
        }
    }
}
