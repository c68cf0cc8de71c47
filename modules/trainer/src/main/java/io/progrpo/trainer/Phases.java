package io.progrpo.trainer;

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
    private final int epoch;
    private boolean open;

    public Phases(Consumer<String> onBegin) {
        this(-1, onBegin);
    }

    /** Phases of epoch {@code epoch}, each also an {@code io.progrpo.Phase} Flight Recorder event ({@link TensorEvents}). */
    public Phases(int epoch, Consumer<String> onBegin) {
        this.onBegin = onBegin;
        this.epoch = epoch;
    }

    /** Announces {@code phase}; the phase begun before it (on this thread) ends here. */
    public void begin(String phase) {
        onBegin.accept(phase);
        if (open) TensorEvents.leavePhase();
        TensorEvents.enterPhase(phase, epoch);
        open = true;
    }

    /** Ends the phase begun last, if any (its Flight Recorder event is committed). */
    public void end() {
        if (open) TensorEvents.leavePhase();
        open = false;
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
