package io.progrpo.tensor.optim;

import static io.progrpo.tensor.TestSupport.assertClose;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.t;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorTestBase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** AdamW and SGD steps against hand computations in plain Java double (libtorch's update rules). */
class OptimizerTest extends TensorTestBase {

    /** Sets p's gradient to exactly g: backward of sum(p * g). */
    private static void setGrad(Tensor p, double[] g) {
        p.mul(t(g, p.shape())).sum().backward();
    }

    /** One libtorch AdamW step in double; m and v are updated in place; t is the 1-based step. */
    private static void adamw(double[] p, double[] g, double[] m, double[] v, int step, AdamW.Options o) {
        double bc1 = 1 - Math.pow(o.beta1(), step), bc2 = 1 - Math.pow(o.beta2(), step);
        for (int i = 0; i < p.length; i++) {
            p[i] *= 1 - o.lr() * o.weightDecay(); // decoupled weight decay first
            m[i] = o.beta1() * m[i] + (1 - o.beta1()) * g[i];
            v[i] = o.beta2() * v[i] + (1 - o.beta2()) * g[i] * g[i];
            double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps();
            p[i] -= o.lr() / bc1 * m[i] / denom;
        }
    }

    @Test
    void adamwOneAndTwoStepsMatchTheHandComputation() {
        Random r = new Random(71);
        double[] p0 = gaussian(r, 6), g1 = gaussian(r, 6), g2 = gaussian(r, 6);
        AdamW.Options o = new AdamW.Options(0.05, 0.8, 0.95, 1e-6, 0.1);
        Tensor p = t(p0, 2, 3).setRequiresGrad(true);
        try (AdamW opt = new AdamW(List.of(p), o)) {
            double[] ref = p0.clone(), m = new double[6], v = new double[6];
            setGrad(p, g1);
            opt.step();
            adamw(ref, g1, m, v, 1, o);
            assertClose(ref, p, 1e-5, "after one AdamW step");
            opt.zeroGrad();
            assertEquals(null, p.grad(), "zeroGrad sets gradients to none");
            setGrad(p, g2);
            opt.step();
            adamw(ref, g2, m, v, 2, o);
            assertClose(ref, p, 1e-5, "after two AdamW steps");
        }
    }

    @Test
    void sgdWithMomentumDampeningAndWeightDecay() {
        Random r = new Random(72);
        double[] p0 = gaussian(r, 5), g1 = gaussian(r, 5), g2 = gaussian(r, 5), g3 = gaussian(r, 5);
        Sgd.Options o = new Sgd.Options(0.1, 0.9, 0.2, 0.01, false);
        Tensor p = t(p0, 5).setRequiresGrad(true);
        try (Sgd opt = new Sgd(List.of(p), o)) {
            double[] ref = p0.clone(), buf = null;
            for (double[] g : List.of(g1, g2, g3)) {
                setGrad(p, g);
                opt.step();
                opt.zeroGrad();
                double[] d = new double[5];
                for (int i = 0; i < 5; i++) d[i] = g[i] + o.weightDecay() * ref[i];
                if (buf == null) {
                    buf = d.clone(); // the first step takes the gradient undamped, as torch does
                } else {
                    for (int i = 0; i < 5; i++) buf[i] = o.momentum() * buf[i] + (1 - o.dampening()) * d[i];
                }
                for (int i = 0; i < 5; i++) ref[i] -= o.lr() * buf[i];
                assertClose(ref, p, 1e-5, "SGD with momentum");
            }
        }
    }

    @Test
    void nesterovSgd() {
        double[] g = {0.5, -1};
        Tensor p = t(new double[] {1, 2}, 2).setRequiresGrad(true);
        try (Sgd opt = new Sgd(List.of(p), new Sgd.Options(0.1, 0.5, 0, 0, true))) {
            setGrad(p, g);
            opt.step();
            // buf = g; d = g + 0.5 buf = 1.5 g
            assertClose(new double[] {1 - 0.1 * 0.75, 2 + 0.1 * 1.5}, p, 1e-6, "nesterov step");
        }
    }

    @Test
    void paramGroupsHaveTheirOwnLearningRate() {
        double[] ga = {1, -2}, gb = {0.5, 3, -1};
        Tensor a = t(new double[] {0, 0}, 2).setRequiresGrad(true);
        Tensor b = t(new double[] {1, 1, 1}, 3).setRequiresGrad(true);
        try (Sgd opt = new Sgd(List.of(a), Sgd.Options.plain(0.1))) {
            opt.addParamGroup(List.of(b), 0.5, 0.0);
            assertEquals(2, opt.groupCount());
            assertEquals(0.1, opt.learningRate(0), 1e-15);
            assertEquals(0.5, opt.learningRate(1), 1e-15);
            assertEquals(List.of(a, b), opt.parameters());
            setGrad(a, ga);
            setGrad(b, gb);
            opt.step();
            assertClose(new double[] {-0.1, 0.2}, a, 1e-6, "group 0 at lr 0.1");
            assertClose(new double[] {1 - 0.25, 1 - 1.5, 1 + 0.5}, b, 1e-6, "group 1 at lr 0.5");
            opt.setLearningRate(0, 0.01);
            assertEquals(0.01, opt.learningRate(0), 1e-15);
            opt.step(); // same gradients (not zeroed)
            assertClose(new double[] {-0.11, 0.22}, a, 1e-6, "group 0 after setLearningRate(0.01)");
            assertClose(new double[] {1 - 0.5, 1 - 3, 1 + 1}, b, 1e-6, "group 1 unchanged at lr 0.5");
            assertThrows(TorchException(), () -> opt.setLearningRate(5, 0.1));
        }
    }

    private static Class<io.progrpo.tensor.TorchException> TorchException() {
        return io.progrpo.tensor.TorchException.class;
    }

    @Test
    void adamwParamGroupAppliesItsOwnWeightDecay() {
        double[] g = {0.3, -0.7};
        Tensor a = t(new double[] {1, 2}, 2).setRequiresGrad(true);
        Tensor b = t(new double[] {1, 2}, 2).setRequiresGrad(true);
        AdamW.Options o = new AdamW.Options(0.01, 0.9, 0.999, 1e-8, 0.0);
        try (AdamW opt = new AdamW(List.of(a), o)) {
            opt.addParamGroup(List.of(b), 0.02, 0.5);
            setGrad(a, g);
            setGrad(b, g);
            opt.step();
            double[] ra = {1, 2}, rb = {1, 2};
            adamw(ra, g, new double[2], new double[2], 1, o);
            adamw(rb, g, new double[2], new double[2], 1, new AdamW.Options(0.02, 0.9, 0.999, 1e-8, 0.5));
            assertClose(ra, a, 1e-6, "group 0");
            assertClose(rb, b, 1e-6, "group 1 with lr 0.02 and weight decay 0.5");
        }
    }

    @Test
    void savedStateContinuesIdentically(@TempDir Path dir) throws IOException {
        Random r = new Random(73);
        double[] p0 = gaussian(r, 4), g1 = gaussian(r, 4), g2 = gaussian(r, 4), g3 = gaussian(r, 4);
        AdamW.Options o = new AdamW.Options(0.01, 0.9, 0.99, 1e-8, 0.01);
        Tensor p1 = t(p0, 4).setRequiresGrad(true);
        Path state = dir.resolve("adamw.pt");
        try (AdamW opt1 = new AdamW(List.of(p1), o)) {
            for (double[] g : List.of(g1, g2)) {
                setGrad(p1, g);
                opt1.step();
                opt1.zeroGrad();
            }
            opt1.save(state);
            assertTrue(Files.size(state) > 0);
            Tensor p2, fresh;
            try (var ng = Autograd.noGrad()) {
                p2 = p1.clone_().setRequiresGrad(true);
                fresh = p1.clone_().setRequiresGrad(true);
            }
            try (AdamW opt2 = new AdamW(List.of(p2), o); AdamW opt3 = new AdamW(List.of(fresh), o)) {
                opt2.load(state);
                for (Tensor p : List.of(p1, p2, fresh)) setGrad(p, g3);
                opt1.step();
                opt2.step();
                opt3.step();
                assertArrayEquals(p1.toFloatArray(), p2.toFloatArray(), "the restored optimizer continues identically");
                assertFalse(java.util.Arrays.equals(p1.toFloatArray(), fresh.toFloatArray()),
                        "without the state the step differs, so the comparison above has power");
            }
        }
        Path missing = dir.resolve("missing.pt");
        try (AdamW opt = new AdamW(List.of(p1), o)) {
            IOException e = assertThrows(IOException.class, () -> opt.load(missing));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
            Path corrupt = dir.resolve("corrupt.pt");
            Files.write(corrupt, new byte[] {1, 2, 3, 4, 5});
            IOException c = assertThrows(IOException.class, () -> opt.load(corrupt));
            assertTrue(c.getMessage().contains(corrupt.toString()), c.getMessage());
        }
    }

    @Test
    void optionsAndConstructionAreValidated() {
        IllegalArgumentException lr = assertThrows(IllegalArgumentException.class, () -> new AdamW.Options(-1, 0.9, 0.999, 1e-8, 0));
        assertTrue(lr.getMessage().contains("-1.0"), lr.getMessage());
        IllegalArgumentException b1 = assertThrows(IllegalArgumentException.class, () -> new AdamW.Options(1e-3, 1.0, 0.999, 1e-8, 0));
        assertTrue(b1.getMessage().contains("beta1") && b1.getMessage().contains("1.0"), b1.getMessage());
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> new Sgd.Options(0.1, -0.5, 0, 0, false));
        assertTrue(m.getMessage().contains("-0.5"), m.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(), Sgd.Options.plain(0.1)));
        assertEquals(1e-3, AdamW.Options.DEFAULTS.withLr(1e-3).lr());
        Tensor p = Tensor.zeros(2).setRequiresGrad(true);
        Sgd opt = new Sgd(List.of(p), Sgd.Options.plain(0.1));
        opt.close();
        opt.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }
}
