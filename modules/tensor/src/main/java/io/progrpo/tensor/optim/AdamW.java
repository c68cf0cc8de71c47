package io.progrpo.tensor.optim;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * libtorch's AdamW (decoupled weight decay): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * wd * p; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 */
public final class AdamW extends Optimizer {
    /** AdamW's options; defaults are the spec's adapter-training values. */
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public static final Options DEFAULTS = new Options(3e-4, 0.9, 0.999, 1e-8, 1e-4);

        public Options {
            if (!(lr > 0)) throw new IllegalArgumentException("AdamW lr must be > 0, got " + lr);
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("AdamW beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("AdamW beta2 must be in [0, 1), got " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("AdamW eps must be > 0, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("AdamW weight decay must be >= 0, got " + weightDecay);
        }

        public Options withLr(double newLr) {
            return new Options(newLr, beta1, beta2, eps, weightDecay);
        }
    }

    public AdamW(List<Tensor> params, Options o) {
        super(params);
        var b = bridge();
        b.ensureLoaded();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment opts = a.allocateFrom(ValueLayout.JAVA_DOUBLE, o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay());
            MemorySegment out = b.out();
            b.check(progrpo_torch_h.pt_adamw_new(b.handles(params), params.size(), opts, out), () -> "AdamW(" + o + ")");
            init(out.get(ValueLayout.ADDRESS, 0));
        }
    }
}
