package io.progrpo.tensor.internal.ffi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.spi.NativeLibraryProvider;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extraction of a natives jar's library: the right provider for the platform, a versioned directory, the SHA-256
 * checked, a corrupt file replaced, concurrent extraction safe, and messages that name both libtorch versions.
 */
class NativeBundlesTest {
    @TempDir
    Path tmp;

    /** A provider serving {@code bytes}, claiming {@code sha} (null: the bytes' own), counting its opens. */
    static final class Fake implements NativeLibraryProvider {
        final byte[] bytes;
        final Map<String, String> meta;
        final AtomicInteger opens = new AtomicInteger();

        Fake(byte[] bytes, String platform, String sha) {
            this.bytes = bytes;
            this.meta = platform == null ? Map.of() : Map.of("platform", platform, "libtorch.version", "1.13.0", "classifier",
                    platform + "-libtorch1.13", "version", "0.1.0-SNAPSHOT", "sha256", sha != null ? sha : sha256(bytes), "shim.abi", "1");
        }

        @Override
        public String description() {
            return "fake natives " + meta.getOrDefault("classifier", "(none)");
        }

        @Override
        public Map<String, String> metadata() {
            return meta;
        }

        @Override
        public InputStream open() {
            opens.incrementAndGet();
            return new ByteArrayInputStream(bytes);
        }
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void theProviderForThisPlatformIsChosen() {
        Fake empty = new Fake(new byte[0], null, null);
        Fake other = new Fake(new byte[] {1}, "mac-aarch64", null);
        Fake mine = new Fake(new byte[] {2}, "linux-x86_64", null);
        assertSame(mine, NativeBundles.choose(List.of(empty, other, mine), "linux-x86_64").provider());
        NativeBundles.Choice none = NativeBundles.choose(List.of(empty, other), "linux-x86_64");
        assertNull(none.provider());
        assertTrue(none.failure().contains("no natives jar on the path carries a shim for linux-x86_64"), none.failure());
        assertTrue(none.failure().contains("(no library: the jar without a platform classifier)") && none.failure().contains("(for mac-aarch64)"),
                none.failure());
        assertTrue(none.failure().contains("linux-x86_64-libtorch1.13"), none.failure());
        NativeBundles.Choice nothing = NativeBundles.choose(List.of(), "linux-x86_64");
        assertNull(nothing.provider());
        assertNull(nothing.failure(), "no natives jar at all: the other places are searched");
        String os = System.getProperty("os.name").toLowerCase();
        if (os.startsWith("linux") && System.getProperty("os.arch").equals("amd64")) assertEquals("linux-x86_64", NativeBundles.platform());
    }

    @Test
    void extractionIsVersionedCheckedAndReused() throws IOException {
        byte[] lib = randomBytes(300_000, 1);
        Fake p = new Fake(lib, "linux-x86_64", null);
        Path first = NativeBundles.extract(p, tmp);
        assertArrayEquals(lib, Files.readAllBytes(first));
        assertEquals(ShimLibrary.FILE_NAME, first.getFileName().toString());
        assertEquals("0.1.0-SNAPSHOT-linux-x86_64-libtorch1.13-" + sha256(lib).substring(0, 16), first.getParent().getFileName().toString());
        assertEquals(tmp, first.getParent().getParent());
        assertEquals(first, NativeBundles.extract(p, tmp));
        assertEquals(1, p.opens.get(), "an intact library is not written again");
        try (var s = Files.list(first.getParent())) {
            assertEquals(List.of(".lock", ShimLibrary.FILE_NAME), s.map(f -> f.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
        // a corrupt (truncated) file from an earlier crash is replaced
        first.toFile().setWritable(true);
        Files.write(first, new byte[] {1, 2, 3});
        assertEquals(first, NativeBundles.extract(p, tmp));
        assertArrayEquals(lib, Files.readAllBytes(first));
        assertEquals(2, p.opens.get());
    }

    @Test
    void aCorruptBundleIsRefusedAndLeavesNothing() throws IOException {
        byte[] lib = randomBytes(1000, 2);
        Fake lying = new Fake(lib, "linux-x86_64", sha256(new byte[] {9}));
        var e = assertThrows(IOException.class, () -> NativeBundles.extract(lying, tmp));
        assertTrue(e.getMessage().contains("is corrupt: its SHA-256 is " + sha256(lib)), e.getMessage());
        try (var s = Files.walk(tmp)) {
            assertFalse(s.anyMatch(f -> f.getFileName().toString().startsWith(ShimLibrary.FILE_NAME)), "neither the library nor a part file");
        }
        Fake noSha = new Fake(lib, "linux-x86_64", "");
        e = assertThrows(IOException.class, () -> NativeBundles.extract(noSha, tmp));
        assertTrue(e.getMessage().contains("names no SHA-256"), e.getMessage());
    }

    @Test
    void concurrentExtractionsAgree() throws Exception {
        byte[] lib = randomBytes(2_000_000, 3);
        Fake p = new Fake(lib, "linux-x86_64", null);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) fs.add(pool.submit((Callable<Path>) () -> NativeBundles.extract(p, tmp)));
            Path one = fs.get(0).get();
            for (Future<Path> f : fs) assertEquals(one, f.get());
            assertArrayEquals(lib, Files.readAllBytes(one));
            assertEquals(1, p.opens.get(), "extracted once; the others waited on the lock and found it intact");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aMissingLibtorchIsNamedWithBothVersions() throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.createFile(a.resolve("libtorch_cpu.so.2.6"));
        Files.createFile(b.resolve("libtorch_cpu.so"));
        Files.createFile(b.resolve("libtorch_cpu.so.2.6.txt"));
        List<String> installed = NativeBundles.installedLibtorch(List.of(a, b, tmp.resolve("absent")));
        assertEquals(List.of("2.6 in " + a, "unversioned in " + b), installed);
        Fake p = new Fake(new byte[] {1}, "linux-x86_64", null);
        String m = NativeBundles.loadFailure(p, tmp.resolve("x.so"), "libtorch.so.1.13: cannot open shared object file: No such file or directory", installed);
        assertTrue(m.contains("built for libtorch 1.13.0, which this machine does not provide (libtorch installed: 2.6 in " + a), m);
        assertTrue(m.contains("Install libtorch 1.13.0 (Debian 12's libtorch-dev)") && m.contains("-Dprogrpo.shim.dir"), m);
        assertTrue(m.contains("Loader said: libtorch.so.1.13: cannot open"), m);
        m = NativeBundles.loadFailure(p, tmp.resolve("x.so"), "x.so: cannot open shared object file", List.of());
        assertTrue(m.contains("libtorch installed: none found"), m);
    }

    @Test
    void theCacheRootFollowsTheProperty() {
        String old = System.getProperty("progrpo.natives.cache");
        try {
            System.setProperty("progrpo.natives.cache", tmp.toString());
            assertEquals(tmp, NativeBundles.cacheRoot());
        } finally {
            if (old == null) System.clearProperty("progrpo.natives.cache");
            else System.setProperty("progrpo.natives.cache", old);
        }
    }
}
