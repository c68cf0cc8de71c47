package io.progrpo.tensor.optim;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/** libtorch's SGD with momentum, dampening, weight decay and Nesterov. */
public final class Sgd extends Optimizer {
    public record Options(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        public Options {
            if (!(lr > 0)) throw new IllegalArgumentException("SGD lr must be > 0, got " + lr);
            if (!(momentum >= 0)) throw new IllegalArgumentException("SGD momentum must be >= 0, got " + momentum);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("SGD weight decay must be >= 0, got " + weightDecay);
        }

        public static Options plain(double lr) {
            return new Options(lr, 0, 0, 0, false);
        }
    }

    public Sgd(List<Tensor> params, Options o) {
        super(params);
        var b = bridge();
        b.ensureLoaded();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment opts = a.allocateFrom(ValueLayout.JAVA_DOUBLE, o.lr(), o.momentum(), o.dampening(), o.weightDecay(), o.nesterov() ? 1 : 0);
            MemorySegment out = b.out();
            b.check(progrpo_torch_h.pt_sgd_new(b.handles(params), params.size(), opts, out), () -> "SGD(" + o + ")");
            init(out.get(ValueLayout.ADDRESS, 0));
        }
    }
}
