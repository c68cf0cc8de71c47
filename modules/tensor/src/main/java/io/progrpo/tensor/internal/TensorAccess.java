package io.progrpo.tensor.internal;

import io.progrpo.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Supplier;

/**
 * Lets the module's other packages (optim, nn) reach package-private parts of io.progrpo.tensor without making them
 * public API (the JDK's SharedSecrets pattern). Not exported.
 */
public final class TensorAccess {
    /** What io.progrpo.tensor provides. */
    public interface Bridge {
        MemorySegment handle(Tensor t);

        Tensor adopt(MemorySegment newHandle);

        void check(int status, Supplier<String> what);

        MemorySegment handles(List<Tensor> ts);

        MemorySegment out();

        MemorySegment doubles();

        void ensureLoaded();

        /** Takes {@code t} out of any scope: the caller owns it (with the leak safety net). */
        void release(Tensor t);

        /** libtorch's message for the last failed call on this thread. */
        String lastError();

        /** What makes two handles the same tensor: storage, first element's address, sizes and strides. */
        Identity identity(Tensor t);
    }

    /** Two handles with equal identities view exactly the same elements (e.g. two aliases of one parameter). */
    public record Identity(long storage, long address, List<Long> shape, List<Long> strides) {}

    private static Bridge bridge;

    private TensorAccess() {}

    public static void install(Bridge b) {
        bridge = b;
    }

    public static Bridge get() {
        if (bridge == null) {
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return bridge;
    }
}
