package io.progrpo.trainer;

import io.progrpo.pruning.DriverListener;
import io.progrpo.pruning.ExpandAndPruneDriver;

import java.util.List;
import java.util.Map;

/**
 * What a {@link TrainingRun} tells an application while it runs: the epochs to come, each phase as it begins and
 * ends, every sampler step and prune checkpoint of the epoch's training batches (the {@link DriverListener} calls; not
 * of shadow groups), each epoch's metrics as they are recorded, and the end. The run's own metrics log is the first
 * listener of every run ({@code metrics.jsonl} is written by its {@link #epochDone}); the CLI's progress bar is
 * another; a user's listener gets the same calls after them, on the thread that runs the training. The Flight
 * Recorder events are committed at the same points with the same figures (a phase by {@link Phases}, a prune by the
 * driver), so a recording and a listener agree. Every method has an empty default.
 */
public interface RunListener extends DriverListener {
    /** No-op listener. */
    RunListener NONE = new RunListener() {};

    /** Before the first epoch of this call: epochs {@code firstEpoch .. epochs - 1} of {@code method} will run. */
    default void runStarted(String method, int firstEpoch, int epochs) {}

    /** A phase of {@code epoch} begins (SAMPLING, REWARD, TRAINING, EVAL). */
    default void phaseEntered(int epoch, String phase) {}

    /** The phase of {@code epoch} begun last ends (the next begins, the epoch's sampling and training are done, or its eval is). */
    default void phaseLeft(int epoch, String phase) {}

    /** The metrics row of {@code epoch}, as written to metrics.jsonl (epoch -1: the evaluation before training). */
    default void epochDone(int epoch, Map<String, Object> metrics) {}

    /** After the last epoch of this call (not called when an epoch throws). */
    default void runFinished() {}

    /**
     * One listener that calls {@code listeners} in order (each call reaches the next only when the one before returned;
     * a listener that throws ends the run with its exception).
     */
    static RunListener all(List<RunListener> listeners) {
        List<RunListener> ls = List.copyOf(listeners);
        return new RunListener() {
            @Override
            public void runStarted(String method, int firstEpoch, int epochs) {
                for (RunListener l : ls) l.runStarted(method, firstEpoch, epochs);
            }

            @Override
            public void phaseEntered(int epoch, String phase) {
                for (RunListener l : ls) l.phaseEntered(epoch, phase);
            }

            @Override
            public void phaseLeft(int epoch, String phase) {
                for (RunListener l : ls) l.phaseLeft(epoch, phase);
            }

            @Override
            public void stepTaken(int step, int totalSteps, int rows) {
                for (RunListener l : ls) l.stepTaken(step, totalSteps, rows);
            }

            @Override
            public void checkpointPruned(ExpandAndPruneDriver.CheckpointStats stats, long bytesReleased) {
                for (RunListener l : ls) l.checkpointPruned(stats, bytesReleased);
            }

            @Override
            public void epochDone(int epoch, Map<String, Object> metrics) {
                for (RunListener l : ls) l.epochDone(epoch, metrics);
            }

            @Override
            public void runFinished() {
                for (RunListener l : ls) l.runFinished();
            }
        };
    }
}
