package io.progrpo.world.latent;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.List;

/** The formulas of the latent generator, each tested against an independent double-precision computation. */
final class LatentOps {
    private LatentOps() {}

    /**
     * {@code [B, C, H, W]} to {@code [B, (H/p)(W/p), p p C]}: token {@code i * (W/p) + j} holds the patch at row
     * {@code i}, column {@code j}, its values ordered (row in patch, column in patch, channel), DiT's layout.
     */
    static Tensor patchify(Tensor x, int p) {
        long b = x.size(0);
        long c = x.size(1);
        long h = x.size(2) / p;
        long w = x.size(3) / p;
        try (Scope s = Scope.open()) {
            return s.keep(x.reshape(b, c, h, p, w, p).permute(0, 2, 4, 3, 5, 1).reshape(b, h * w, (long) p * p * c));
        }
    }

    /** The inverse of {@link #patchify}: {@code [B, h w, p p C]} to {@code [B, C, h p, w p]}. */
    static Tensor unpatchify(Tensor tokens, int p, int c, int h, int w) {
        long b = tokens.size(0);
        try (Scope s = Scope.open()) {
            return s.keep(tokens.reshape(b, h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, (long) h * p, (long) w * p));
        }
    }

    /** adaLN: {@code x [B, N, d] * (1 + scale [B, d]) + shift [B, d]}, the modulation broadcast over the tokens. */
    static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        long b = x.size(0);
        long d = x.size(2);
        try (Scope s = Scope.open()) {
            return s.keep(x.mul(scale.reshape(b, 1, d).add(1)).add(shift.reshape(b, 1, d)));
        }
    }

    /**
     * The timestep features of DiT and SD3: {@code [cos(tau f_i), sin(tau f_i)]} with {@code tau = 1000 sigma} and
     * {@code f_i = 10000^(-i / half)}, {@code i < half = features / 2}; float32 {@code [B, features]}.
     */
    static Tensor timestepFeatures(Tensor sigma, int features) {
        int half = features / 2;
        long b = sigma.size(0);
        try (Scope s = Scope.open()) {
            Tensor t32 = sigma.to(DType.FLOAT32);
            Tensor freqs = Tensor.arange(0, half, 1, DType.FLOAT32, t32.device()).mul(-Math.log(10000) / half).exp();
            Tensor args = t32.mul(1000.0).reshape(b, 1).mul(freqs.reshape(1, half));
            return s.keep(Tensor.cat(List.of(args.cos(), args.sin()), 1));
        }
    }

    /**
     * The fixed 2D sine-cosine position code of a {@code rows x cols} token grid, {@code [rows cols, d]}: the first
     * d/2 values code the row, the last d/2 the column, each as {@code [sin(pos w_k), cos(pos w_k)]} with
     * {@code w_k = 10000^(-k / (d/4))}, {@code k < d/4} (DiT's code, axis order row then column).
     */
    static float[] sincos2d(int rows, int cols, int d) {
        int quarter = d / 4;
        float[] out = new float[rows * cols * d];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int base = (r * cols + c) * d;
                for (int k = 0; k < quarter; k++) {
                    double w = Math.pow(10000, -(double) k / quarter);
                    out[base + k] = (float) Math.sin(r * w);
                    out[base + quarter + k] = (float) Math.cos(r * w);
                    out[base + 2 * quarter + k] = (float) Math.sin(c * w);
                    out[base + 3 * quarter + k] = (float) Math.cos(c * w);
                }
            }
        }
        return out;
    }

    /** A float32 tensor of the 2D position code on {@code device}. */
    static Tensor sincos2dTensor(int rows, int cols, int d, Device device) {
        try (Tensor cpu = Tensor.of(sincos2d(rows, cols, d), (long) rows * cols, d)) {
            return cpu.to(device);
        }
    }

    /** A per-row value broadcast over the other dimensions of {@code x}: shape {@code [B, 1, 1, ...]}. */
    static long[] rowShape(Tensor x) {
        long[] shape = new long[x.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = x.size(0);
        return shape;
    }
}
