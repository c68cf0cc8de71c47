package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/** Neural-network functionals over libtorch (torch.nn.functional's counterparts). Optional tensors may be null. */
public final class Functional {
    private Functional() {}

    private static Tensor out(int status, String op, Tensor... in) {
        if (status != 0) {
            StringBuilder s = new StringBuilder(op).append('(');
            for (int i = 0; i < in.length; i++) {
                if (i > 0) s.append(", ");
                s.append(in[i] == null ? "null" : in[i].describe());
            }
            Native.check(status, s.append(')').toString());
        }
        return Tensor.adopt(Native.scratch().outAddress(0));
    }

    /** x w^T + b. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_linear(x.handle(), w.handle(), Tensor.handleOrNull(b), s.out), "linear", x, w, b);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int padding) {
        return conv2d(x, w, b, stride, stride, padding, padding, 1, 1, 1);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int strideH, int strideW, int padH, int padW,
                                int dilationH, int dilationW, int groups) {
        Native.Scratch s = Native.scratch();
        MemorySegment p = s.longs2(new long[] {strideH, strideW, padH, padW, dilationH, dilationW, groups});
        return out(progrpo_torch_h.pt_conv2d(x.handle(), w.handle(), Tensor.handleOrNull(b), p, s.out), "conv2d", x, w, b);
    }

    public static Tensor groupNorm(Tensor x, int groups, Tensor w, Tensor b, double eps) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_group_norm(x.handle(), groups, Tensor.handleOrNull(w), Tensor.handleOrNull(b), eps, s.out),
                "group_norm(groups " + groups + ")", x, w, b);
    }

    public static Tensor layerNorm(Tensor x, long[] normalizedShape, Tensor w, Tensor b, double eps) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_layer_norm(x.handle(), s.longs(normalizedShape), normalizedShape.length,
                Tensor.handleOrNull(w), Tensor.handleOrNull(b), eps, s.out), "layer_norm(" + Arrays.toString(normalizedShape) + ")", x, w, b);
    }

    /** Rows of {@code weight} selected by the int64 {@code indices}. */
    public static Tensor embedding(Tensor weight, Tensor indices) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_embedding(weight.handle(), indices.handle(), s.out), "embedding", weight, indices);
    }

    /**
     * softmax(q k^T / sqrt(d) + mask) v over the last two dimensions. libtorch's fused kernel where the linked
     * libtorch has one (2.x), a composed form otherwise (1.13). A bool mask keeps the true positions.
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_sdpa(q.handle(), k.handle(), v.handle(), Tensor.handleOrNull(mask), causal ? 1 : 0, s.out),
                "scaled_dot_product_attention", q, k, v, mask);
    }

    public enum Interpolation { NEAREST, BILINEAR }

    /** Resizes [N, C, H, W] to [N, C, h, w]. */
    public static Tensor interpolate(Tensor x, long h, long w, Interpolation mode) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_interpolate(x.handle(), h, w, mode.ordinal(), s.out), "interpolate(" + h + "x" + w + ")", x);
    }

    public static Tensor avgPool2d(Tensor x, int kernel) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_avg_pool2d(x.handle(), kernel, s.out), "avg_pool2d(" + kernel + ")", x);
    }

    public static Tensor mseLoss(Tensor a, Tensor b) {
        Native.Scratch s = Native.scratch();
        return out(progrpo_torch_h.pt_mse_loss(a.handle(), b.handle(), s.out), "mse_loss", a, b);
    }

    /**
     * Throws {@link IllegalArgumentException} naming {@code what} when {@code t} holds a NaN or infinity.
     *
     * <p>One reduction in the common case: a NaN or an infinity makes the sum non-finite, so a finite sum proves every
     * element finite. Only a non-finite sum (a bad element, or finite values whose sum overflows) runs the exact
     * element-wise test, which decides.
     */
    public static void requireFinite(Tensor t, String what) {
        if (!t.dtype().isFloatingPoint()) return;
        try (Tensor sum = t.sum()) {
            if (Double.isFinite(sum.item())) return;
        }
        try (Tensor f = t.isfinite(); Tensor all = f.all()) {
            if (all.item() == 0) {
                long bad = 0;
                for (boolean ok : f.toBooleanArray()) if (!ok) bad++;
                throw new IllegalArgumentException(what + " must be finite, but " + bad + " of " + t.numel()
                        + " elements are NaN or infinite (" + t.describe() + ")");
            }
        }
    }

    static double readDouble(MemorySegment seg) {
        return seg.getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
    }
}
