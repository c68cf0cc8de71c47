package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.MemorySegment;

/**
 * A seeded libtorch random generator, for reproducible runs: the same seed gives the same samples. Its full state can
 * be saved ({@link #state()}) and restored ({@link #setState(Tensor)}) for checkpoint/resume. libtorch locks the
 * generator per draw, so it may be shared between threads.
 */
public final class Generator implements AutoCloseable {
    private MemorySegment handle;
    private final Device device;
    private final long seed;

    private Generator(MemorySegment handle, Device device, long seed) {
        this.handle = handle;
        this.device = device;
        this.seed = seed;
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

    static MemorySegment handleOrNull(Generator g) {
        if (g == null) return MemorySegment.NULL;
        if (g.handle == null) throw new IllegalStateException("generator is closed");
        return g.handle;
    }

    public Device device() {
        return device;
    }

    /** The seed it was created with (not changed by draws). */
    public long initialSeed() {
        return seed;
    }

    public void setSeed(long s) {
        Native.check(progrpo_torch_h.pt_generator_set_seed(handleOrNull(this), s), "generator_set_seed");
    }

    /** A uint8 tensor with the full generator state. */
    public Tensor state() {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_generator_get_state(handleOrNull(this), s.out), "generator_get_state");
        return Tensor.adopt(s.outAddress(0));
    }

    public void setState(Tensor state) {
        Native.check(progrpo_torch_h.pt_generator_set_state(handleOrNull(this), state.handle()),
                () -> "generator_set_state(" + state.describe() + ")");
    }

    @Override
    public void close() {
        if (handle == null) return;
        progrpo_torch_h.pt_generator_free(handle);
        handle = null;
    }
}
