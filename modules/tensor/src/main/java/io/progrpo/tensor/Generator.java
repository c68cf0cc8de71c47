package io.progrpo.tensor;

import io.progrpo.tensor.internal.HandleGuard;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

/**
 * A seeded libtorch random generator, for reproducible runs: the same seed gives the same samples. Its full state can
 * be saved ({@link #state()}) and restored ({@link #setState(Tensor)}) for checkpoint/resume.
 *
 * <h2>Threads</h2>
 * A generator is not confined: any thread may draw from it (libtorch locks it per draw, so concurrent draws are safe,
 * though their order, and so which thread gets which numbers, is not reproducible). {@link #close()} may come from any
 * thread, also while other threads draw: it waits for no one, the draws already inside libtorch complete, the generator
 * is freed when the last of them returns, and every later use throws {@link IllegalStateException}. It never frees the
 * generator under a running draw.
 */
public final class Generator implements AutoCloseable {
    private final HandleGuard guard;
    private final Device device;
    private final long seed;

    private Generator(MemorySegment handle, Device device, long seed) {
        this.device = device;
        this.seed = seed;
        this.guard = new HandleGuard(handle, progrpo_torch_h::pt_generator_free, () -> "generator (seed " + seed + ", " + device + ")", false);
    }

    public static Generator create(long seed) {
        return create(seed, Device.CPU);
    }

    public static Generator create(long seed, Device device) {
        Native.ensureLoaded();
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_generator_new(seed, device.typeCode(), device.index(), s.out), () -> "generator_new(" + device + ")");
        return new Generator(s.outAddress(0), device, seed);
    }

    /** Runs one native draw with {@code gen}'s handle held open (NULL, libtorch's default generator, for null). */
    static int draw(Generator gen, ToIntFunction<MemorySegment> call) {
        if (gen == null) return call.applyAsInt(MemorySegment.NULL);
        return gen.guard.call(call);
    }

    public Device device() {
        return device;
    }

    /** The seed it was created with (not changed by draws). */
    public long initialSeed() {
        return seed;
    }

    public void setSeed(long s) {
        Native.check(guard.call(h -> progrpo_torch_h.pt_generator_set_seed(h, s)), "generator_set_seed");
    }

    /** A uint8 tensor with the full generator state. */
    public Tensor state() {
        Native.Scratch s = Native.scratch();
        Native.check(guard.call(h -> progrpo_torch_h.pt_generator_get_state(h, s.out)), "generator_get_state");
        return Tensor.adopt(s.outAddress(0));
    }

    public void setState(Tensor state) {
        MemorySegment st = state.handle();
        Native.check(guard.call(h -> progrpo_torch_h.pt_generator_set_state(h, st)), () -> "generator_set_state(" + state.describe() + ")");
    }

    public boolean isClosed() {
        return guard.isClosed();
    }

    /** Frees the generator, at once or, when other threads are drawing from it, as their draws return. Idempotent. */
    @Override
    public void close() {
        guard.close();
    }
}
