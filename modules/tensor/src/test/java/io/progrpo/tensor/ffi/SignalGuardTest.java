package io.progrpo.tensor.ffi;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.ffi.SignalGuard;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The guard that keeps the JVM's signal handlers in place while native libraries load. */
class SignalGuardTest {
    private static final int SIGUSR1 = 10;
    private static final long SIG_IGN = 1;

    @Test
    void aHandlerReplacedDuringTheLoadIsPutBack() {
        assumeTrue(SignalGuard.available(), "no sigaction on this platform");
        long original = SignalGuard.handlerOf(SIGUSR1);
        long replacement = original == SIG_IGN ? 0 : SIG_IGN;
        var g = SignalGuard.around(Map.of(SIGUSR1, "SIGUSR1"), () -> {
            SignalGuard.install(SIGUSR1, replacement);
            assertEquals(replacement, SignalGuard.handlerOf(SIGUSR1), "the load changed the handler");
            return "loaded";
        });
        assertEquals("loaded", g.value());
        assertEquals(List.of("SIGUSR1"), g.restored());
        assertEquals(original, SignalGuard.handlerOf(SIGUSR1));
    }

    @Test
    void anUntouchedHandlerIsLeftAloneAndNotReported() {
        assumeTrue(SignalGuard.available(), "no sigaction on this platform");
        long original = SignalGuard.handlerOf(SIGUSR1);
        var g = SignalGuard.around(Map.of(SIGUSR1, "SIGUSR1"), () -> 42);
        assertEquals(42, g.value());
        assertEquals(List.of(), g.restored());
        assertEquals(original, SignalGuard.handlerOf(SIGUSR1));
    }

    @Test
    void aFailedLoadPropagatesItsException() {
        assumeTrue(SignalGuard.available(), "no sigaction on this platform");
        assertThrows(IllegalArgumentException.class, () -> SignalGuard.around(Map.of(SIGUSR1, "SIGUSR1"), () -> {
            throw new IllegalArgumentException("no such library");
        }));
    }

    @Test
    void theJvmStillOwnsSigsegvAfterLibtorchIsLoaded() {
        assumeTrue(SignalGuard.available(), "no sigaction on this platform");
        long before = SignalGuard.handlerOf(11);
        try (Tensor t = Tensor.zeros(io.progrpo.tensor.DType.FLOAT32, io.progrpo.tensor.Device.CPU, 2)) {
            assertEquals(2, t.numel());
        }
        assertNotEquals(0L, SignalGuard.handlerOf(11), "SIGSEGV has no handler: HotSpot's implicit null checks would crash");
        assertEquals(before, SignalGuard.handlerOf(11), "SIGSEGV's handler changed while libtorch loaded");
        // An implicit null check in compiled code raises SIGSEGV; the JVM must turn it into an exception.
        Object nothing = null;
        for (int i = 0; i < 20_000; i++) {
            int n = i;
            assertThrows(NullPointerException.class, () -> hashOf(n % 2 == 0 ? nothing : null));
        }
    }

    private static int hashOf(Object o) {
        return o.hashCode();
    }
}
