package io.progrpo.tensor.jfr;

import io.progrpo.tensor.Device;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * Java Flight Recorder events of progrpo's memory, in the {@code io.progrpo} namespace: storage allocation and free
 * ({@link StorageAllocated}, {@link StorageFreed}; off unless a recording enables them, as {@code progrpo.jfc} does)
 * and phases ({@link PhaseEvent}). Record with
 * {@code java -XX:StartFlightRecording:settings=modules/tensor/src/main/resources/io/progrpo/tensor/jfr/progrpo.jfc,filename=run.jfr ...}
 * (the file is also in the tensor jar as {@code io/progrpo/tensor/jfr/progrpo.jfc}) and open the file in JDK Mission
 * Control, or read it with {@code jdk.jfr.consumer.RecordingFile}.
 *
 * <p>Cost on the per-op path: a storage below {@link #minBytes()} costs one comparison; above it, with the events
 * disabled, one short-lived object (removed by escape analysis) and a flag read.
 */
public final class TensorEvents {
    private static volatile long MIN_BYTES = Long.getLong("progrpo.jfr.minBytes", 65536L);
    private static final ThreadLocal<Deque<Open>> PHASES = ThreadLocal.withInitial(ArrayDeque::new);

    private record Open(PhaseEvent event, String name) {}

    private TensorEvents() {}

    /** The smallest storage, in bytes, whose allocation and free are recorded ({@code -Dprogrpo.jfr.minBytes}). */
    public static long minBytes() {
        return MIN_BYTES;
    }

    /** Sets {@link #minBytes()} (0: every storage), e.g. for a recording that accounts for every byte. */
    public static void setMinBytes(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("minBytes must be >= 0, got " + bytes);
        MIN_BYTES = bytes;
    }

    /** Called by the tensor module when a new storage enters the ledger. */
    public static void allocated(long bytes, Device device, String dtype, Supplier<String> shape) {
        if (bytes < MIN_BYTES) return;
        StorageAllocated e = new StorageAllocated();
        if (!e.isEnabled()) return;
        e.bytes = bytes;
        e.device = device.toString();
        e.dtype = dtype;
        e.shape = shape.get();
        e.ledgerBytes = MemoryLedger.bytes(device);
        e.phase = currentPhase();
        e.commit();
    }

    /** Called by the tensor module when a storage leaves the ledger ({@code leak}: freed by the safety net). */
    public static void freed(long bytes, Device device, boolean leak) {
        if (bytes < MIN_BYTES) return;
        StorageFreed e = new StorageFreed();
        if (!e.isEnabled()) return;
        e.bytes = bytes;
        e.device = device.toString();
        e.ledgerBytes = MemoryLedger.bytes(device);
        e.leak = leak;
        e.phase = currentPhase();
        e.commit();
    }

    /** The innermost phase this thread is in, or null. */
    public static String currentPhase() {
        Open o = PHASES.get().peek();
        return o == null ? null : o.name();
    }

    /**
     * Enters {@code phase} of {@code epoch} on this thread (phases nest): a {@link PhaseEvent} begins, with the
     * ledger's bytes (all devices), the RSS and, on CUDA machines, device 0's allocator figures.
     */
    public static void enterPhase(String phase, int epoch) {
        PhaseEvent e = new PhaseEvent();
        if (e.isEnabled()) {
            e.phase = phase;
            e.epoch = epoch;
            e.ledgerBytesStart = ledgerBytes();
            e.rssStart = rssBytes();
            e.begin();
        }
        PHASES.get().push(new Open(e, phase));
    }

    /** Leaves the innermost phase of this thread and commits its event; nothing when no phase is open. */
    public static void leavePhase() {
        Open o = PHASES.get().poll();
        if (o == null || !o.event().isEnabled()) return;
        PhaseEvent e = o.event();
        e.end();
        e.ledgerBytesEnd = ledgerBytes();
        e.rssEnd = rssBytes();
        if (Torch.cudaAvailable()) {
            MemoryLedger.CudaStats s = MemoryLedger.cudaStats(0);
            e.cudaAllocated = s.allocated();
            e.cudaReserved = s.reserved();
        }
        e.commit();
    }

    /** Leaves every phase this thread has open (a run that ended by an exception). */
    public static void leaveAllPhases() {
        while (!PHASES.get().isEmpty()) leavePhase();
    }

    /** The settings file {@code progrpo.jfc} of this module: progrpo's events only, for {@code new Recording(configuration())}. */
    public static jdk.jfr.Configuration configuration() {
        try (var in = TensorEvents.class.getResourceAsStream("progrpo.jfc")) {
            if (in == null) throw new IllegalStateException("progrpo.jfc is missing from the tensor module's jar");
            return jdk.jfr.Configuration.create(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException | java.text.ParseException e) {
            throw new IllegalStateException("progrpo.jfc cannot be read: " + e.getMessage(), e);
        }
    }

    /** The ledger's bytes over all devices. */
    public static long ledgerBytes() {
        long b = 0;
        for (MemoryLedger.DeviceUsage u : MemoryLedger.usage()) b += u.bytes();
        return b;
    }

    /**
     * Resets the kernel's resident-set high-water mark (VmHWM) to the current RSS by writing 5 to /proc/self/clear_refs
     * (Linux 4.0 and later); false where that is not allowed, and {@link #rssPeakBytes()} then counts from the start.
     */
    public static boolean resetRssPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The resident-set high-water mark (VmHWM of /proc/self/status) in bytes; -1 where there is none. */
    public static long rssPeakBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024L;
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The process's resident set in bytes, from /proc/self/statm; -1 where there is none. */
    public static long rssBytes() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
