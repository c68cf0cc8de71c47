package io.progrpo.trainer;

import java.util.Map;

/**
 * What a {@link TrainingRun} tells an application while it runs: the epochs to come, each phase as it begins, each
 * epoch's metrics as they are recorded, and the end. The CLI's progress bar is one; a user's listener gets the same
 * calls, on the thread that runs the training. Every method has an empty default.
 */
public interface RunListener {
    /** No-op listener. */
    RunListener NONE = new RunListener() {};

    /** Before the first epoch of this call: epochs {@code firstEpoch .. epochs - 1} of {@code method} will run. */
    default void runStarted(String method, int firstEpoch, int epochs) {}

    /** A phase of {@code epoch} begins (SAMPLING, REWARD, TRAINING, EVAL). */
    default void phaseEntered(int epoch, String phase) {}

    /** The phase of {@code epoch} begun last ends (the next begins, the epoch's sampling and training are done, or its eval is). */
    default void phaseLeft(int epoch, String phase) {}

    /** The metrics row of {@code epoch}, as written to metrics.jsonl. */
    default void epochDone(int epoch, Map<String, Object> metrics) {}

    /** After the last epoch of this call (not called when an epoch throws). */
    default void runFinished() {}
}
