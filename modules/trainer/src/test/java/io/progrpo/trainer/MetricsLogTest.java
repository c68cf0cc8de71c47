package io.progrpo.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsLogTest {

    private static Map<String, Object> row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void rowsRoundTripOneLineEach(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sub/metrics.jsonl");
        try (MetricsLog log = MetricsLog.open(file)) {
            log.record(row("epoch", 0, "phase", "sample", "reward_mean", 0.512, "zero_std_groups", 0.25,
                    "per_reward", Map.of("alignment", 0.5), "ok", true, "note", null));
            log.record(row("epoch", 1, "reward_mean", 0.6, "sizes", List.of(48, 24, 12)));
            // flushed line by line: readable before close
            assertEquals(2, MetricsLog.read(file).size());
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).startsWith("{\"epoch\":0,\"phase\":\"sample\""), lines.get(0));
        List<Map<String, Object>> rows = MetricsLog.read(file);
        assertEquals(0, rows.get(0).get("epoch"));
        assertEquals(0.512, rows.get(0).get("reward_mean"));
        assertEquals(Map.of("alignment", 0.5), rows.get(0).get("per_reward"));
        assertEquals(true, rows.get(0).get("ok"));
        assertTrue(rows.get(0).containsKey("note"));
        assertEquals(List.of(48, 24, 12), rows.get(1).get("sizes"));
        assertEquals(List.of("epoch", "phase", "reward_mean", "zero_std_groups", "per_reward", "ok", "note"),
                List.copyOf(rows.get(0).keySet()));
    }

    @Test
    void reopeningAppends(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        try (MetricsLog log = MetricsLog.open(file)) {
            log.record(row("epoch", 0));
        }
        try (MetricsLog log = MetricsLog.open(file)) {
            log.record(row("epoch", 1));
        }
        assertEquals(List.of(row("epoch", 0), row("epoch", 1)), MetricsLog.read(file));
    }

    @Test
    void incompleteLastLineOfACrashedRunIsDroppedOnOpen(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        Files.writeString(file, "{\"epoch\":0}\n{\"epoch\":1,\"rew", StandardCharsets.UTF_8);
        try (MetricsLog log = MetricsLog.open(file)) {
            log.record(row("epoch", 1));
        }
        assertEquals(List.of(row("epoch", 0), row("epoch", 1)), MetricsLog.read(file));
    }

    @Test
    void corruptLineIsReportedWithFileAndLineNumber(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        Files.writeString(file, "{\"epoch\":0}\n\n{\"epoch\":1,}\n{\"epoch\":2}\n");
        IOException e = assertThrows(IOException.class, () -> MetricsLog.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());

        Files.writeString(file, "{\"epoch\":0}\n42\n");
        e = assertThrows(IOException.class, () -> MetricsLog.read(file));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("got: 42"), e.getMessage());
    }

    @Test
    void recordAfterCloseFails(@TempDir Path dir) throws IOException {
        MetricsLog log = MetricsLog.open(dir.resolve("m.jsonl"));
        log.close();
        log.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.record(row("a", 1)));
        assertTrue(e.getMessage().contains("m.jsonl"), e.getMessage());
    }

    @Test
    void appendedLinesFromElsewhereAreKept(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        try (MetricsLog log = MetricsLog.open(file)) {
            log.record(row("a", 1));
            Files.writeString(file, "{\"b\":2}\n", StandardOpenOption.APPEND);
            log.record(row("c", 3));
        }
        assertEquals(List.of(row("a", 1), row("b", 2), row("c", 3)), MetricsLog.read(file));
    }

    /** A file channel on a disk with {@code room} bytes left: a write beyond it writes what fits, then fails. */
    static final class FullDisk extends java.nio.channels.FileChannel {
        private final java.nio.channels.FileChannel d;
        long room;

        FullDisk(java.nio.channels.FileChannel d, long room) {
            this.d = d;
            this.room = room;
        }

        @Override
        public int write(java.nio.ByteBuffer src) throws IOException {
            if (src.remaining() <= room) {
                int n = d.write(src);
                room -= n;
                return n;
            }
            java.nio.ByteBuffer part = src.slice(src.position(), (int) room);
            d.write(part);
            src.position(src.position() + (int) room);
            room = 0;
            throw new IOException("No space left on device");
        }

        @Override public int read(java.nio.ByteBuffer dst) throws IOException { return d.read(dst); }
        @Override public long read(java.nio.ByteBuffer[] dsts, int o, int l) throws IOException { return d.read(dsts, o, l); }
        @Override public long write(java.nio.ByteBuffer[] srcs, int o, int l) throws IOException { throw new IOException("not used"); }
        @Override public long position() throws IOException { return d.position(); }
        @Override public java.nio.channels.FileChannel position(long p) throws IOException { d.position(p); return this; }
        @Override public long size() throws IOException { return d.size(); }
        @Override public java.nio.channels.FileChannel truncate(long size) throws IOException { d.truncate(size); return this; }
        @Override public void force(boolean metaData) throws IOException { d.force(metaData); }
        @Override public long transferTo(long p, long c, java.nio.channels.WritableByteChannel t) throws IOException { return d.transferTo(p, c, t); }
        @Override public long transferFrom(java.nio.channels.ReadableByteChannel s, long p, long c) throws IOException { throw new IOException("not used"); }
        @Override public int read(java.nio.ByteBuffer dst, long p) throws IOException { return d.read(dst, p); }
        @Override public int write(java.nio.ByteBuffer src, long p) throws IOException { throw new IOException("not used"); }
        @Override public java.nio.MappedByteBuffer map(MapMode m, long p, long s) throws IOException { return d.map(m, p, s); }
        @Override public java.nio.channels.FileLock lock(long p, long s, boolean sh) throws IOException { return d.lock(p, s, sh); }
        @Override public java.nio.channels.FileLock tryLock(long p, long s, boolean sh) throws IOException { return d.tryLock(p, s, sh); }
        @Override protected void implCloseChannel() throws IOException { d.close(); }
    }

    @Test
    void anAppendThatFailsHalfWayLeavesTheFileAsItWas(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        FullDisk[] disk = new FullDisk[1];
        try (MetricsLog log = MetricsLog.open(file, ch -> disk[0] = new FullDisk(ch, 1 << 20))) {
            log.record(row("epoch", 0, "reward_mean", 0.5));
            byte[] before = Files.readAllBytes(file);
            disk[0].room = 7;  // the next line does not fit
            java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
                    () -> log.record(row("epoch", 1, "reward_mean", 0.25)));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("No space left on device")
                    && e.getMessage().contains("the file is as before"), e.getMessage());
            assertEquals(new String(before, StandardCharsets.UTF_8), Files.readString(file), "no partial line stays");
            disk[0].room = 1 << 20;  // space freed: the log goes on
            log.record(row("epoch", 1, "reward_mean", 0.25));
        }
        assertEquals(List.of(row("epoch", 0, "reward_mean", 0.5), row("epoch", 1, "reward_mean", 0.25)), MetricsLog.read(file));
    }

    @Test
    void keepEpochsBeforeDropsLaterRowsAndATornLastLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        Files.writeString(file, "{\"epoch\":-1}\n{\"epoch\":0}\n{\"epoch\":1}\n\n{\"note\":1}\n{\"epoch\":2}\n{\"epoch\":3,\"rew");
        assertEquals(3, MetricsLog.keepEpochsBefore(file, 2));
        assertEquals("{\"epoch\":-1}\n{\"epoch\":0}\n{\"epoch\":1}\n", Files.readString(file));
        assertFalse(Files.exists(dir.resolve("m.jsonl.rewrite")));

        // nothing to change: the file is not rewritten (same inode, same bytes)
        Object inode = Files.getAttribute(file, "unix:ino");
        assertEquals(3, MetricsLog.keepEpochsBefore(file, 5));
        assertEquals(inode, Files.getAttribute(file, "unix:ino"));
        // a change replaces the file by a rename, never by rewriting it in place (a crash keeps old or new bytes)
        assertEquals(1, MetricsLog.keepEpochsBefore(file, 0));
        assertNotEquals(inode, Files.getAttribute(file, "unix:ino"));
        assertEquals("{\"epoch\":-1}\n", Files.readString(file));

        assertEquals(0, MetricsLog.keepEpochsBefore(dir.resolve("missing.jsonl"), 3));
        assertFalse(Files.exists(dir.resolve("missing.jsonl")));
    }

    @Test
    void keepEpochsBeforeStopsAtACorruptCompleteLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.jsonl");
        String text = "{\"epoch\":0}\n{\"epoch\":1,}\n{\"epoch\":2}\n";
        Files.writeString(file, text);
        IOException e = assertThrows(IOException.class, () -> MetricsLog.keepEpochsBefore(file, 1));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("line 2"), e.getMessage());
        assertEquals(text, Files.readString(file), "left as it was");
    }
}
