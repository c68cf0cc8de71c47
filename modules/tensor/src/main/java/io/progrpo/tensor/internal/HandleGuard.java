package io.progrpo.tensor.internal;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * Guards a native handle that more than one thread may reach (a generator, an optimizer, a TorchScript module) so that
 * {@link #close()} never frees it under a running native call: every call runs between {@link #acquire()} and
 * {@link #release()}; close marks the handle closed at once (later acquires throw {@link IllegalStateException}) and
 * frees it now when no call is running, or when the last running call releases it. So a close racing a use is either
 * ordered after the use, which completes normally, or before it, which throws; it is never a crash.
 *
 * <p>An exclusive guard also refuses overlapping calls (for handles whose native object is not thread-safe, such as
 * libtorch's optimizers): the second caller gets an {@link IllegalStateException} naming the thread in the call.
 * Calls must not nest on one exclusive guard.
 *
 * <p>The cost is two atomic updates per call.
 */
public final class HandleGuard {
    private static final long CLOSED = 1L << 62;

    private final MemorySegment handle;
    private final Consumer<MemorySegment> free;
    private final Supplier<String> what;
    private final boolean exclusive;
    /** Count of running calls, plus {@link #CLOSED} once closed. */
    private final AtomicLong state = new AtomicLong();
    private volatile Thread user;

    /**
     * @param handle    the native handle (new, owned by the guard from now on)
     * @param free      frees it, exactly once
     * @param what      names the object in messages ("generator (seed 42, cpu)")
     * @param exclusive whether calls may not overlap
     */
    public HandleGuard(MemorySegment handle, Consumer<MemorySegment> free, Supplier<String> what, boolean exclusive) {
        this.handle = handle;
        this.free = free;
        this.what = what;
        this.exclusive = exclusive;
    }

    /** The handle, held open until the matching {@link #release()}; call that in a finally block. */
    public MemorySegment acquire() {
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) throw new IllegalStateException(what.get() + " is closed");
            if (exclusive && s != 0) {
                Thread u = user;
                throw new IllegalStateException(what.get() + " is in use by thread '" + (u == null ? "?" : u.getName())
                        + "' (called from '" + Thread.currentThread().getName() + "'); its calls must not overlap");
            }
            if (state.compareAndSet(s, s + 1)) {
                if (exclusive) user = Thread.currentThread();
                return handle;
            }
        }
    }

    /** Ends a call begun by {@link #acquire()}; frees the handle if it was closed meanwhile and this was the last call. */
    public void release() {
        if (exclusive) user = null;
        if (state.decrementAndGet() == CLOSED) free.accept(handle);
    }

    /** Runs {@code call} with the handle held open; returns its result (a shim status). */
    public int call(ToIntFunction<MemorySegment> call) {
        MemorySegment h = acquire();
        try {
            return call.applyAsInt(h);
        } finally {
            release();
        }
    }

    /**
     * Closes the handle: frees it now, or when the running calls return. Idempotent; callable from any thread.
     *
     * @return true for the call that closed it
     */
    public boolean close() {
        long s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) return false;
        } while (!state.compareAndSet(s, s | CLOSED));
        if (s == 0) free.accept(handle);
        return true;
    }

    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }
}
