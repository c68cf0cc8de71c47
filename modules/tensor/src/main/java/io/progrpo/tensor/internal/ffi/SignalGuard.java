package io.progrpo.tensor.internal.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Keeps the JVM's own POSIX signal handlers in place across the loading of native libraries.
 *
 * <p>HotSpot handles SIGSEGV, SIGBUS, SIGFPE and SIGILL itself: compiled Java code turns null checks and stack
 * banging into those signals on purpose. A library whose load-time constructor installs its own handler for one of
 * them takes that away, and the next implicit null check kills the JVM with "SIGSEGV (sent by kill)". libtorch builds
 * that link MPI do exactly that: Debian's libtorch 2.x depends on Open MPI, whose UCX library ({@code libucs})
 * installs error handlers for all four when it is loaded.
 *
 * <p>{@link ShimLibrary} prevents that where it can (it empties UCX's signal settings before the load); {@link #around}
 * is the general remedy: it reads the handlers of the guarded signals before the load and puts back any that changed
 * after it, reporting which. The {@code sigaction} structure is copied as opaque bytes,
 * so its layout beyond the handler pointer at offset 0 does not matter.
 */
public final class SignalGuard {
    /** Signals whose handlers HotSpot installs and relies on (Linux numbering, x86-64 and AArch64 alike). */
    public static final Map<Integer, String> JVM_SIGNALS = Map.of(
            4, "SIGILL", 7, "SIGBUS", 8, "SIGFPE", 11, "SIGSEGV", 3, "SIGQUIT", 12, "SIGUSR2",
            1, "SIGHUP", 2, "SIGINT", 15, "SIGTERM");

    /** Bytes reserved for one {@code struct sigaction} (152 on glibc for x86-64 and AArch64). */
    private static final long SIGACTION_BYTES = 512;

    private static final MethodHandle SIGACTION;

    static {
        MethodHandle sigaction = null;
        try {
            Linker linker = Linker.nativeLinker();
            sigaction = linker.defaultLookup().find("sigaction").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS))).orElse(null);
        } catch (IllegalCallerException | UnsupportedOperationException e) {
            // No native access (the shim's load reports that itself) or no native linker: nothing to guard with.
        }
        SIGACTION = sigaction;
    }

    private SignalGuard() {}

    /** A loading step that may throw. */
    @FunctionalInterface
    public interface Load<T, E extends Exception> {
        T run() throws E;
    }

    /** What {@link #around} did: its value, and the names of the signals whose handlers it had to put back. */
    public record Guarded<T>(T value, List<String> restored) {}

    /** True when libc's {@code sigaction} could be bound (Linux and other POSIX systems with native access). */
    public static boolean available() {
        return SIGACTION != null;
    }

    /** Runs {@code load} with the JVM's handlers of {@link #JVM_SIGNALS} guarded; see the class comment. */
    public static <T, E extends Exception> Guarded<T> around(Load<T, E> load) throws E {
        return around(JVM_SIGNALS, load);
    }

    /** As {@link #around(Load)} for the given signals (number to name). */
    public static <T, E extends Exception> Guarded<T> around(Map<Integer, String> signals, Load<T, E> load) throws E {
        if (SIGACTION == null) return new Guarded<>(load.run(), List.of());
        try (Arena arena = Arena.ofConfined()) {
            List<Integer> numbers = new ArrayList<>(signals.keySet());
            List<MemorySegment> before = new ArrayList<>();
            for (int sig : numbers) before.add(read(sig, arena));
            T value = load.run();
            List<String> restored = new ArrayList<>();
            for (int i = 0; i < numbers.size(); i++) {
                int sig = numbers.get(i);
                MemorySegment now = read(sig, arena);
                if (handler(now) != handler(before.get(i))) {
                    write(sig, before.get(i));
                    restored.add(signals.get(sig));
                }
            }
            restored.sort(null);
            return new Guarded<>(value, List.copyOf(restored));
        }
    }

    /** The handler address (offset 0 of {@code struct sigaction}) now installed for {@code sig}. */
    public static long handlerOf(int sig) {
        if (SIGACTION == null) throw new UnsupportedOperationException("sigaction is not available");
        try (Arena arena = Arena.ofConfined()) {
            return handler(read(sig, arena));
        }
    }

    /** Installs the handler address {@code handler} (0 = SIG_DFL, 1 = SIG_IGN) for {@code sig}; for tests. */
    public static void install(int sig, long handler) {
        if (SIGACTION == null) throw new UnsupportedOperationException("sigaction is not available");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment act = arena.allocate(SIGACTION_BYTES, 16);
            act.set(ValueLayout.JAVA_LONG, 0, handler);
            write(sig, act);
        }
    }

    private static long handler(MemorySegment act) {
        return act.get(ValueLayout.JAVA_LONG, 0);
    }

    private static MemorySegment read(int sig, Arena arena) {
        MemorySegment act = arena.allocate(SIGACTION_BYTES, 16);
        call(sig, MemorySegment.NULL, act);
        return act;
    }

    private static void write(int sig, MemorySegment act) {
        call(sig, act, MemorySegment.NULL);
    }

    private static void call(int sig, MemorySegment act, MemorySegment old) {
        int rc;
        try {
            rc = (int) SIGACTION.invokeExact(sig, act, old);
        } catch (Throwable t) {
            throw new IllegalStateException("sigaction(" + sig + ") failed", t);
        }
        if (rc != 0) throw new IllegalStateException("sigaction(" + sig + ") returned " + rc);
    }
}
