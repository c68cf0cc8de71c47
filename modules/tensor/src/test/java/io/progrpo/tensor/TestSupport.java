package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Plain-Java reference helpers: seeded inputs, row-major indexing, tolerant comparisons, repo and Python lookup. */
public final class TestSupport {
    private TestSupport() {}

    /** Gaussian values rounded to float32 (the exact inputs the tensor sees), as doubles. */
    public static double[] gaussian(Random r, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = (float) r.nextGaussian();
        return d;
    }

    /** Uniform values in [lo, hi) rounded to float32. */
    public static double[] uniform(Random r, int n, double lo, double hi) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return d;
    }

    public static float[] f(double[] d) {
        float[] x = new float[d.length];
        for (int i = 0; i < d.length; i++) x[i] = (float) d[i];
        return x;
    }

    public static Tensor t(double[] d, long... shape) {
        return Tensor.of(f(d), shape);
    }

    public static int numel(long[] shape) {
        long n = 1;
        for (long s : shape) n *= s;
        return (int) n;
    }

    /** Row-major flat offset of {@code idx} in {@code shape}. */
    public static int offset(long[] shape, int... idx) {
        int o = 0;
        for (int i = 0; i < shape.length; i++) o = o * (int) shape[i] + idx[i];
        return o;
    }

    /** Row-major multi-index of flat offset {@code flat}. */
    public static int[] unravel(int flat, long[] shape) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = (int) (flat % shape[i]);
            flat /= (int) shape[i];
        }
        return idx;
    }

    /** |expected - actual| <= atol + rtol |expected| elementwise; NaNs must match NaNs. */
    public static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": element count");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(e) && Double.isNaN(a)) continue;
            if (e == a) continue; // infinities
            if (!(Math.abs(e - a) <= atol + rtol * Math.abs(e))) {
                fail(what + ": element " + i + " expected " + e + " got " + a + " (atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }

    /** Float32 tolerance for values of order one. */
    public static void assertClose(double[] expected, Tensor actual, String what) {
        assertClose(expected, actual.toDoubleArray(), 1e-5, 1e-5, what);
    }

    public static void assertClose(double[] expected, Tensor actual, double atol, String what) {
        assertClose(expected, actual.toDoubleArray(), atol, atol, what);
    }

    public static void assertShape(Tensor t, long... shape) {
        if (!Arrays.equals(shape, t.shape())) fail("expected shape " + Arrays.toString(shape) + ", got " + Arrays.toString(t.shape()));
    }

    /** erf by its Maclaurin series (|x| < 5) in double; enough for float32 GELU checks. */
    public static double erf(double x) {
        if (Math.abs(x) >= 5) return Math.signum(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++) {
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    /** The repository root: the first ancestor of the working directory that holds native-headers/. */
    public static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("native-headers"))) return d;
        }
        throw new IllegalStateException("no native-headers/ above " + Path.of("").toAbsolutePath());
    }

    private static Boolean pythonTorch;

    /** True when /usr/bin/python3 can import torch (checked once). */
    public static synchronized boolean pythonTorchAvailable() {
        if (pythonTorch == null) {
            try {
                pythonTorch = Files.isExecutable(Path.of("/usr/bin/python3")) && python("import torch").exitCode == 0;
            } catch (IOException e) {
                pythonTorch = false;
            }
        }
        return pythonTorch;
    }

    public record PythonResult(int exitCode, String output) {}

    /** Runs {@code /usr/bin/python3 -c script args...}; output is stdout and stderr together. */
    public static PythonResult python(String script, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", "-c", script));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new PythonResult(-1, out);
            }
            return new PythonResult(p.exitValue(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
