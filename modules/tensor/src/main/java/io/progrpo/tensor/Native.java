package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.ShimLibrary;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Supplier;

/**
 * Package-private glue between the public API and the generated bindings: per-thread scratch memory for out
 * parameters and small arrays (so no op allocates native memory for its arguments), and status checking.
 */
final class Native {
    static final int MAX_DIMS = 64;
    private static final int MAX_HANDLES = 1024;

    /** Per-thread native scratch; lives as long as its thread (auto arena). */
    static final class Scratch {
        final MemorySegment out = Arena.ofAuto().allocate(ValueLayout.ADDRESS, 2);
        final MemorySegment info = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG, 8);
        final MemorySegment longs = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG, MAX_DIMS);
        final MemorySegment longs2 = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG, MAX_DIMS);
        final MemorySegment handles = Arena.ofAuto().allocate(ValueLayout.ADDRESS, MAX_HANDLES);
        final MemorySegment doubles = Arena.ofAuto().allocate(ValueLayout.JAVA_DOUBLE, 8);
        final MemorySegment ints = Arena.ofAuto().allocate(ValueLayout.JAVA_INT, 2);

        MemorySegment outAddress(int i) {
            return out.getAtIndex(ValueLayout.ADDRESS, i);
        }

        MemorySegment longs(long[] values) {
            return fill(longs, values);
        }

        MemorySegment longs2(long[] values) {
            return fill(longs2, values);
        }

        private static MemorySegment fill(MemorySegment seg, long[] values) {
            if (values.length > MAX_DIMS) {
                throw new IllegalArgumentException("at most " + MAX_DIMS + " dimensions are supported, got " + values.length);
            }
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_LONG, 0, values.length);
            return seg;
        }

        MemorySegment handles(List<Tensor> ts) {
            if (ts.size() > MAX_HANDLES) throw new IllegalArgumentException("at most " + MAX_HANDLES + " tensors per call, got " + ts.size());
            for (int i = 0; i < ts.size(); i++) handles.setAtIndex(ValueLayout.ADDRESS, i, ts.get(i).handle());
            return handles;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Native() {}

    static Scratch scratch() {
        return SCRATCH.get();
    }

    static void ensureLoaded() {
        ShimLibrary.ensureLoaded();
        if (!Init.DONE) throw new IllegalStateException("unreachable");
    }

    /** One-time set-up after loading: ABI check and thread defaults (see {@link Torch}). */
    private static final class Init {
        static final boolean DONE;

        static {
            Scratch s = scratch();
            check(progrpo_torch_h.pt_abi_version(s.ints), "abi_version");
            int abi = s.ints.getAtIndex(ValueLayout.JAVA_INT, 0);
            if (abi != progrpo_torch_h.PT_ABI_VERSION()) {
                throw new TorchUnavailableException("the loaded shim has ABI version " + abi + ", these bindings expect "
                        + progrpo_torch_h.PT_ABI_VERSION() + "; rebuild it with scripts/setup");
            }
            Torch.applyThreadDefaults();
            if (!ShimLibrary.class.getModule().isNativeAccessEnabled()) {
                System.getLogger("io.progrpo.tensor").log(System.Logger.Level.WARNING,
                        "native access is not enabled for io.progrpo.tensor; pass " + ShimLibrary.NATIVE_ACCESS_FLAG);
            }
            DONE = true;
        }
    }

    /** Throws {@link TorchException} for a failed status, with the operation described by {@code what}. */
    static void check(int status, Supplier<String> what) {
        if (status != 0) throw new TorchException(what.get(), lastError());
    }

    static void check(int status, String what) {
        if (status != 0) throw new TorchException(what, lastError());
    }

    static String lastError() {
        Scratch s = scratch();
        progrpo_torch_h.pt_last_error(s.out);
        MemorySegment msg = s.outAddress(0);
        String m = msg.equals(MemorySegment.NULL) ? "(no message)" : msg.reinterpret(Integer.MAX_VALUE).getString(0);
        // libtorch sometimes appends a C++ frame list even without the full backtrace; keep the first paragraph.
        int cut = m.indexOf("\nException raised from");
        return (cut > 0 ? m.substring(0, cut) : m).strip();
    }
}
