package io.progrpo.trainer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.progrpo.trainer.internal.DurableFiles;
import io.progrpo.trainer.internal.FaultPoints;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * An append-only metrics file: one JSON object per line (JSONL). Each line goes to the file in one write, so a crash
 * loses at most the line being written; a write that fails (a full disk) is undone by cutting the file back to its
 * length before it, so the file holds whole lines only.
 *
 * <p>Opening an existing file appends (that is how a resumed run continues its log). If the previous process died
 * in the middle of a line, that incomplete tail is cut off first, so the file stays one valid object per line.
 * {@link #keepEpochsBefore} (what a resume does first) replaces the file atomically.
 * Non-finite doubles are written as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"} (Jackson's
 * default; plain JSON has no such numbers) and read back as those strings.
 *
 * <p>Thread-safe: {@link #record} is synchronized, so an asynchronous reward thread may log too.
 */
public final class MetricsLog implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, Object>> ROW = new TypeReference<>() { };

    private final Path file;
    private final FileChannel out;
    private boolean closed;

    private MetricsLog(Path file, FileChannel out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Opens {@code file} for appending, creating it and its parent directories when missing.
     *
     * @throws IOException when the file cannot be created or repaired
     */
    public static MetricsLog open(Path file) throws IOException {
        return open(file, UnaryOperator.identity());
    }

    /** As {@link #open(Path)}, with the file's channel passed through {@code wrap} (tests make it fail). */
    static MetricsLog open(Path file, UnaryOperator<FileChannel> wrap) throws IOException {
        Objects.requireNonNull(file, "file");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        dropIncompleteTail(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        return new MetricsLog(file, wrap.apply(ch));
    }

    /** @return the file this log appends to */
    public Path file() {
        return file;
    }

    /**
     * Appends one row as a single JSON line and flushes it. Values may be numbers, strings, booleans, null, lists,
     * maps or records (Jackson serializes them).
     *
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException when the write fails; the file is then cut back to its length before the call
     */
    public synchronized void record(Map<String, ?> row) {
        Objects.requireNonNull(row, "row");
        if (closed) {
            throw new IllegalStateException("metrics log " + file + " is closed");
        }
        String line;
        try {
            line = JSON.writeValueAsString(row);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metrics row cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        long before;
        try {
            before = out.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to metrics log " + file + ": " + e.getMessage(), e);
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            FaultPoints.reach("metrics.append-partial", () -> {
                try {
                    out.write(ByteBuffer.wrap(bytes, 0, bytes.length / 2));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            while (buf.hasRemaining()) out.write(buf);
        } catch (IOException e) {
            String undo;
            try {
                out.truncate(before);
                undo = "the partial line was removed, the file is as before";
            } catch (IOException t) {
                e.addSuppressed(t);
                undo = "the partial line could not be removed (" + t.getMessage() + "); the next open cuts it";
            }
            throw new UncheckedIOException("cannot append to metrics log " + file + " (" + e.getMessage() + "): " + undo, e);
        }
        FaultPoints.reach("metrics.appended");
    }

    /** Forces the lines written so far to the device (before a checkpoint that counts on them). */
    public synchronized void sync() throws IOException {
        if (!closed) out.force(false);
    }

    /**
     * Keeps the rows of epochs before {@code firstEpochToDrop} (a resume from the checkpoint of epoch
     * {@code firstEpochToDrop - 1}); rows without a numeric epoch go too. An incomplete last line (a crash or a full
     * disk during an append) is dropped. The file is replaced atomically, so a crash leaves the old file or the new
     * one; it is not rewritten when nothing changes. A missing file is left missing.
     *
     * @return the number of rows kept
     * @throws IOException naming the file and line of a complete line that is not a JSON object
     */
    public static int keepEpochsBefore(Path file, int firstEpochToDrop) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".rewrite");
        Files.deleteIfExists(tmp);  // left by a crash during an earlier rewrite
        if (!Files.isRegularFile(file)) return 0;
        byte[] all = Files.readAllBytes(file);
        int end = all.length;
        while (end > 0 && all[end - 1] != '\n') end--;
        if (end < all.length) {
            System.getLogger(MetricsLog.class.getName()).log(System.Logger.Level.WARNING,
                    "metrics log {0}: dropping an incomplete last line ({1} bytes) left by an interrupted run", file, all.length - end);
        }
        ByteArrayOutputStream keep = new ByteArrayOutputStream(end);
        int kept = 0;
        int lineNo = 0;
        for (int start = 0; start < end; ) {
            int nl = start;
            while (all[nl] != '\n') nl++;
            lineNo++;
            String line = new String(all, start, nl - start, StandardCharsets.UTF_8);
            if (!line.isBlank()) {
                Map<String, Object> row = parse(file, lineNo, line);
                if (row.get("epoch") instanceof Number n && n.doubleValue() < firstEpochToDrop) {
                    keep.write(all, start, nl + 1 - start);
                    kept++;
                }
            }
            start = nl + 1;
        }
        if (keep.size() == all.length) return kept;
        try {
            Files.write(tmp, keep.toByteArray());
            DurableFiles.sync(tmp);
            FaultPoints.reach("metrics.rewrite-written");
            DurableFiles.move(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
        FaultPoints.reach("metrics.rewritten");
        return kept;
    }

    /**
     * Reads every row of a JSONL file, in order; blank lines are skipped.
     *
     * @throws IOException naming the file and the 1-based line number of the first line that is not a JSON object
     */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Map<String, Object>> rows = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            rows.add(parse(file, i + 1, line));
        }
        return rows;
    }

    private static Map<String, Object> parse(Path file, int lineNo, String line) throws IOException {
        if (!line.stripLeading().startsWith("{")) {
            throw new IOException("corrupt metrics log " + file + " line " + lineNo
                    + ": expected a JSON object, got: " + abbreviate(line));
        }
        try {
            return JSON.readValue(line, ROW);
        } catch (JsonProcessingException e) {
            throw new IOException("corrupt metrics log " + file + " line " + lineNo + ": "
                    + e.getOriginalMessage().replace('\n', ' ') + " in: " + abbreviate(line), e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** Cuts a final line that has no newline (a write interrupted by a crash) so appending starts clean. */
    private static void dropIncompleteTail(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long len = raf.length();
            long pos = len;
            while (pos > 0) {
                raf.seek(pos - 1);
                if (raf.read() == '\n') {
                    break;
                }
                pos--;
            }
            if (pos < len) {
                System.getLogger(MetricsLog.class.getName()).log(System.Logger.Level.WARNING,
                        "metrics log {0}: dropping an incomplete last line ({1} bytes) left by an interrupted run",
                        file, len - pos);
                raf.setLength(pos);
            }
        }
    }

    /** Flushes and closes the file; idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    /**
     * The keys of a metrics row that measure the process rather than the computation, which no two runs share: time
     * (wall and per-phase seconds) and the per-phase memory (its resident-set figures).
     */
    public static final List<String> TIMING_KEYS = List.of("wall_seconds", "epoch_seconds", "seconds", "memory");

    /**
     * The rows without {@link #TIMING_KEYS}: what two runs of the same config and seed must agree on bit for bit
     * (an uninterrupted run and a resumed one, say).
     */
    public static List<Map<String, Object>> withoutTimings(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (Map<String, Object> row : rows) {
            Map<String, Object> r = new java.util.LinkedHashMap<>(row);
            TIMING_KEYS.forEach(r::remove);
            out.add(r);
        }
        return out;
    }
}
