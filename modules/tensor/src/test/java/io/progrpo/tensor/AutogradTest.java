package io.progrpo.tensor;

import static io.progrpo.tensor.TestSupport.assertClose;
import static io.progrpo.tensor.TestSupport.gaussian;
import static io.progrpo.tensor.TestSupport.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

/** Gradients against central finite differences in plain Java double; grad mode; gradient clipping. */
class AutogradTest extends TensorTestBase {
    private static final int N = 3, IN = 4, OUT = 2;

    /** f(x, W, b) = sum(tanh(x W + b)^2) + mean(sigmoid(x)), x [N, IN], W [IN, OUT], b [OUT]. */
    private static double f(double[] x, double[] w, double[] b) {
        double s = 0;
        for (int i = 0; i < N; i++)
            for (int o = 0; o < OUT; o++) {
                double z = b[o];
                for (int k = 0; k < IN; k++) z += x[i * IN + k] * w[k * OUT + o];
                double th = Math.tanh(z);
                s += th * th;
            }
        double m = 0;
        for (double e : x) m += 1 / (1 + Math.exp(-e));
        return s + m / x.length;
    }

    /** Central differences of f in each element of {@code which} (one of x, w, b). */
    private static double[] numericGrad(double[] x, double[] w, double[] b, double[] which) {
        double h = 1e-6;
        double[] g = new double[which.length];
        for (int i = 0; i < which.length; i++) {
            double keep = which[i];
            which[i] = keep + h;
            double up = f(x, w, b);
            which[i] = keep - h;
            double down = f(x, w, b);
            which[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    @Test
    void compositeGradientMatchesFiniteDifferences() {
        Random r = new Random(61);
        double[] x = gaussian(r, N * IN), w = gaussian(r, IN * OUT), b = gaussian(r, OUT);
        Tensor tx = t(x, N, IN).setRequiresGrad(true);
        Tensor tw = t(w, IN, OUT).setRequiresGrad(true);
        Tensor tb = t(b, OUT).setRequiresGrad(true);
        Tensor loss = tx.matmul(tw).add(tb).tanh().square().sum().add(tx.sigmoid().mean());
        assertTrue(loss.requiresGrad());
        assertEquals(f(x, w, b), loss.item(), 1e-5, "forward value");
        loss.backward();
        assertClose(numericGrad(x, w, b, x), tx.grad(), 1e-4, "d f / d x");
        assertClose(numericGrad(x, w, b, w), tw.grad(), 1e-4, "d f / d W");
        assertClose(numericGrad(x, w, b, b), tb.grad(), 1e-4, "d f / d b");
    }

    @Test
    void gradientsAccumulateUntilZeroGrad() {
        Tensor p = Tensor.of(new float[] {1, -2, 3}, 3).setRequiresGrad(true);
        assertNull(p.grad(), "no gradient before backward");
        p.square().sum().backward();
        p.square().sum().backward();
        assertClose(new double[] {4, -8, 12}, p.grad(), "two backward passes accumulate 2 * 2p");
        p.zeroGrad();
        assertNull(p.grad(), "zeroGrad drops the gradient");
        p.mul(3).sum().backward();
        assertClose(new double[] {3, 3, 3}, p.grad(), "fresh gradient after zeroGrad");
    }

    @Test
    void noGradDisablesRecordingAndRestores() {
        Tensor p = Tensor.ones(2, 2).setRequiresGrad(true);
        assertTrue(Autograd.isGradEnabled());
        try (var ng = Autograd.noGrad()) {
            assertFalse(Autograd.isGradEnabled());
            assertFalse(p.mul(2).requiresGrad(), "ops under noGrad are not recorded");
            try (var eg = Autograd.enableGrad()) {
                assertTrue(p.mul(2).requiresGrad(), "enableGrad re-enables inside noGrad");
            }
            assertFalse(Autograd.isGradEnabled(), "closing the inner mode restores the outer one");
        }
        assertTrue(Autograd.isGradEnabled(), "restored after noGrad");
        assertTrue(p.mul(2).requiresGrad());
    }

    @Test
    void backwardOnANonScalarNeedsAGradient() {
        Tensor p = Tensor.ones(2, 3).setRequiresGrad(true);
        Tensor y = p.mul(2);
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("one-element"), e.getMessage());
        y.backward(Tensor.full(0.5, DType.FLOAT32, Device.CPU, 2, 3), false);
        assertClose(new double[] {1, 1, 1, 1, 1, 1}, p.grad(), "backward with an explicit gradient");
    }

    @Test
    void retainGraphAllowsASecondBackward() {
        Tensor p = Tensor.of(new float[] {2}, 1).setRequiresGrad(true);
        Tensor y = p.exp().sum();
        y.backward(null, true);
        y.backward(null, false);
        assertEquals(2 * Math.exp(2), p.grad().item(), 1e-4);
        assertThrows(TorchException.class, () -> y.backward(null, false), "a freed graph cannot be reused");
    }

    @Test
    void clipGradNormScalesLikeTorch() {
        Random r = new Random(62);
        double[] c1 = gaussian(r, 6), c2 = gaussian(r, 4);
        Tensor p1 = Tensor.zeros(2, 3).setRequiresGrad(true);
        Tensor p2 = Tensor.zeros(4).setRequiresGrad(true);
        p1.mul(t(c1, 2, 3)).sum().add(p2.mul(t(c2, 4)).sum()).backward(); // grads are c1, c2
        double sq = 0;
        for (double e : c1) sq += e * e;
        for (double e : c2) sq += e * e;
        double norm = Math.sqrt(sq);
        double maxNorm = norm / 3;
        double returned = Autograd.clipGradNorm(List.of(p1, p2), maxNorm);
        assertEquals(norm, returned, 1e-5, "returns the norm before clipping");
        double coef = maxNorm / (norm + 1e-6); // torch.nn.utils.clip_grad_norm_
        double[] e1 = c1.clone(), e2 = c2.clone();
        for (int i = 0; i < e1.length; i++) e1[i] *= coef;
        for (int i = 0; i < e2.length; i++) e2[i] *= coef;
        assertClose(e1, p1.grad(), "clipped grad 1");
        assertClose(e2, p2.grad(), "clipped grad 2");
        // below the bound nothing changes
        assertEquals(maxNorm, Autograd.clipGradNorm(List.of(p1, p2), 10 * norm), 1e-5);
        assertClose(e1, p1.grad(), "unclipped grad 1");
        assertNotNull(p2.grad());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Autograd.clipGradNorm(List.of(p1), 0));
        assertTrue(bad.getMessage().contains("0.0"), bad.getMessage());
    }
}
