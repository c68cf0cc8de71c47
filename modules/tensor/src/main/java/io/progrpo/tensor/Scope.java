package io.progrpo.tensor;

import java.lang.ref.Cleaner;
import java.util.ArrayList;

/**
 * A thread-confined owner of tensors. Every tensor created on a thread while a scope is open there belongs to the
 * innermost open scope, and is freed when the scope closes (try-with-resources). A result that must outlive the
 * scope is moved out explicitly with {@link #keep(Tensor)} (to the enclosing scope, or to the caller when there is
 * none). Closing is idempotent; scopes close innermost first; using a scope from another thread throws
 * {@link WrongThreadException}.
 *
 * <pre>{@code
 * Tensor loss;
 * try (Scope scope = Scope.open()) {
 *     Tensor h = x.matmul(w).tanh();            // freed at the end of the block
 *     loss = scope.keep(h.square().mean());     // survives it
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();
    private static final Cleaner CLEANER = Cleaner.create();

    private final Scope parent;
    private final Thread thread;
    private final ArrayList<Tensor> owned = new ArrayList<>();
    private int closedInList;
    private boolean closed;
    private final LeakGuard guard = new LeakGuard();
    private final Cleaner.Cleanable cleanable;

    /** Reports scopes that were never closed (their tensors stay alive until the scope object is collected). */
    private static final class LeakGuard implements Runnable {
        volatile boolean closedExplicitly;

        @Override
        public void run() {
            if (!closedExplicitly) {
                System.getLogger("io.progrpo.tensor").log(System.Logger.Level.WARNING,
                        "a tensor Scope was never closed; its tensors were leaked until now");
            }
        }
    }

    private Scope(Scope parent) {
        this.parent = parent;
        this.thread = Thread.currentThread();
        this.cleanable = Tensor.SAFETY_NET ? CLEANER.register(this, guard) : null;
    }

    /** Opens a scope on the current thread, nested in the current one if any. */
    public static Scope open() {
        Scope s = new Scope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /** The innermost open scope of the current thread, or null. */
    static Scope current() {
        return CURRENT.get();
    }

    void adopt(Tensor t) {
        owned.add(t);
    }

    void forget() {
        // a tensor of this scope was closed on its own; compact the list now and then
        if (++closedInList > 1024 && closedInList > owned.size() / 2) {
            owned.removeIf(Tensor::isClosed);
            closedInList = 0;
        }
    }

    private void checkThread() {
        if (Thread.currentThread() != thread) {
            throw new WrongThreadException("scope belongs to thread '" + thread.getName() + "', used from '"
                    + Thread.currentThread().getName() + "'");
        }
    }

    /**
     * Moves {@code t} out of this scope: to the enclosing scope, or, when there is none, to the caller, who must close
     * it. Returns {@code t}.
     */
    public <T extends Tensor> T keep(T t) {
        checkThread();
        if (closed) throw new IllegalStateException("scope is closed");
        if (t.owner() != this) {
            throw new IllegalArgumentException("tensor " + t + " does not belong to this scope");
        }
        t.moveTo(parent);
        return t;
    }

    /** Number of live tensors this scope still owns. */
    public int size() {
        int n = 0;
        for (Tensor t : owned) if (!t.isClosed() && t.owner() == this) n++;
        return n;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees every tensor the scope still owns, newest first; closes open inner scopes first. */
    @Override
    public void close() {
        if (closed) return;
        checkThread();
        Scope cur = CURRENT.get();
        while (cur != null && cur != this) { // inner scopes left open: close them first
            cur.close();
            cur = CURRENT.get();
        }
        closed = true;
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            Tensor t = owned.get(i);
            if (t.owner() == this) {
                try {
                    t.free();
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
        }
        owned.clear();
        CURRENT.set(parent);
        guard.closedExplicitly = true;
        if (cleanable != null) cleanable.clean();
        if (first != null) throw first;
    }
}
