package io.progrpo.tensor.internal.ffi;

import io.progrpo.tensor.spi.NativeLibraryProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shim from a natives jar ({@link NativeLibraryProvider}): the provider for this platform, its library extracted
 * into a versioned cache directory, and the messages that say what to do when none fits.
 *
 * <p>Extraction: {@code <cache>/<version>-<classifier>-<sha256 prefix>/libprogrpo_torch.so}, where the cache is
 * {@code -Dprogrpo.natives.cache}, else {@code $PROGRPO_NATIVES_CACHE}, else {@code $XDG_CACHE_HOME/progrpo/natives},
 * else {@code ~/.cache/progrpo/natives}. A file already there is used when its SHA-256 is the bundle's; otherwise,
 * under a file lock on {@code .lock} in that directory (and a lock per directory within this JVM), the bytes are
 * written to a temporary file beside it, checked against the bundle's SHA-256 and moved into place atomically, so a
 * concurrent or killed JVM never sees a partial library.
 */
public final class NativeBundles {
    private static final Map<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();
    private static final Pattern LIBTORCH_FILE = Pattern.compile("libtorch_cpu\\.so(?:\\.(\\d+(?:\\.\\d+)*))?");

    private NativeBundles() {}

    /** A provider that fits this platform, chosen from those found; or why none does. */
    record Choice(NativeLibraryProvider provider, String failure) {}

