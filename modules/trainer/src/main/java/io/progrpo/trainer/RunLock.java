package io.progrpo.trainer;

import io.progrpo.trainer.internal.FaultPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The exclusive lock of a run directory: one training run writes into a directory at a time. It is an OS file lock
 * on {@code DIR/run.lock} ({@link FileChannel#tryLock()}), so the operating system releases it when its process dies,
 * {@code kill -9} included: a stale lock file never blocks. The file names the holder (pid, host, start time) for
 * the message a second run gets. Re-entrant on the thread that holds it (the CLI takes it before building the job,
 * the run again while it writes); another thread of the same process is refused like another process.
 */
public final class RunLock implements AutoCloseable {
    /** The lock file's name inside the run directory. */
    public static final String FILE = "run.lock";

    private static final Map<Path, Held> HELD = new HashMap<>();

    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        final Thread owner;
        int count = 1;

        Held(FileChannel channel, FileLock lock, Thread owner) {
            this.channel = channel;
            this.lock = lock;
            this.owner = owner;
        }
    }

    private final Path key;
    private boolean closed;

    private RunLock(Path key) {
        this.key = key;
    }

    /**
     * Takes the lock of {@code runDir} (created when missing), or fails at once.
     *
     * @throws IOException naming the holder (pid, host, since when) when another process or thread holds it
     */
    public static RunLock acquire(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path key = runDir.toRealPath();
        synchronized (HELD) {
            Held h = HELD.get(key);
            if (h != null) {
                if (h.owner != Thread.currentThread()) {
                    throw new IOException("run directory " + runDir + " is in use by another run in this process (thread '"
                            + h.owner.getName() + "', " + holder(h.channel) + "); wait for it to finish or choose another --out");
                }
                h.count++;
                return new RunLock(key);
            }
            Path file = key.resolve(FILE);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            if (lock == null) {
                String who = holder(ch);
                ch.close();
                throw new IOException("run directory " + runDir + " is in use by another progrpo run (" + who + "); wait for it "
                        + "to finish or choose another --out (the lock in " + file + " is released when that process exits)");
            }
            try {
                String me = "pid " + ProcessHandle.current().pid() + " on " + hostName() + ", started " + Instant.now();
                ch.truncate(0);
                ch.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            } catch (IOException e) {
                // naming the holder is a courtesy to a second run (which then reads "holder unknown"): a full disk
                // must not keep this run from starting
            }
            HELD.put(key, new Held(ch, lock, Thread.currentThread()));
            FaultPoints.reach("lock.acquired");
            return new RunLock(key);
        }
    }

    /** Who holds it, as its lock file says. */
    private static String holder(FileChannel ch) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(512);
            int n = ch.read(buf, 0);
            String s = n <= 0 ? "" : new String(buf.array(), 0, n, StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "holder unknown" : s;
        } catch (IOException e) {
            return "holder unknown: " + e.getMessage();
        }
    }

    private static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!h.isEmpty()) return h;
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        String h = System.getenv("HOSTNAME");
        if (h == null) h = System.getenv("COMPUTERNAME");
        return h == null || h.isBlank() ? "this host" : h;
    }

    /** Releases this hold; the lock itself goes with the last one. Idempotent. */
    @Override
    public void close() throws IOException {
        synchronized (HELD) {
            if (closed) return;
            closed = true;
            Held h = HELD.get(key);
            if (h == null || --h.count > 0) return;
            HELD.remove(key);
            try {
                h.lock.release();
            } finally {
                h.channel.close();
            }
        }
    }
}
