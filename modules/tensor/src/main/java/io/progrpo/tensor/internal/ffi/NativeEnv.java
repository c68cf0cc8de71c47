package io.progrpo.tensor.internal.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The process environment as native libraries see it (libc's {@code getenv}/{@code setenv}), for the few variables
 * that libraries read when they load, before any Java code of theirs runs: OpenMP's wait policy, UCX's signal
 * handling. {@link System#getenv} is a snapshot taken at JVM start and does not see what is set here.
 */
public final class NativeEnv {
    private static final MethodHandle SETENV;
    private static final MethodHandle GETENV;

    static {
        MethodHandle setenv = null, getenv = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            setenv = libc.find("setenv").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT))).orElse(null);
            getenv = libc.find("getenv").map(a -> linker.downcallHandle(a, FunctionDescriptor.of(
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS))).orElse(null);
        } catch (IllegalCallerException | UnsupportedOperationException e) {
            // no native access or no native linker: nothing can be set
        }
        SETENV = setenv;
        GETENV = getenv;
    }

    private NativeEnv() {}

    /** True when libc's getenv and setenv could be bound. */
    public static boolean available() {
        return SETENV != null && GETENV != null;
    }

    /** The variable's current value in the native environment, if set. */
    public static Optional<String> get(String name) {
        if (GETENV == null) return Optional.empty();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = (MemorySegment) GETENV.invokeExact(arena.allocateFrom(name));
            return v.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(v.reinterpret(Integer.MAX_VALUE).getString(0));
        } catch (Throwable t) {
            return Optional.empty();
        }
    }

    /**
     * Sets {@code name=value} unless the environment already sets {@code name}; returns whether it was set. Call it
     * only before the native libraries that read it are loaded, while no other thread reads the environment.
     */
    public static boolean setIfUnset(String name, String value) {
        if (!available() || get(name).isPresent()) return false;
        try (Arena arena = Arena.ofConfined()) {
            return (int) SETENV.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
