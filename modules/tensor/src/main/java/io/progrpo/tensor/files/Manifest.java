package io.progrpo.tensor.files;

import io.progrpo.tensor.internal.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checksums of files that a checkpoint or a cache writes, so that a file whose bytes changed after it was written is
 * found before it is loaded. SHA-256 digests of a set of files in {@code sha256sum}'s format ({@code <64 hex>  <name>} per line), so that
 * {@code sha256sum -c manifest.sha256} in the directory checks them too, and the same command rewrites a manifest
 * after a deliberate edit.
 */
public final class Manifest {
    private static final Pattern LINE = Pattern.compile("([0-9a-f]{64})  ([^/\\\\\\n]+)");

    private Manifest() {}

    /** A file whose bytes are not those a manifest records; {@code actual} is null for a missing file. */
    public record Mismatch(Path file, String expected, String actual) {
        public String describe() {
            return actual == null ? file + " is missing (the manifest records SHA-256 " + expected + ")"
                    : file + " does not match its recorded SHA-256: expected " + expected + ", got " + actual;
        }
    }

    /**
     * Writes {@code manifest} listing the SHA-256 of each named file of its directory, atomically and durably. The
     * files themselves are forced first, so a manifest on disk always describes bytes that are on disk too.
     *
     * @return the SHA-256 of the manifest's own bytes (the identity of the set of files)
     */
    public static String write(Path manifest, Collection<String> names) throws IOException {
        Path dir = manifest.toAbsolutePath().getParent();
        StringBuilder text = new StringBuilder();
        for (String name : names) {
            Path f = dir.resolve(name);
            force(f);
            text.append(sha256(f)).append("  ").append(name).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(manifest, tmp -> Files.write(tmp, bytes));
        return sha256(bytes);
    }

    /**
     * Reads a manifest: file name to recorded SHA-256, in file order.
     *
     * @throws NoSuchFileException when it does not exist
     * @throws IOException naming the file and the 1-based line that is not {@code <64 lower-case hex>  <name>}, or a
     *                     name listed twice
     */
    public static Map<String, String> read(Path manifest) throws IOException {
        List<String> lines = Files.readAllLines(manifest, StandardCharsets.UTF_8);
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = LINE.matcher(lines.get(i));
            if (!m.matches()) {
                String got = lines.get(i).length() > 90 ? lines.get(i).substring(0, 87) + "..." : lines.get(i);
                throw new IOException(manifest + " line " + (i + 1) + ": expected '<64 lower-case hex digits>  <file name>' "
                        + "(sha256sum's format), got '" + got + "'");
            }
            if (out.put(m.group(2), m.group(1)) != null) {
                throw new IOException(manifest + " line " + (i + 1) + ": " + m.group(2) + " is listed twice");
            }
        }
        return out;
    }

    /** The first listed file of {@code dir} whose bytes differ from {@code entries}, or null when all match. */
    public static Mismatch verify(Path dir, Map<String, String> entries) throws IOException {
        for (Map.Entry<String, String> e : entries.entrySet()) {
            Path f = dir.resolve(e.getKey());
            if (!Files.isRegularFile(f)) return new Mismatch(f, e.getValue(), null);
            String actual = sha256(f);
            if (!actual.equals(e.getValue())) return new Mismatch(f, e.getValue(), actual);
        }
        return null;
    }

    /** The checksum file of a single file: {@code NAME.sha256} beside it. */
    public static Path sidecar(Path file) {
        return file.resolveSibling(file.getFileName() + ".sha256");
    }

    /** Writes {@link #sidecar(Path)} for {@code file} (after forcing the file). */
    public static void writeSidecar(Path file) throws IOException {
        write(sidecar(file), List.of(file.getFileName().toString()));
    }

    /**
     * Checks {@code file} against its {@link #sidecar(Path)}; null when it matches, otherwise why not (the sidecar is
     * missing or malformed, or the digests, both named, differ).
     */
    public static String verifySidecar(Path file) throws IOException {
        Path sums = sidecar(file);
        if (!Files.isRegularFile(sums)) return "it has no checksum file " + sums;
        Map<String, String> entries;
        try {
            entries = read(sums);
        } catch (IOException e) {
            return e.getMessage();
        }
        String name = file.getFileName().toString();
        if (entries.size() != 1 || !entries.containsKey(name)) {
            return sums + " should record exactly " + name + ", records " + entries.keySet();
        }
        Mismatch m = verify(file.toAbsolutePath().getParent(), entries);
        return m == null ? null : m.describe();
    }

    /** The SHA-256 of a file's bytes, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The SHA-256 of {@code bytes}, in lower-case hex. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
