package io.progrpo.app.report;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.trainer.RunListener;

import java.util.Locale;
import java.util.Map;

/**
 * The CLI's live progress bar over a run's epochs (with the current phase, the sampler step and the active rows while
 * sampling, the last prune, the last reward and eval reward, and an ETA), drawn only on a terminal; elsewhere the run's
 * per-epoch log lines are the progress output.
 */
public final class ProgressListener implements RunListener {
    private Progress bar;
    private String pruned = "";

    /** A bar when standard output is a terminal, else {@link RunListener#NONE}. */
    public static RunListener forTerminal() {
        return System.console() != null ? new ProgressListener() : RunListener.NONE;
    }

    @Override
    public void runStarted(String method, int firstEpoch, int epochs) {
        bar = Progress.start(method + " epochs", epochs - firstEpoch, Progress.Mode.BAR);
    }

    @Override
    public void phaseEntered(int epoch, String phase) {
        if (phase.equals("SAMPLING")) pruned = "";
        if (bar != null) bar.message(phase);
    }

    @Override
    public void stepTaken(int step, int totalSteps, int rows) {
        if (bar != null) bar.message(String.format(Locale.ROOT, "SAMPLING step %d/%d, %d rows%s", step, totalSteps, rows, pruned));
    }

    @Override
    public void checkpointPruned(ExpandAndPruneDriver.CheckpointStats stats, long bytesReleased) {
        pruned = String.format(Locale.ROOT, " (pruned %d -> %d @%d, %.1f MiB freed)", stats.sizeBefore(), stats.sizeAfter(), stats.step(),
                bytesReleased / 1048576.0);
    }

    @Override
    public void epochDone(int epoch, Map<String, Object> m) {
        if (bar == null || epoch < 0) return;
        String eval = m.get("eval_reward") instanceof Number e ? String.format(Locale.ROOT, " eval %.3f", e.doubleValue()) : "";
        String reward = m.get("reward_mean") instanceof Number r ? String.format(Locale.ROOT, "reward %.3f", r.doubleValue()) : "";
        bar.message(reward + eval).step();
    }

    @Override
    public void runFinished() {
        if (bar != null) bar.close();
        bar = null;
    }
}
