package io.progrpo.trainer.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;

/**
 * Files that survive a crash whole or not at all. A file is written to a temporary name in its directory, forced to
 * the device, renamed over its final name and the directory forced, so after a {@code kill -9} or a power loss the
 * name holds the old bytes or the new ones, never a mixture. A full disk fails the write before the rename: the
 * previous file stays as it was.
 */
public final class DurableFiles {
    private DurableFiles() {}

    /** Writes {@code bytes} to {@code file} atomically and durably (see the class comment). */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        // a unique name: two processes writing the same shared file (the base-model cache) never mix their bytes
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            move(tmp, abs);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Renames {@code from} over {@code to} atomically (replacing it), then forces the directory. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
        syncDirectory(to.toAbsolutePath().getParent());
    }

    /** Forces a file's bytes to the device. */
    public static void sync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Forces a directory's entries (a rename, a new file) to the device. Where the platform cannot open a directory
     * (Windows), this does nothing: there, renames are made durable by the file system itself.
     */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (Files.isDirectory(dir) && System.getProperty("os.name", "").startsWith("Windows")) return;
            throw e;
        }
    }

    /**
     * Removes a directory tree so that no crash leaves a part of it under its name: it is first renamed to
     * {@code trash} (one atomic step; whatever was at {@code trash} is removed before), then deleted there. A crash
     * during the deletion leaves only {@code trash}, which the next call removes.
     */
    public static void retire(Path dir, Path trash) throws IOException {
        deleteTree(trash);
        if (!Files.exists(dir)) return;
        Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(trash.toAbsolutePath().getParent());
        FaultPoints.reach("retire.renamed");
        deleteTree(trash, true);
    }

    /** Deletes a file or a directory tree; nothing when absent. */
    public static void deleteTree(Path p) throws IOException {
        deleteTree(p, false);
    }

    private static void deleteTree(Path p, boolean faultPoint) throws IOException {
        if (!Files.exists(p)) return;
        int[] deleted = {0};
        try (var walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.delete(q);
                    if (++deleted[0] == 2 && faultPoint) FaultPoints.reach("retire.partly-deleted");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
