package io.progrpo.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;

/**
 * A test world with a known optimal model: data x0 ~ N(m, S^2 I) with a different mean per dimension.
 *
 * <p>Flow: x_sigma = (1 - sigma) x0 + sigma n, n ~ N(0, I), v = n - x0. Per element, x_sigma has mean (1 - sigma) m
 * and variance V = (1 - sigma)^2 S^2 + sigma^2, and Cov(v, x_sigma) = sigma - (1 - sigma) S^2, so the optimal
 * (MSE) velocity is the Gaussian conditional mean
 * <pre>  E[v | x] = -m + A (x - (1 - sigma) m),   A = (sigma - (1 - sigma) S^2) / V.</pre>
 * Diffusion: x_t = sqrt(a) x0 + sqrt(1 - a) eps with a = alphabar_t; Var x_t = a S^2 + 1 - a, Cov(eps, x_t) = sqrt(1 - a):
 * <pre>  E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) m) / (a S^2 + 1 - a).</pre>
 * Every sampler step is then affine in x plus Gaussian noise, so the exact mean and variance after the discrete chain
 * propagate in closed form (the oracles below), independently of the tensor code.
 */
final class GaussianWorld {
    static final int ROWS = 4096;
    static final int DIMS = 8;
    static final double S = 0.6;

    private GaussianWorld() {}

    static double dataMean(int j) {
        return -1.0 + 0.3 * j;
    }

    private static Tensor meanRow() {
        float[] m = new float[DIMS];
        for (int j = 0; j < DIMS; j++) m[j] = (float) dataMean(j);
        return Tensor.of(m, 1, DIMS);
    }

    /** The optimal velocity, per row from t = sigma. */
    static VelocityModel flowVelocity() {
        return (x, t, cond) -> {
            double[] sig = t.toDoubleArray();
            float[] a = new float[sig.length];
            float[] c = new float[sig.length];
            for (int i = 0; i < sig.length; i++) {
                double s = sig[i];
                double v = (1 - s) * (1 - s) * S * S + s * s;
                double aa = (s - (1 - s) * S * S) / v;
                a[i] = (float) aa;
                c[i] = (float) (1 + aa * (1 - s));
            }
            try (Tensor m = meanRow(); Tensor at = Tensor.of(a, a.length, 1); Tensor ct = Tensor.of(c, c.length, 1);
                 Tensor ax = x.mul(at); Tensor mc = m.mul(ct)) {
                return ax.sub(mc); // A x - m (1 + A (1 - sigma))
            }
        };
    }

    /** The optimal epsilon, per row from t = the timestep. */
    static VelocityModel ddimEpsilon(BetaSchedule schedule) {
        double[] alphaBar = new double[schedule.trainSteps()];
        for (int i = 0; i < alphaBar.length; i++) alphaBar[i] = schedule.alphaBar(i);
        return (x, t, cond) -> {
            double[] ts = t.toDoubleArray();
            float[] k = new float[ts.length];
            float[] b = new float[ts.length];
            for (int i = 0; i < ts.length; i++) {
                double a = alphaBar[(int) Math.round(ts[i])];
                double v = a * S * S + 1 - a;
                k[i] = (float) (Math.sqrt(1 - a) / v);
                b[i] = (float) (Math.sqrt(1 - a) * Math.sqrt(a) / v);
            }
            try (Tensor m = meanRow(); Tensor kt = Tensor.of(k, k.length, 1); Tensor bt = Tensor.of(b, b.length, 1);
                 Tensor kx = x.mul(kt); Tensor mb = m.mul(bt)) {
                return kx.sub(mb);
            }
        };
    }

