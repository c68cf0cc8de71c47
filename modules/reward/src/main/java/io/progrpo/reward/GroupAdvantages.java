package io.progrpo.reward;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Group-relative advantages of GRPO (spec section 1):
 * <pre>
 *     A_i = clip((R_i - mean_group(R)) / (std(R) + 1e-4), -5, +5)
 * </pre>
 * where the mean is over the prompt group of sample i and std is, by default, that group's population std
 * (1/n, as numpy's {@code np.std} in Flow-GRPO), or with {@link StdMode#GLOBAL} the population std over every
 * reward of the batch (Flow-GRPO's "global std").
 *
 * <p>Samples with A_i == 0 contribute nothing to the policy gradient and are skipped in training
 * ({@link #trainMask}). A group whose rewards are all equal gets exactly 0 for every member: rewards are centred
 * relative to a member of the group, so no rounding residue of the mean survives to be divided by the tiny epsilon
 * (and a large common offset such as 1e9 costs no precision).
 *
 * <p>In Pro-GRPO the advantages are normalized over the final survivors only: pass only their rewards.
 * Group ids are arbitrary ints; samples with equal ids form a group.
 *
 * <p>This class is the one place where group means, within-group stds and group advantages are computed: the
 * trainer's advantages and metrics, {@link MultiReward}'s {@link MultiReward.Aggregation#ADVANTAGE_SUM} and the
 * expand-and-prune driver's checkpoint statistics all call it. Before they were merged, the trainer centred each group
 * on its first member ({@link Centring#SHIFTED}) while the other two used the plain mean ({@link Centring#PLAIN});
 * both give the same formula and differ only in rounding (the plain mean leaves a residue of about 1e-17 in a constant
 * group, which a std + 1e-4 denominator turns into an advantage of about 1e-13 instead of exactly 0). Each caller
 * keeps the numbers it had, bit for bit, by passing its centring; the default is {@link Centring#SHIFTED}.
 */
public final class GroupAdvantages {
    /** Default clip bound: advantages lie in [-5, 5]. */
    public static final double DEFAULT_CLIP = 5.0;
    /** Default epsilon added to the std. */
    public static final double DEFAULT_EPS = 1e-4;

    /** Which std normalizes the centred rewards. */
    public enum StdMode {
        /** Population std of the sample's own prompt group (default). */
        GROUP,
        /** Population std over every reward passed in (Flow-GRPO's global std). */
        GLOBAL
    }

    /**
     * How a reward is centred on its group mean. Both compute R_i - mean and the population std from it by the
     * two-pass formula, in index order; they differ in rounding only.
     */
    public enum Centring {
        /**
         * Relative to the group's first member: (R_i - R_first) - mean(R - R_first). A constant group is exactly 0 and
         * a large common offset (1e9) costs no precision. The trainer's advantages and metrics.
         */
        SHIFTED,
        /**
         * The plain mean: R_i - sum(R) / n. {@link MultiReward}'s ADVANTAGE_SUM and the expand-and-prune driver's
         * checkpoint std, kept as they were computed before the merge.
         */
        PLAIN
    }

    private GroupAdvantages() {}

    /** {@link #compute(double[], int[], StdMode, double, double)} with group std, clip 5 and eps 1e-4. */
    public static double[] compute(double[] rewards, int[] groupIds) {
        return compute(rewards, groupIds, StdMode.GROUP, DEFAULT_CLIP, DEFAULT_EPS);
    }

    /**
     * A_i = clip((R_i - mean_group) / (std + eps), -clip, +clip).
     *
     * @param rewards  one final reward per sample, all finite
     * @param groupIds the prompt group of each sample, same length
     * @param mode     group or global std
     * @param clip     the clip bound, &gt; 0 ({@code Double.POSITIVE_INFINITY} disables clipping)
     * @param eps      added to the std, &gt;= 0 and finite; with eps = 0 a zero-std group still gets A = 0
     * @throws IllegalArgumentException for a NaN or infinite reward (naming index and value), mismatched lengths,
     *                                  or a bad clip or eps
     */
    public static double[] compute(double[] rewards, int[] groupIds, StdMode mode, double clip, double eps) {
        return compute(rewards, groupIds, mode, clip, eps, Centring.SHIFTED);
    }

    /**
     * {@link #compute(double[], int[], StdMode, double, double)} with the given {@link Centring}.
     *
     * @throws IllegalArgumentException as there, and for a null centring
     */
    public static double[] compute(double[] rewards, int[] groupIds, StdMode mode, double clip, double eps, Centring centring) {
        int[][] groups = groups(rewards, groupIds);
        if (centring == null) {
            throw new IllegalArgumentException("centring must be SHIFTED or PLAIN, got null");
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode must be GROUP or GLOBAL, got null");
        }
        if (!(clip > 0)) {
            throw new IllegalArgumentException("clip must be > 0, got " + clip);
        }
        if (!(eps >= 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
        double[] adv = new double[rewards.length];
        double globalStd = mode == StdMode.GLOBAL ? std(rewards, allIndices(rewards.length), centring) : Double.NaN;
        for (int[] members : groups) {
            double shift = shift(rewards, members, centring);
            double offset = meanOffset(rewards, members, shift);
            double std = mode == StdMode.GLOBAL ? globalStd : std(rewards, members, centring);
            double denom = std + eps;
            for (int i : members) {
                double centred = (rewards[i] - shift) - offset; // R_i - mean, without rounding the mean itself
                // centred == 0 covers a zero-std group even when eps == 0 (no 0/0).
                double a = centred == 0 ? 0.0 : centred / denom;
                adv[i] = Math.max(-clip, Math.min(clip, a));
            }
        }
        return adv;
    }

    /** Fraction of groups whose rewards are all exactly equal (they yield no gradient); 0 for no samples. */
    public static double zeroStdGroupFraction(double[] rewards, int[] groupIds) {
        int[][] groups = groups(rewards, groupIds);
        if (groups.length == 0) {
            return 0;
        }
        int zero = 0;
        for (int[] members : groups) {
            boolean allEqual = true;
            for (int i : members) {
                allEqual &= rewards[i] == rewards[members[0]];
            }
            if (allEqual) {
                zero++;
            }
        }
        return (double) zero / groups.length;
    }

    /** The mean over groups of each group's population std: the reward-clustering signal; 0 for no samples. */
    public static double withinGroupStd(double[] rewards, int[] groupIds) {
        return withinGroupStd(rewards, groupIds, Centring.SHIFTED);
    }

    /**
     * {@link #withinGroupStd(double[], int[])} with the given {@link Centring}; the groups are summed in the order of
     * their first sample.
     */
    public static double withinGroupStd(double[] rewards, int[] groupIds, Centring centring) {
        int[][] groups = groups(rewards, groupIds);
        if (centring == null) {
            throw new IllegalArgumentException("centring must be SHIFTED or PLAIN, got null");
        }
        if (groups.length == 0) {
            return 0;
        }
        double sum = 0;
        for (int[] members : groups) {
            sum += std(rewards, members, centring);
        }
        return sum / groups.length;
    }

    /** true where the advantage is non-zero: the samples the GRPO update trains on. */
    public static boolean[] trainMask(double[] adv) {
        if (adv == null) {
            throw new IllegalArgumentException("advantages must not be null");
        }
        boolean[] mask = new boolean[adv.length];
        for (int i = 0; i < adv.length; i++) {
            if (!Double.isFinite(adv[i])) {
                throw new IllegalArgumentException("advantages[" + i + "] must be finite, got " + adv[i]);
            }
            mask[i] = adv[i] != 0.0;
        }
        return mask;
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    /** Validates the inputs and groups sample indices by id, in order of first appearance. */
    private static int[][] groups(double[] rewards, int[] groupIds) {
        if (rewards == null || groupIds == null) {
            throw new IllegalArgumentException("rewards and groupIds must not be null, got rewards="
                    + Arrays.toString(rewards) + ", groupIds=" + Arrays.toString(groupIds));
        }
        if (rewards.length != groupIds.length) {
            throw new IllegalArgumentException("rewards and groupIds must have the same length, got "
                    + rewards.length + " and " + groupIds.length);
        }
        for (int i = 0; i < rewards.length; i++) {
            if (!Double.isFinite(rewards[i])) {
                throw new IllegalArgumentException("rewards[" + i + "] must be finite, got " + rewards[i]);
            }
        }
        Map<Integer, Integer> slot = new HashMap<>();
        int[] slotOf = new int[groupIds.length];
        int[] counts = new int[groupIds.length];
        for (int i = 0; i < groupIds.length; i++) {
            int s = slot.computeIfAbsent(groupIds[i], id -> slot.size());
            slotOf[i] = s;
            counts[s]++;
        }
        int[][] groups = new int[slot.size()][];
        for (int s = 0; s < groups.length; s++) {
            groups[s] = new int[counts[s]];
        }
        int[] fill = new int[groups.length];
        for (int i = 0; i < groupIds.length; i++) {
            groups[slotOf[i]][fill[slotOf[i]]++] = i;
        }
        return groups;
    }

    private static int[] allIndices(int n) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        return all;
    }

    /** What a group is centred relative to: its first member ({@link Centring#SHIFTED}) or 0 ({@link Centring#PLAIN}). */
    private static double shift(double[] r, int[] members, Centring centring) {
        return centring == Centring.SHIFTED && members.length > 0 ? r[members[0]] : 0.0;
    }

    /**
     * mean - shift: the mean relative to {@code shift}. With the first member as shift, centring as (r - first) -
     * offset keeps a constant group exactly at 0 and does not round the mean to the grid of a large common offset;
     * with shift 0 it is the plain mean sum / n (r - 0.0 is r exactly).
     */
    private static double meanOffset(double[] r, int[] members, double shift) {
        if (members.length == 0) {
            return 0;
        }
        double sum = 0;
        for (int i : members) {
            sum += r[i] - shift;
        }
        return sum / members.length;
    }

    /** Population std (1/n) by the two-pass formula on shifted values; 0 for an empty or constant set. */
    private static double std(double[] r, int[] members, Centring centring) {
        if (members.length == 0) {
            return 0;
        }
        double shift = shift(r, members, centring);
        double offset = meanOffset(r, members, shift);
        double sq = 0;
        for (int i : members) {
            double d = (r[i] - shift) - offset;
            sq += d * d;
        }
        return Math.sqrt(sq / members.length);
    }
}
