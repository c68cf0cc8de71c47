package io.progrpo.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;

/**
 * The {@link Tensor#dataSegment()} segments of one tensor: a shared arena made on the first call, so the segments may
 * be read from any thread and all die together when the tensor is freed ({@link #close}), and the current view
 * (re-made only when libtorch moved the data). The arena's close action references the tensor, so every segment,
 * which holds the arena's state, keeps the tensor reachable and the leak safety net never frees memory under it.
 */
final class SegmentView {
    private final Arena arena = Arena.ofShared();
    private MemorySegment view;

    /** The segment of {@code bytes} at {@code address}, the previous one when the address did not change. */
    MemorySegment segment(Tensor owner, MemorySegment address, long bytes) {
        if (view == null || view.address() != address.address()) {
            view = address.reinterpret(bytes, arena, seg -> Reference.reachabilityFence(owner));
        }
        return view;
    }

    /**
     * Invalidates every segment on every thread (a shared arena: safe against reads elsewhere).
     *
     * @throws IllegalStateException naming {@code owner} while a native call on another thread holds a segment
     */
    void close(Tensor owner) {
        try {
            arena.close();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("tensor " + owner.describe() + " cannot be freed while a native call on another thread"
                    + " holds its dataSegment(); close it after that call returns", e);
        }
    }
}
