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
}
