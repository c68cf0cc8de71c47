package io.progrpo.app.study;

/**
 * The matched-compute rule of the study. The target C* is flow-grpo's cumulative model FLOPs after E epochs, from its
 * run of the same seed. An arm is evaluated at the epoch count e whose cumulative FLOPs F(e) is nearest C*:
 * <ul>
 *   <li>an arm cheaper than flow-grpo continues training past E (resumed from its checkpoint) while one more epoch
 *       brings it nearer: it stops at the first e with F(e) >= C* - f/2, f = F(E) / E its mean epoch cost over the
 *       first E epochs, up to {@link #CAP_FACTOR} x E epochs;</li>
 *   <li>an arm costlier than flow-grpo is evaluated at an earlier epoch, from the parameter snapshot the study kept
 *       of that epoch (snapshots are kept from epoch {@link #snapshotFrom(int)} on).</li>
 * </ul>
 * The report gives the achieved ratio F(e) / C* beside each result.
 */
public final class MatchedCompute {
    /** An arm trains at most this many times E epochs to reach flow-grpo's compute. */
    public static final int CAP_FACTOR = 3;

    private MatchedCompute() {}

    /** The first epoch count whose parameters are kept for a matched-compute evaluation: half of E, at least 1. */
    public static int snapshotFrom(int epochs) {
        return Math.max(1, epochs / 2);
    }

    /**
     * How many epochs the run should have trained before its evaluations, given what it has trained so far.
     *
     * @param cumulative {@code cumulative[e - 1]} = F(e), the FLOPs of the first e epochs, for e = 1 .. trained
     * @param epochs     E
     * @param target     C*; NaN for the baseline itself (it stops at E)
     * @return the epoch count to train to; equal to {@code cumulative.length} when training is done
     */
    public static int trainTo(double[] cumulative, int epochs, double target) {
        int trained = cumulative.length;
        if (trained < epochs) return epochs;
        if (Double.isNaN(target)) return trained;
        int cap = CAP_FACTOR * epochs;
        if (trained >= cap) return trained;
        double perEpoch = cumulative[epochs - 1] / epochs;
        if (!(perEpoch > 0)) throw new IllegalArgumentException("an arm's epochs must cost > 0 FLOPs, got F(E) = " + cumulative[epochs - 1]);
        double have = cumulative[trained - 1];
        if (have >= target - perEpoch / 2) return trained;
        long more = Math.max(1, Math.round((target - have) / perEpoch));
        return (int) Math.min(cap, trained + more);
    }

    /**
     * The epoch count e in [{@code from}, trained] whose F(e) is nearest C* (the smaller e on a tie); E itself for
     * the baseline (target NaN).
     */
    public static int choose(double[] cumulative, int epochs, double target, int from) {
        if (Double.isNaN(target)) return epochs;
        int trained = cumulative.length;
        if (from < 1 || from > trained) {
            throw new IllegalArgumentException("the first candidate epoch must be in [1, " + trained + "], got " + from);
        }
        int best = from;
        for (int e = from; e <= trained; e++) {
            if (Math.abs(cumulative[e - 1] - target) < Math.abs(cumulative[best - 1] - target)) best = e;
        }
        return best;
    }
}
