package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * The leak safety net of one caller-owned tensor: a {@link Cleaner} action that frees the native handle when the
 * {@link Tensor} became unreachable without {@code close()}, and counts the leak in the {@link MemoryLedger}. It holds
 * no reference to the Tensor (only the handle's address and what the ledger needs). {@link #disarm()} is the
 * explicit path: the tensor is closed or moved into a scope, and the action does nothing any more.
 */
final class LeakAction implements Runnable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final boolean DEBUG_LEAKS = Boolean.getBoolean("progrpo.tensor.debugLeaks");
    private static final System.Logger LOG = System.getLogger("io.progrpo.tensor");

    private final long address;
    private final Device device;
    private final long storageKey;
    private final Throwable createdAt;
    private volatile boolean explicit;
    private Cleaner.Cleanable cleanable;

    private LeakAction(long address, Device device, long storageKey, Throwable createdAt) {
        this.address = address;
        this.device = device;
        this.storageKey = storageKey;
        this.createdAt = createdAt;
    }

    /** Arms the safety net for {@code owner}, whose native handle is at {@code address}. */
    static LeakAction register(Tensor owner, long address, Device device, long storageKey) {
        LeakAction a = new LeakAction(address, device, storageKey, DEBUG_LEAKS ? new Throwable("tensor created here") : null);
        a.cleanable = CLEANER.register(owner, a);
        return a;
    }

    /** The tensor is closed or owned by a scope now: unregisters the action without freeing anything. */
    void disarm() {
        explicit = true;
        cleanable.clean();
    }

    @Override
    public void run() {
        if (explicit) return;
        progrpo_torch_h.pt_tensor_free(MemorySegment.ofAddress(address));
        long freed = MemoryLedger.released(address, device, storageKey, true);
        MemoryLedger.onLeak();
        if (createdAt != null) {
            LOG.log(System.Logger.Level.WARNING, "leaked tensor on " + device + " freed by the safety net, "
                    + (freed > 0 ? MemoryLedger.human(freed) + " of storage released" : "its storage still referenced by another tensor")
                    + "; created at:", createdAt);
        }
    }
}
