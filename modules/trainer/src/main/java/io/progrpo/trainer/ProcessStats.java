package io.progrpo.trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kernel says about this process (Linux /proc): resident memory (VmRSS, VmHWM, reset through clear_refs),
 * CPU seconds of all threads and the load average. libtorch's allocations, autograd's buffers and the allocator's
 * caches are invisible to the memory ledger but not to the RSS. Each reader returns -1 or NaN where /proc is absent.
 */
public final class ProcessStats {
    private ProcessStats() {}

    /** Resets VmHWM to the current RSS (Linux "5" to clear_refs); false when not permitted. */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** A "VmXxx: N kB" line of /proc/self/status in bytes, or -1. */
    public static long procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    String[] p = line.substring(field.length() + 1).trim().split("\\s+");
                    return Long.parseLong(p[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * CPU seconds of the whole process (all threads: libtorch's pool, JIT and GC included) from /proc/self/stat
     * (utime + stime, 100 ticks per second on Linux), or NaN. Less sensitive to other processes than wall time.
     */
    public static double processCpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // fields 14 and 15 of stat(5)
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
