package io.progrpo.app.profile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code progrpo profile RUN_DIR}'s table from the {@code memory} key of metrics.jsonl: the largest figure per phase
 * over the epoch lines, with CUDA columns only where a line has the allocator's per-phase peaks (written on a CUDA
 * machine; the lines here are written by hand, as no GPU runs in the tests).
 */
class ProfileTableTest {
    private static final long MIB = 1L << 20;

    @Test
    void cudaColumnsAppearWithTheAllocatorsPeaks(@TempDir Path tmp) throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(run.resolve("metrics.jsonl"), String.join("\n",
                "{\"epoch\":0,\"memory\":{\"SAMPLING\":{\"ledger_peak_bytes\":" + 3 * MIB + ",\"rss_peak_bytes\":" + 100 * MIB
                        + ",\"cuda_allocated_peak_bytes\":" + 40 * MIB + ",\"cuda_reserved_peak_bytes\":" + 64 * MIB + "}}}",
                "{\"epoch\":1,\"memory\":{\"SAMPLING\":{\"ledger_peak_bytes\":" + 2 * MIB + ",\"rss_peak_bytes\":" + 120 * MIB
                        + ",\"cuda_allocated_peak_bytes\":" + 50 * MIB + ",\"cuda_reserved_peak_bytes\":" + 60 * MIB + "}}}") + "\n");
        String table = Profile.run(run, tmp.resolve("out")).table();
        assertTrue(table.contains("CUDA allocated peak (MiB)"), table);
        // the largest of each column over the two lines: ledger 3, RSS 120, allocated 50, reserved 64
        assertTrue(table.contains("| SAMPLING | 3.00 | 120.0 | 50.0 | 64.0 |"), table);
    }

    @Test
    void aCpuRunHasNoCudaColumns(@TempDir Path tmp) throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(run.resolve("metrics.jsonl"),
                "{\"epoch\":0,\"memory\":{\"TRAINING\":{\"ledger_peak_bytes\":" + MIB + ",\"rss_end_bytes\":" + 10 * MIB + "}}}\n");
        String table = Profile.run(run, tmp.resolve("out")).table();
        assertFalse(table.contains("CUDA"), table);
        assertTrue(table.contains("| TRAINING | 1.00 | 10.0 |"), table);
    }
}
