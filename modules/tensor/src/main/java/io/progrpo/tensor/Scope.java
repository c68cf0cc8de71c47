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
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ThreadLocal<ThreadScopes> SCOPES = ThreadLocal.withInitial(ThreadScopes::new);

    private final Scope parent;
    private final Thread thread;
    private final OpenScopes openScopes;
    private final ArrayList<Tensor> owned = new ArrayList<>();
    private int closedInList;
    private boolean closed;

    /** The open scopes of one thread: the innermost, whose parents chain to the outermost. */
    private static final class OpenScopes implements Runnable {
        Scope current;

        /**
         * Runs when the thread ended with scopes still open (its ThreadLocal value became unreachable): frees what those
         * scopes hold, so a thread that dies inside a scope does not leak native memory. Nothing else can touch the
         * scopes any more: their thread is gone.
         */
        @Override
        public void run() {
            Scope s = current;
            if (s == null) return;
            System.getLogger("io.progrpo.tensor").log(System.Logger.Level.WARNING,
                    "a thread ended with tensor scopes still open; the safety net freed their tensors");
            for (; s != null; s = s.parent) s.freeOwned();
        }
    }

    /**
     * The ThreadLocal value. One Cleaner registration per thread (not per scope): a scope that is never closed stays
     * reachable through this thread's state while the thread lives, so only the thread's end can orphan it.
     */
    private static final class ThreadScopes {
        final OpenScopes state = new OpenScopes();

        ThreadScopes() {
            if (Tensor.SAFETY_NET) CLEANER.register(this, state);
        }
    }

    private Scope(Scope parent, OpenScopes openScopes) {
        this.parent = parent;
        this.thread = Thread.currentThread();
        this.openScopes = openScopes;
    }

    /** Opens a scope on the current thread, nested in the current one if any. */
    public static Scope open() {
        OpenScopes st = SCOPES.get().state;
        Scope s = new Scope(st.current, st);
        st.current = s;
        return s;
    }

    /** The innermost open scope of the current thread, or null. */
    static Scope current() {
        return SCOPES.get().state.current;
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
        Scope cur = openScopes.current;
        while (cur != null && cur != this) { // inner scopes left open: close them first
            cur.close();
            cur = openScopes.current;
        }
        closed = true;
        RuntimeException first = freeOwned();
        openScopes.current = parent;
        if (first != null) throw first;
    }

    /** Frees every tensor this scope still owns, newest first; returns the first failure, if any. */
    private RuntimeException freeOwned() {
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            Tensor t = owned.get(i);
            if (t.owner() == this) {
                try {
                    t.free();
                } catch (RuntimeException e) {
                    t.moveTo(null); // still open (its dataSegment() is in a native call elsewhere): the safety net takes it
                    if (first == null) first = e;
                }
            }
        }
        owned.clear();
        return first;
    }
}
