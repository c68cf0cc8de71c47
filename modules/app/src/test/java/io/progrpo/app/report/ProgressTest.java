package io.progrpo.app.report;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void logModePrintsAtMostOneLinePerIntervalAndAFinalSummary() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        AtomicLong now = new AtomicLong(100 * SECOND);
        try (Progress p = Progress.logging("sample", 100, out, now::get, Progress.LOG_INTERVAL_NANOS)) {
            for (int i = 0; i < 100; i++) {
                now.addAndGet(SECOND / 2); // 2 steps per second: a line every 10 steps
                p.message(String.format(java.util.Locale.ROOT, "reward %.3f", i / 100.0)).step();
            }
            assertEquals(100, p.current());
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(11, lines.size(), String.join("\n", lines)); // 50 s / 5 s = 10 periodic + 1 final
        assertEquals("sample 10/100 (10%) 2.00/s elapsed 0:05 ETA 0:45 reward 0.090", lines.get(0));
        assertEquals("sample done 100/100 (100%) 2.00/s elapsed 0:50 reward 0.990", lines.get(10));
    }

    @Test
    void unknownTotalHasNoPercentageOrEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong();
        Progress p = Progress.logging("reward", 0, new PrintStream(bytes, true, StandardCharsets.UTF_8), now::get, SECOND);
        now.set(4 * SECOND);
        p.step(8);
        p.close();
        p.close(); // idempotent
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(List.of("reward 8 2.00/s elapsed 0:04", "reward done 8 2.00/s elapsed 0:04"), lines);
    }

    @Test
    void misuseIsRejected() {
        Progress p = Progress.logging("train", 10, new PrintStream(new ByteArrayOutputStream()), () -> 0L, SECOND);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.step(-3));
        assertTrue(e.getMessage().contains("-3"), e.getMessage());
        p.close();
        IllegalStateException s = assertThrows(IllegalStateException.class, p::step);
        assertTrue(s.getMessage().contains("'train'"), s.getMessage());
    }

    @Test
    void clockTimeFormats() {
        assertEquals("0:00", Progress.clockTime(0));
        assertEquals("1:05", Progress.clockTime(65));
        assertEquals("1:01:01", Progress.clockTime(3661));
    }

    @Test
    void forcedModeOverridesDetection() {
        String old = System.getProperty("progrpo.progress");
        try {
            System.setProperty("progrpo.progress", "log");
            assertEquals(Progress.Mode.LOG, Progress.autoMode());
            System.setProperty("progrpo.progress", "bar");
            assertEquals(Progress.Mode.BAR, Progress.autoMode());
        } finally {
            if (old == null) {
                System.clearProperty("progrpo.progress");
            } else {
                System.setProperty("progrpo.progress", old);
            }
        }
    }

    @Test
    void barModeRunsWithoutATerminal() {
        // The library falls back to a dumb terminal; this only checks that the bar path works end to end.
        try (Progress p = Progress.start("bar-smoke", 3, Progress.Mode.BAR)) {
            p.message("reward 0.5").step().step(2);
            assertEquals(3, p.current());
        }
    }
}
