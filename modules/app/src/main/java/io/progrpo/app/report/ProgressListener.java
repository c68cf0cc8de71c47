package io.progrpo.app.report;

import io.progrpo.trainer.RunListener;

import java.util.Locale;
import java.util.Map;

/**
 * The CLI's live progress bar over a run's epochs (with the current phase, the last reward and eval reward, and an
 * ETA), drawn only on a terminal; elsewhere the run's per-epoch log lines are the progress output.
 */
public final class ProgressListener implements RunListener {
    private Progress bar;

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
        if (bar != null) bar.message(phase);
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
