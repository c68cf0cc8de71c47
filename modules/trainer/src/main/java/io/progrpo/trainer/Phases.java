package io.progrpo.trainer;

import io.progrpo.tensor.MemoryLedger;
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
        rssReset = TensorEvents.resetRssPeak();
        openPhase = phase;
    }

    /** Ends the phase begun last, if any: its memory peaks are recorded and its Flight Recorder event committed. */
    public void end() {
        if (openPhase == null) return;
        long[] m = memory.computeIfAbsent(openPhase, k -> new long[] {0, -1, -1});
        m[0] = Math.max(m[0], MemoryLedger.windowPeakBytes());
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
     * start), or {@code rss_end_bytes} (the RSS at its end) where the kernel does not allow the reset; the largest
     * over the phase's occurrences in the epoch.
     */
    public Map<String, Map<String, Long>> memoryByPhase() {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        memory.forEach((p, m) -> {
            Map<String, Long> x = new LinkedHashMap<>();
            x.put("ledger_peak_bytes", m[0]);
            if (m[1] >= 0) x.put("rss_peak_bytes", m[1]);
            if (m[2] >= 0) x.put("rss_end_bytes", m[2]);
            out.put(p, x);
        });
        return out;
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
