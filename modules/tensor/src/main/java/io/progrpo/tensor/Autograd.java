package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.ValueLayout;
import java.util.List;

/** Autograd helpers: the thread-local no-grad scope and gradient-norm clipping. */
public final class Autograd {
    private Autograd() {}

    /** Restores the previous grad mode of this thread when closed. */
    public static final class GradMode implements AutoCloseable {
        private final boolean previous;
        private final Thread thread = Thread.currentThread();
        private boolean closed;

        private GradMode(boolean enabled) {
            this.previous = isGradEnabled();
            Native.check(progrpo_torch_h.pt_set_grad_enabled(enabled ? 1 : 0), "set_grad_enabled");
        }

        @Override
        public void close() {
            if (closed) return;
            if (Thread.currentThread() != thread) throw new WrongThreadException("grad mode is per thread; close it on '" + thread.getName() + "'");
            closed = true;
            Native.check(progrpo_torch_h.pt_set_grad_enabled(previous ? 1 : 0), "set_grad_enabled");
        }
    }

    /** Disables gradient recording on this thread until closed: {@code try (var ng = Autograd.noGrad()) {...}}. */
    public static GradMode noGrad() {
        Native.ensureLoaded();
        return new GradMode(false);
    }

    public static GradMode enableGrad() {
        Native.ensureLoaded();
        return new GradMode(true);
    }

    public static boolean isGradEnabled() {
        Native.ensureLoaded();
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_is_grad_enabled(s.ints), "is_grad_enabled");
        return s.ints.getAtIndex(ValueLayout.JAVA_INT, 0) != 0;
    }

    /**
     * Scales the gradients of {@code params} so their total 2-norm is at most {@code maxNorm}; returns the norm
     * before clipping (torch.nn.utils.clip_grad_norm_).
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("maxNorm must be > 0, got " + maxNorm);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_clip_grad_norm(s.handles(params), params.size(), maxNorm, s.doubles), "clip_grad_norm");
        return s.doubles.getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
    }
}
