package io.progrpo.world.model;

/**
 * What a pretraining run did.
 *
 * @param losses        the MSE loss of every step taken, in order (the loss curve)
 * @param seconds       wall-clock time of the loop
 * @param stoppedByTime whether {@code maxSeconds} ended the run before {@code steps}
 */
public record PretrainResult(double[] losses, double seconds, boolean stoppedByTime) {
    public PretrainResult {
        if (losses == null) throw new IllegalArgumentException("losses must not be null");
        losses = losses.clone();
    }

    @Override
    public double[] losses() {
        return losses.clone();
    }

    /** Number of optimizer steps taken. */
    public int steps() {
        return losses.length;
    }

    /** Mean wall-clock seconds per step. */
    public double secondsPerStep() {
        return losses.length == 0 ? 0 : seconds / losses.length;
    }

    /** Mean loss over the last {@code n} steps (fewer when fewer were taken). */
    public double meanLastLosses(int n) {
        if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
        int from = Math.max(0, losses.length - n);
        double s = 0;
        for (int i = from; i < losses.length; i++) s += losses[i];
        return losses.length == from ? Double.NaN : s / (losses.length - from);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "PretrainResult[steps=%d, seconds=%.1f, final loss=%.4f%s]",
                losses.length, seconds, meanLastLosses(20), stoppedByTime ? ", stopped by time" : "");
    }
}