    /** Exact per-dimension mean (index 0..DIMS-1) and variance (index DIMS) after the flow chain from N(0, I). */
    static double[] flowOracle(double[] sigmas, double noiseLevel) {
        double[] out = new double[DIMS + 1];
        for (int j = 0; j < DIMS; j++) {
            double m = dataMean(j);
            double mean = 0;
            double var = 1;
            for (int i = 0; i + 1 < sigmas.length; i++) {
                double sg = sigmas[i];
                double dt = sigmas[i + 1] - sg;
                double std = noiseLevel * Math.sqrt(sg / (1 - (sg == 1 ? sigmas[1] : sg)));
                double cx = 1 + std * std / (2 * sg) * dt;
                double cv = (1 + std * std * (1 - sg) / (2 * sg)) * dt;
                double v = (1 - sg) * (1 - sg) * S * S + sg * sg;
                double a = (sg - (1 - sg) * S * S) / v;
                double b = -m - a * (1 - sg) * m;
                double k = cx + cv * a;
                mean = k * mean + cv * b;
                var = k * k * var + std * std * -dt;
            }
            out[j] = mean;
            out[DIMS] = var;
        }
        return out;
    }

    /** Exact per-dimension mean and variance after the DDIM chain from N(mean0(j), var0). */
    static double[] ddimOracle(BetaSchedule schedule, int[] timesteps, double[] alphaPrev, double eta, double[] mean0, double var0) {
        double[] out = new double[DIMS + 1];
        for (int j = 0; j < DIMS; j++) {
            double m = dataMean(j);
            double mean = mean0[j];
            double var = var0;
            for (int i = 0; i < timesteps.length; i++) {
                double a = schedule.alphaBar(timesteps[i]);
                double ap = alphaPrev[i];
                double sg = eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
                double dir = Math.sqrt(1 - ap - sg * sg);
                double v = a * S * S + 1 - a;
                double ke = Math.sqrt(1 - a) / v;
                double be = -Math.sqrt(1 - a) * Math.sqrt(a) * m / v;
                // x0 = (x - sqrt(1-a) eps) / sqrt(a), mu = sqrt(ap) x0 + dir eps, eps = ke x + be
                double kx = Math.sqrt(ap) * (1 - Math.sqrt(1 - a) * ke) / Math.sqrt(a) + dir * ke;
                double c = -Math.sqrt(ap) * Math.sqrt(1 - a) * be / Math.sqrt(a) + dir * be;
                mean = kx * mean + c;
                var = kx * kx * var + sg * sg;
            }
            out[j] = mean;
            out[DIMS] = var;
        }
        return out;
    }

    /** Sample per-dimension means (0..DIMS-1) and the pooled within-dimension variance (DIMS) of [ROWS, DIMS]. */
    static double[] moments(Tensor x) {
        assertEquals(DType.FLOAT32, x.dtype());
        assertEquals(Device.CPU, x.device());
        float[] v = x.toFloatArray();
        int n = v.length / DIMS;
        double[] out = new double[DIMS + 1];
        for (int j = 0; j < DIMS; j++) {
            double s = 0;
            for (int r = 0; r < n; r++) s += v[r * DIMS + j];
            out[j] = s / n;
        }
        double ss = 0;
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < DIMS; j++) {
                double d = v[r * DIMS + j] - out[j];
                ss += d * d;
            }
        }
        out[DIMS] = ss / (DIMS * (n - 1.0));
        return out;
    }

    /** Asserts sample moments match expected ones within 5 standard errors (per-dim means, pooled variance). */
    static void assertMoments(double[] expected, double[] sample, String what) {
        double var = expected[DIMS];
        double meanTol = 5 * Math.sqrt(var / ROWS);
        for (int j = 0; j < DIMS; j++) {
            assertEquals(expected[j], sample[j], meanTol, what + ": mean of dimension " + j);
        }
        double varTol = 5 * var * Math.sqrt(2.0 / (ROWS * DIMS));
        assertEquals(var, sample[DIMS], varTol, what + ": variance");
    }

    static double[] dataMoments() {
        double[] out = new double[DIMS + 1];
        for (int j = 0; j < DIMS; j++) out[j] = dataMean(j);
        out[DIMS] = S * S;
        return out;
    }
}
