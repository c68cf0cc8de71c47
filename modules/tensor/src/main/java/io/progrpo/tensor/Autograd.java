package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.ValueLayout;
import java.util.List;

/** Autograd helpers: the thread-local no-grad scope and gradient-norm clipping. */
public final class Autograd {
    private Autograd() {}

    /** The innermost open guard of each thread (slot 0); guards chain outwards through {@code outer}. */
    private static final ThreadLocal<GradMode[]> INNERMOST = ThreadLocal.withInitial(() -> new GradMode[1]);

    /**
     * A grad-mode guard of one thread: it sets the mode when opened and restores the mode in force before it when
     * closed. Guards nest like {@link Scope}s: closing one that has guards opened after it still open closes those
     * first (innermost first; their own close() is then a no-op), so the mode after closing a guard is always the one
     * before it was opened, whatever the order of the close() calls. Closing is idempotent; closing on another thread
     * throws {@link WrongThreadException}.
     */
    public static final class GradMode implements AutoCloseable {
        private final boolean previous;
        private final Thread thread = Thread.currentThread();
        private final GradMode[] innermost = INNERMOST.get();
        private final GradMode outer;
        private boolean closed;

        private GradMode(boolean enabled) {
            this.previous = isGradEnabled();
            Native.check(progrpo_torch_h.pt_set_grad_enabled(enabled ? 1 : 0), "set_grad_enabled");
            this.outer = innermost[0];
            innermost[0] = this;
        }

        @Override
        public void close() {
            if (closed) return;
            if (Thread.currentThread() != thread) throw new WrongThreadException("grad mode is per thread; close it on '" + thread.getName() + "'");
            while (innermost[0] != this) innermost[0].restore(); // guards opened after this one and still open
            restore();
        }

        private void restore() {
            closed = true;
            innermost[0] = outer;
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
