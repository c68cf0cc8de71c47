package io.progrpo.trainer;

import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Torch;
import io.progrpo.tensor.jfr.TensorEvents;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Wall time per phase (SAMPLING, REWARD, TRAINING, EVAL, and SHADOW on epochs with a shadow group) of an epoch, and a
 * hook that announces each phase.
 */
public final class Phases {
    /** The phases of an epoch, in order; EVAL is the run's (every {@code evalEvery} epochs). */
    public static final String SAMPLING = "SAMPLING";
    public static final String REWARD = "REWARD";
    public static final String TRAINING = "TRAINING";
    public static final String EVAL = "EVAL";
    /** A shadow group's sampling and scoring ({@code ShadowGroup}); not part of the epoch's training time. */
    public static final String SHADOW = "SHADOW";

    private final Map<String, Long> nanos = new LinkedHashMap<>();
    private final Consumer<String> onBegin;
    private final Consumer<String> onEnd;
    private final int epoch;
    private final Map<String, long[]> memory = new LinkedHashMap<>();
    private String openPhase;
    private boolean rssReset;
    /** On a CUDA machine: the allocator's allocated and reserved peaks over the phases ended so far (bytes, all devices). */
    private final long[] cudaEpochPeaks = {0, 0};
    private final boolean cuda = cudaPresent();

    public Phases(Consumer<String> onBegin) {
        this(-1, onBegin, p -> { });
    }

    /**
     * Phases of epoch {@code epoch}, each also an {@code io.progrpo.Phase} Flight Recorder event ({@link TensorEvents});
     * {@code onBegin} and {@code onEnd} hear each phase begin and end.
     */
    public Phases(int epoch, Consumer<String> onBegin, Consumer<String> onEnd) {
        this.onBegin = onBegin;
        this.onEnd = onEnd;
        this.epoch = epoch;
    }

    /** Announces {@code phase}; the phase begun before it (on this thread) ends here. */
    public void begin(String phase) {
        end();
        onBegin.accept(phase);
        TensorEvents.enterPhase(phase, epoch);
        MemoryLedger.resetWindowPeaks();
        if (cuda) MemoryLedger.resetCudaPeaks(); // the phase's own allocator peaks; the epoch's are the max over phases
        rssReset = TensorEvents.resetRssPeak();
        openPhase = phase;
    }

    /** Ends the phase begun last, if any: its memory peaks are recorded and its Flight Recorder event committed. */
    public void end() {
        if (openPhase == null) return;
        long[] m = memory.computeIfAbsent(openPhase, k -> new long[] {0, -1, -1, -1, -1});
        m[0] = Math.max(m[0], MemoryLedger.windowPeakBytes());
        if (cuda) {
            long[] c = cudaPeaksNow();
            m[3] = Math.max(m[3], c[0]);
            m[4] = Math.max(m[4], c[1]);
            if (!openPhase.equals(SHADOW)) { // the epoch's peaks leave the shadow group out, as the ledger's do
                cudaEpochPeaks[0] = Math.max(cudaEpochPeaks[0], c[0]);
                cudaEpochPeaks[1] = Math.max(cudaEpochPeaks[1], c[1]);
            }
        }
        long rss = rssReset ? TensorEvents.rssPeakBytes() : TensorEvents.rssBytes();
        m[rssReset ? 1 : 2] = Math.max(m[rssReset ? 1 : 2], rss);
        TensorEvents.leavePhase();
        String left = openPhase;
        openPhase = null;
        onEnd.accept(left);
    }

    /**
     * Memory per phase, for the metrics line: {@code ledger_peak_bytes} (the Java-side tensors' peak within the
     * phase) and {@code rss_peak_bytes} (the process's resident-set high-water mark within the phase, reset at its
     * start), or {@code rss_end_bytes} (the RSS at its end) where the kernel does not allow the reset; on a CUDA
     * machine {@code cuda_allocated_peak_bytes} and {@code cuda_reserved_peak_bytes} (the caching allocator's peaks
     * within the phase, reset at its start, summed over devices); the largest over the phase's occurrences in the epoch.
     */
    public Map<String, Map<String, Long>> memoryByPhase() {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        memory.forEach((p, m) -> {
            Map<String, Long> x = new LinkedHashMap<>();
            x.put("ledger_peak_bytes", m[0]);
            if (m[1] >= 0) x.put("rss_peak_bytes", m[1]);
            if (m[2] >= 0) x.put("rss_end_bytes", m[2]);
            if (m[3] >= 0) x.put("cuda_allocated_peak_bytes", m[3]);
            if (m[4] >= 0) x.put("cuda_reserved_peak_bytes", m[4]);
            out.put(p, x);
        });
        return out;
    }

    /**
     * The CUDA caching allocator's allocated and reserved peaks of the epoch so far, summed over devices: the maximum
     * over the phases ended (but SHADOW) and the open phase's own (the allocator's peaks are reset at each phase's start); zeros
     * without CUDA.
     */
    public long[] cudaPeaks() {
        if (!cuda) return new long[] {0, 0};
        long[] now = openPhase == null ? new long[] {0, 0} : cudaPeaksNow();
        return new long[] {Math.max(cudaEpochPeaks[0], now[0]), Math.max(cudaEpochPeaks[1], now[1])};
    }

    private static long[] cudaPeaksNow() {
        long[] c = {0, 0};
        for (int i = 0; i < Torch.cudaDeviceCount(); i++) {
            MemoryLedger.CudaStats st = MemoryLedger.cudaStats(i);
            c[0] += st.allocatedPeak();
            c[1] += st.reservedPeak();
        }
        return c;
    }

    private static boolean cudaPresent() {
        try {
            return Torch.isAvailable() && Torch.cudaAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false; // no native library: nothing of CUDA to measure
        }
    }

    public void add(String phase, long ns) {
        nanos.merge(phase, ns, Long::sum);
    }

    public double seconds(String phase) {
        return nanos.getOrDefault(phase, 0L) / 1e9;
    }

    /** Seconds per phase, for the metrics line. */
    public Map<String, Double> secondsByPhase() {
        Map<String, Double> m = new LinkedHashMap<>();
        nanos.forEach((k, v) -> m.put(k.toLowerCase(java.util.Locale.ROOT), v / 1e9));
        return m;
    }
}
