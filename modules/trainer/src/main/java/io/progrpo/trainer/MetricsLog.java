package io.progrpo.trainer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An append-only metrics file: one JSON object per line (JSONL), flushed line by line so a crash loses at most the
 * line being written.
 *
 * <p>Opening an existing file appends (that is how a resumed run continues its log). If the previous process died
 * in the middle of a line, that incomplete tail is cut off first, so the file stays one valid object per line.
 * Non-finite doubles are written as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"} (Jackson's
 * default; plain JSON has no such numbers) and read back as those strings.
 *
 * <p>Thread-safe: {@link #record} is synchronized, so an asynchronous reward thread may log too.
 */
public final class MetricsLog implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, Object>> ROW = new TypeReference<>() { };

    private final Path file;
    private final BufferedWriter out;
    private boolean closed;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Opens {@code file} for appending, creating it and its parent directories when missing.
     *
     * @throws IOException when the file cannot be created or repaired
     */
    public static MetricsLog open(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        dropIncompleteTail(file);
        BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        return new MetricsLog(file, w);
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
     * @throws UncheckedIOException when the write fails
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
        try {
            out.write(line);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to metrics log " + file, e);
        }
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
            if (!line.stripLeading().startsWith("{")) {
                throw new IOException("corrupt metrics log " + file + " line " + (i + 1)
                        + ": expected a JSON object, got: " + abbreviate(line));
            }
            try {
                rows.add(JSON.readValue(line, ROW));
            } catch (JsonProcessingException e) {
                throw new IOException("corrupt metrics log " + file + " line " + (i + 1) + ": "
                        + e.getOriginalMessage().replace('\n', ' ') + " in: " + abbreviate(line), e);
            }
        }
        return rows;
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
}
