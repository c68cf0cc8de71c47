package io.progrpo.pruning;

/**
 * What an {@link ExpandAndPruneDriver} run tells its listener, on the thread that samples: every step taken and every
 * checkpoint's prune, with the bytes the ledger released there (the same figures as the {@code io.progrpo.PruneCheckpoint}
 * Flight Recorder event). A listener that throws ends the run with its exception; the driver frees what it made.
 */
public interface DriverListener {
    /** No-op listener. */
    DriverListener NONE = new DriverListener() {};

    /** Step {@code step} (1-based: steps taken) of {@code totalSteps} was taken by {@code rows} rows. */
    default void stepTaken(int step, int totalSteps, int rows) {}

    /** A checkpoint pruned: its statistics and the bytes of the Java-side tensors released by the prune. */
    default void checkpointPruned(ExpandAndPruneDriver.CheckpointStats stats, long bytesReleased) {}
}
