package io.progrpo.tensor.internal.ffi;

import io.progrpo.tensor.TorchUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds and loads the shim (libprogrpo_torch.so) once. Loading never throws from static initialisation: a failure
 * is recorded with a message that names what to run or which flag to pass, and {@link #ensureLoaded()} turns it into
 * an exception at the first public call that needs native code.
 *
 * <p>Search order: system property {@code progrpo.shim} (the file), system property {@code progrpo.shim.dir},
 * environment variable {@code PROGRPO_SHIM} (file or directory), then a natives jar on the module or class path
 * ({@link io.progrpo.tensor.spi.NativeLibraryProvider}, extracted by {@link NativeBundles}), then {@code native/build/}
 * in the working directory or any of its parents (the default build location of {@code scripts/setup}).
 *
 * <p>Before the load, OMP_WAIT_POLICY (PASSIVE, see {@link #OMP_WAIT_POLICY_PROPERTY}) and UCX's signal settings are
 * set where the environment leaves them unset. The load runs inside {@link SignalGuard}: libtorch builds that link MPI
 * (Debian's 2.x) pull in a library that replaces the JVM's SIGSEGV handler at load time, which would crash the JVM at
 * its next implicit null check.
 */
public final class ShimLibrary {
    public static final String FILE_NAME = "libprogrpo_torch.so";
    public static final String NATIVE_ACCESS_FLAG = "--enable-native-access=io.progrpo.tensor";

    private static final SymbolLookup LOOKUP;
    private static final String FAILURE;
    private static final Path PATH;
    /** The natives jar the shim came from, or null (set by locate, read by the load's failure message). */
    private static io.progrpo.tensor.spi.NativeLibraryProvider BUNDLE;

    static {
        SymbolLookup lookup = null;
        String failure = null;
        Path path = null;
        List<Path> tried = new ArrayList<>();
        String[] bundleFailure = {null};
        Optional<Path> found = locate(tried, bundleFailure);
        if (found.isEmpty()) {
            failure = bundleFailure[0] != null ? bundleFailure[0]
                    : FILE_NAME + " was not found (looked at " + tried + "). Add io.progrpo:progrpo-natives with your platform's "
                    + "classifier to the module or class path, build it with scripts/setup, or point "
                    + "-Dprogrpo.shim=/path/to/" + FILE_NAME + " (or the PROGRPO_SHIM environment variable) at it.";
        } else {
            path = found.get();
            try {
                Path lib = path;
                environmentDefaults();
                SignalGuard.Guarded<SymbolLookup> g = SignalGuard.around(() -> SymbolLookup.libraryLookup(lib, Arena.global()));
                lookup = g.value();
                if (!g.restored().isEmpty()) {
                    System.getLogger("io.progrpo.tensor").log(System.Logger.Level.WARNING, "a library loaded with "
                            + path.getFileName() + " replaced the JVM's handlers of " + g.restored() + "; put them back");
                }
            } catch (IllegalCallerException e) {
                failure = "native access is not enabled for module io.progrpo.tensor: start the JVM with "
                        + NATIVE_ACCESS_FLAG + " (or --enable-native-access=ALL-UNNAMED on the class path). " + e.getMessage();
            } catch (IllegalArgumentException e) {
                String m = String.valueOf(e.getMessage());
                failure = BUNDLE != null ? NativeBundles.loadFailure(BUNDLE, path, m, NativeBundles.installedLibtorch(NativeBundles.libraryDirs()))
                        : (m.contains("libtorch") || m.contains("libc10")
                        ? "libtorch could not be loaded for " + path + ": install it (scripts/setup installs Debian's "
                        + "libtorch-dev) or rebuild the shim against an installed libtorch. "
                        : "the shim " + path + " could not be loaded; rebuild it with scripts/setup. ")
                        + "Loader said: " + m;
            }
        }
        LOOKUP = lookup;
        FAILURE = failure;
        PATH = path;
    }

    private ShimLibrary() {}

    /** System property choosing OpenMP's wait policy when the environment does not: PASSIVE (default), ACTIVE, inherit. */
    public static final String OMP_WAIT_POLICY_PROPERTY = "progrpo.omp.waitPolicy";

    /**
     * Variables that libraries loaded with libtorch read once, when they load; each is set only where the environment
     * leaves it unset.
     * <ul>
     *   <li>OMP_WAIT_POLICY: left unset, libgomp's worker threads spin between parallel regions; measured on 2 cores,
     *       GRPO epochs then took 1.16 to 1.48x as long as with PASSIVE, and single ops on a shared machine 10 to
     *       150x. PASSIVE is set; the property {@value #OMP_WAIT_POLICY_PROPERTY} chooses ACTIVE, or {@code inherit}
     *       for libgomp's own default.</li>
     *   <li>UCX_ERROR_SIGNALS (SIGSEGV, SIGBUS, SIGFPE, SIGILL by default) and UCX_DEBUG_SIGNO (SIGHUP by default):
     *       emptied, so UCX (Open MPI's transport, which Debian's libtorch 2.x links) installs no handler over the
     *       JVM's. {@link SignalGuard} puts back what any other library replaces.</li>
     * </ul>
     */
    private static void environmentDefaults() {
        NativeEnv.setIfUnset("UCX_ERROR_SIGNALS", "");
        NativeEnv.setIfUnset("UCX_DEBUG_SIGNO", "");
        String p = System.getProperty(OMP_WAIT_POLICY_PROPERTY, "PASSIVE").strip();
        if (p.equalsIgnoreCase("inherit")) return;
        if (!p.equalsIgnoreCase("PASSIVE") && !p.equalsIgnoreCase("ACTIVE")) {
            System.getLogger("io.progrpo.tensor").log(System.Logger.Level.WARNING, "-D" + OMP_WAIT_POLICY_PROPERTY + "="
                    + p + " is not PASSIVE, ACTIVE or inherit; using PASSIVE");
            p = "PASSIVE";
        }
        NativeEnv.setIfUnset("OMP_WAIT_POLICY", p.toUpperCase(java.util.Locale.ROOT));
    }

    private static Optional<Path> locate(List<Path> tried, String[] bundleFailure) {
        String prop = System.getProperty("progrpo.shim");
        if (prop != null) return check(Path.of(prop), tried);
        String dir = System.getProperty("progrpo.shim.dir");
        if (dir != null) {
            Optional<Path> p = check(Path.of(dir).resolve(FILE_NAME), tried);
            if (p.isPresent()) return p;
        }
        String env = System.getenv("PROGRPO_SHIM");
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            return check(Files.isDirectory(p) ? p.resolve(FILE_NAME) : p, tried);
        }
        NativeBundles.Choice bundle = NativeBundles.choose(NativeBundles.found(), NativeBundles.platform());
        if (bundle.provider() != null || bundle.failure() != null) {
            Optional<Path> p = NativeBundles.fromProviders(bundle, tried, bundleFailure);
            if (p.isPresent()) BUNDLE = bundle.provider();
            return p;
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Optional<Path> p = check(d.resolve("native/build").resolve(FILE_NAME), tried);
            if (p.isPresent()) return p;
        }
        return Optional.empty();
    }

    private static Optional<Path> check(Path p, List<Path> tried) {
        tried.add(p);
        return Files.isRegularFile(p) ? Optional.of(p.toAbsolutePath()) : Optional.empty();
    }

    /** The lookup the generated bindings resolve symbols in; finds nothing when loading failed. */
    static SymbolLookup symbolLookup() {
        return LOOKUP != null ? LOOKUP : name -> Optional.<MemorySegment>empty();
    }

    /** Null when the shim is loaded, else why it is not. */
    public static String failure() {
        return FAILURE;
    }

    public static Optional<Path> path() {
        return Optional.ofNullable(PATH);
    }

    public static boolean isLoaded() {
        return FAILURE == null;
    }

    /** Throws {@link TorchUnavailableException} with the recorded reason when the shim is not loaded. */
    public static void ensureLoaded() {
        if (FAILURE != null) throw new TorchUnavailableException(FAILURE);
    }
}