    /** This JVM's platform in the natives' words: {@code linux-x86_64}, {@code linux-aarch64}, {@code mac-aarch64}. */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "mac" : os.startsWith("windows") ? "windows" : os.replace(' ', '_');
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a;
    }

    /** The providers on the module and class path (ServiceLoader with the tensor module's class loader). */
    static List<NativeLibraryProvider> found() {
        List<NativeLibraryProvider> out = new ArrayList<>();
        try {
            for (NativeLibraryProvider p : ServiceLoader.load(NativeLibraryProvider.class, NativeBundles.class.getClassLoader())) {
                out.add(p);
            }
        } catch (ServiceConfigurationError e) {
            System.getLogger("io.progrpo.tensor").log(System.Logger.Level.WARNING, "a natives provider could not be loaded: " + e.getMessage());
        }
        return out;
    }

    /**
     * The provider for {@code platform} among {@code providers}: the first whose metadata names it. Null provider and a
     * failure message when some were found and none fits; null and null when none was found.
     */
    static Choice choose(List<NativeLibraryProvider> providers, String platform) {
        if (providers.isEmpty()) return new Choice(null, null);
        List<String> seen = new ArrayList<>();
        for (NativeLibraryProvider p : providers) {
            Map<String, String> m = p.metadata();
            if (m.isEmpty()) {
                seen.add(p.description() + " (no library: the jar without a platform classifier)");
                continue;
            }
            if (platform.equals(m.get("platform"))) return new Choice(p, null);
            seen.add(p.description() + " (for " + m.get("platform") + ")");
        }
        return new Choice(null, "no natives jar on the path carries a shim for " + platform + ": found " + seen + ". Depend on "
                + "io.progrpo:progrpo-natives with the classifier for this platform and your libtorch (" + platform
                + "-libtorch<major.minor>, e.g. " + platform + "-libtorch1.13 for Debian 12's libtorch-dev), or build the shim "
                + "with scripts/setup and point -Dprogrpo.shim.dir at its native/build");
    }

    /** The cache root of extracted libraries. */
    static Path cacheRoot() {
        String p = System.getProperty("progrpo.natives.cache");
        if (p == null || p.isBlank()) p = System.getenv("PROGRPO_NATIVES_CACHE");
        if (p != null && !p.isBlank()) return Path.of(p);
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("progrpo").resolve("natives");
    }

    /**
     * The provider's library, extracted under {@code root} (or found there intact).
     *
     * @throws IOException when it cannot be written, or its bytes are not the SHA-256 its metadata names
     */
    static Path extract(NativeLibraryProvider p, Path root) throws IOException {
        Map<String, String> m = p.metadata();
        String sha = m.getOrDefault("sha256", "").toLowerCase(Locale.ROOT);
        if (!sha.matches("[0-9a-f]{64}")) {
            throw new IOException(p.description() + " names no SHA-256 of its library (metadata sha256 = '" + sha + "')");
        }
        String name = (m.getOrDefault("version", "unknown") + "-" + m.getOrDefault("classifier", m.get("platform")) + "-" + sha.substring(0, 16))
                .replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = root.resolve(name);
        Path lib = dir.resolve(ShimLibrary.FILE_NAME);
        if (intact(lib, sha)) return lib;
        Files.createDirectories(dir);
        ReentrantLock local = IN_JVM.computeIfAbsent(dir.toAbsolutePath().normalize(), k -> new ReentrantLock());
        local.lock();
        try (FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            if (intact(lib, sha)) return lib; // another JVM or thread extracted it while this one waited
            Path tmp = Files.createTempFile(dir, ShimLibrary.FILE_NAME + ".", ".part");
            try {
                String got;
                try (InputStream in = p.open(); OutputStream out = Files.newOutputStream(tmp)) {
                    got = copyHashing(in, out);
                }
                if (!got.equals(sha)) {
                    throw new IOException("the library in " + p.description() + " is corrupt: its SHA-256 is " + got + ", its metadata says "
                            + sha + "; download the artifact again (delete it from the local Maven repository)");
                }
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-xr-xr-x"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: the default permissions serve
                }
                try {
                    Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return lib;
        } finally {
            local.unlock();
        }
    }

    private static boolean intact(Path lib, String sha) throws IOException {
        if (!Files.isRegularFile(lib)) return false;
        try (InputStream in = Files.newInputStream(lib)) {
            return copyHashing(in, OutputStream.nullOutputStream()).equals(sha);
        }
    }

    /** Copies {@code in} to {@code out} and returns the SHA-256 of the bytes, hex. */
    static String copyHashing(InputStream in, OutputStream out) throws IOException {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            d.update(buf, 0, n);
            out.write(buf, 0, n);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /**
     * The libtorch versions installed in {@code dirs}, read from the names of {@code libtorch_cpu.so[.VERSION]} files
     * ("unversioned" for PyTorch's own builds, which carry no version in the name), each with its directory.
     */
    static List<String> installedLibtorch(List<Path> dirs) {
        TreeSet<String> out = new TreeSet<>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) continue;
            try (var s = Files.list(d)) {
                s.forEach(f -> {
                    Matcher mt = LIBTORCH_FILE.matcher(f.getFileName().toString());
                    if (mt.matches()) out.add((mt.group(1) == null ? "unversioned" : mt.group(1)) + " in " + d);
                });
            } catch (IOException e) {
                // an unreadable directory tells nothing
            }
        }
        return List.copyOf(out);
    }

    /** Where the dynamic loader commonly looks: $LD_LIBRARY_PATH, then the standard directories. */
    static List<Path> libraryDirs() {
        List<Path> dirs = new ArrayList<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) for (String s : ld.split(":")) if (!s.isBlank()) dirs.add(Path.of(s));
        for (String s : List.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/local/lib", "/usr/lib64", "/usr/lib", "/lib")) {
            dirs.add(Path.of(s));
        }
        return dirs;
    }

    /**
     * Why a bundled shim did not load, in words: the libtorch it was built for against those installed, and the ways
     * out. {@code loaderMessage} is the dynamic loader's.
     */
    static String loadFailure(NativeLibraryProvider p, Path lib, String loaderMessage, List<String> installed) {
        Map<String, String> m = p.metadata();
        String wanted = m.getOrDefault("libtorch.version", "unknown");
        boolean missingLib = loaderMessage.contains("cannot open shared object file") || loaderMessage.contains("undefined symbol");
        String head = missingLib
                ? "the shim from " + p.description() + " was built for libtorch " + wanted + ", which this machine does not provide (libtorch "
                + "installed: " + (installed.isEmpty() ? "none found" : String.join(", ", installed)) + "). "
                : "the shim from " + p.description() + " (extracted to " + lib + ", built for libtorch " + wanted + ") could not be loaded. ";
        return head + "Install libtorch " + wanted + (wanted.startsWith("1.13") ? " (Debian 12's libtorch-dev)" : "")
                + ", or depend on the natives classifier built for the installed libtorch, or build the shim against it with "
                + "scripts/setup and point -Dprogrpo.shim.dir at native/build. Loader said: " + loaderMessage;
    }

    /** Extracts the chosen provider's library; empty with the failure recorded in {@code failure[0]} when it cannot. */
    static Optional<Path> fromProviders(Choice c, List<Path> tried, String[] failure) {
        if (c.provider() == null) {
            failure[0] = c.failure();
            return Optional.empty();
        }
        try {
            Path lib = extract(c.provider(), cacheRoot());
            tried.add(lib);
            return Optional.of(lib.toAbsolutePath());
        } catch (IOException | RuntimeException e) {
            failure[0] = "the shim from " + c.provider().description() + " could not be extracted into " + cacheRoot()
                    + " (set -Dprogrpo.natives.cache or PROGRPO_NATIVES_CACHE to a writable directory): " + e.getMessage();
            return Optional.empty();
        }
    }
}
