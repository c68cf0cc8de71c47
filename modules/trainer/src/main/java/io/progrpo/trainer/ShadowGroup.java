package io.progrpo.trainer;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.Correlation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Preview quality as a within-group quantity (spec section 8, issue 17), measured on a shadow group: one extra prompt
 * group of the pruning methods that runs all G_max trajectories unpruned to the end (under no_grad, not trained on,
 * not counted in the epoch's rewards or NFE), with every trajectory's preview scored at each checkpoint of the
 * schedule (after every step 1..T-1 for the adaptive method, {@link Sampled}). Per checkpoint i (step s_i, size k_i), over the G_max trajectories of that one group:
 * <ul>
 *   <li>{@code pearson}, {@code spearman}: the correlation of the proxy rewards at s_i with the final rewards
 *       ({@link Correlation}); null in the metrics when one side is constant;</li>
 *   <li>{@code overlap_best_k}: |S_i &cap; best-k_i by final reward| / k_i, where S_i are the survivors the schedule's
 *       strategy keeps at checkpoint i, as the funnel would: S_0 is the whole group and S_i the strategy's k_i of
 *       S_{i-1} on the proxies at s_i;</li>
 *   <li>{@code overlap_ovf}: |S_i &cap; the strategy's k_i of the whole group on the FINAL rewards| / k_i. OVF keeps
 *       both tails (the lowest and the highest rewards), so the best-k overlap alone is not the whole story: a perfect
 *       preview gives overlap_ovf 1 but overlap_best_k only the share of the high tail in the OVF subset;</li>
 *   <li>{@code overlap_chance}: k_i / G_max, the expected value of both overlaps for survivors drawn uniformly at
 *       random (a uniform k-subset meets any fixed k-subset in k^2 / G_max rows on average).</li>
 * </ul>
 * Best-k breaks ties in the final reward by the lower row index. The correlations of a checkpoint use every row of
 * the group (each checkpoint on its own); the overlaps follow the funnel.
 */
final class ShadowGroup {
    private ShadowGroup() {}

    /** The shadow group's figures at one checkpoint of the schedule. */
    record Checkpoint(int step, int size, double pearson, double spearman, double overlapBestK, double overlapChance,
                      double overlapOvf) {}

    /** One shadow group: its prompt, the figures per checkpoint and its own network evaluations (x2 with guidance). */
    record Measurement(String prompt, List<Checkpoint> checkpoints, long nfe) {
        /** The metrics value: {@code {prompt, checkpoints: [{step, size, pearson, spearman, overlap_*}], nfe}}. */
        Map<String, Object> toMetrics() {
            List<Map<String, Object>> cps = new ArrayList<>();
            for (Checkpoint c : checkpoints) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("step", c.step());
                m.put("size", c.size());
                m.put("pearson", finiteOrNull(c.pearson()));
                m.put("spearman", finiteOrNull(c.spearman()));
                m.put("overlap_best_k", c.overlapBestK());
                m.put("overlap_chance", c.overlapChance());
                m.put("overlap_ovf", c.overlapOvf());
                cps.add(m);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompt", prompt);
            m.put("checkpoints", cps);
            m.put("nfe", nfe);
            return m;
        }
    }

    /**
     * A shadow group as sampled: its prompt, the steps after which its previews were scored (increasing),
     * {@code proxies[i][r]} the proxy reward of row r after {@code steps[i]} steps, the final rewards and its network
     * evaluations. The adaptive method records every step 1..T-1; the others the schedule's checkpoints.
     */
    record Sampled(String prompt, int[] steps, double[][] proxies, double[] finals, long nfe) {
        /**
         * The figures at the checkpoints of {@code schedule} ({@link #measure}), each of which must be a recorded step.
         * A funnel that starts below the shadow group's size (the adaptive method's G_max may be smaller than the
         * configured largest one, which the shadow group runs) is measured on the group's first G_max rows: its rows
         * are independent draws, so any G_max of them are a group of that size.
         *
         * @throws IllegalArgumentException for a checkpoint whose previews were not recorded, or a funnel larger than
         *                                  the shadow group
         */
        Measurement measure(PruneSchedule schedule, SubsetStrategy strategy, RandomGenerator rng) {
            int g = schedule.initialGroupSize();
            if (g > finals.length) {
                throw new IllegalArgumentException("the schedule " + schedule.spec() + " starts at " + g
                        + " trajectories, the shadow group has " + finals.length);
            }
            int[] cps = schedule.checkpoints();
            double[][] at = new double[cps.length][];
            for (int i = 0; i < cps.length; i++) {
                int j = Arrays.binarySearch(steps, cps[i]);
                if (j < 0) {
                    throw new IllegalArgumentException("the shadow group recorded previews after steps " + Arrays.toString(steps)
                            + ", the schedule " + schedule.spec() + " needs step " + cps[i]);
                }
                at[i] = Arrays.copyOf(proxies[j], g);
            }
            return ShadowGroup.measure(prompt, schedule, strategy, at, Arrays.copyOf(finals, g), rng, nfe);
        }

        /**
         * The per-step curve for the metrics ({@code shadow_curve}): {@code [{step, spearman, pearson}]} over the
         * recorded steps, the within-group correlations of the previews with the final rewards, null where undefined.
         */
        List<Map<String, Object>> curveMetrics() {
            double[][] c = ScheduleAgreement.curve(proxies, finals);
            List<Map<String, Object>> out = new ArrayList<>();
            for (int i = 0; i < steps.length; i++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("step", steps[i]);
                m.put("spearman", finiteOrNull(c[0][i]));
                m.put("pearson", finiteOrNull(c[1][i]));
                out.add(m);
            }
            return out;
        }
    }

    /** Whether epoch {@code epoch} of a method samples a shadow group: pruning methods, epochs 0, n, 2n, ... */
    static boolean due(boolean prunes, int shadowEvery, int epoch) {
        return prunes && shadowEvery > 0 && epoch % shadowEvery == 0;
    }

    /**
     * The figures of one shadow group.
     *
     * @param proxies  {@code proxies[i][r]}: the proxy reward of row r at checkpoint i of {@code schedule}
     * @param finals   the final reward of every row, G_max of them
     * @param strategy the schedule's subset strategy (OVF for the pruning methods); {@code rng} feeds a random one
     * @throws IllegalArgumentException when the arrays do not have one value per checkpoint and row
     */
    static Measurement measure(String prompt, PruneSchedule schedule, SubsetStrategy strategy, double[][] proxies,
                               double[] finals, RandomGenerator rng, long nfe) {
        int gMax = schedule.initialGroupSize();
        int[] steps = schedule.checkpoints();
        int[] sizes = schedule.survivors();
        if (finals.length != gMax || proxies.length != steps.length) {
            throw new IllegalArgumentException("a shadow group needs " + gMax + " final rewards and proxies at " + steps.length
                    + " checkpoints, got " + finals.length + " and " + proxies.length);
        }
        List<Checkpoint> out = new ArrayList<>();
        int[] survivors = identity(gMax);
        for (int i = 0; i < steps.length; i++) {
            if (proxies[i].length != gMax) {
                throw new IllegalArgumentException("proxies at checkpoint " + i + " (step " + steps[i] + ") have "
                        + proxies[i].length + " values, expected " + gMax);
            }
            int k = sizes[i];
            int[] chosen = strategy.select(pick(proxies[i], survivors), k, rng);
            int[] next = new int[k];
            for (int j = 0; j < k; j++) next[j] = survivors[chosen[j]];
            survivors = next;
            out.add(new Checkpoint(steps[i], k, Correlation.pearson(proxies[i], finals), Correlation.spearman(proxies[i], finals),
                    overlap(survivors, bestK(finals, k)), (double) k / gMax, overlap(survivors, strategy.select(finals, k, rng))));
        }
        return new Measurement(prompt, out, nfe);
    }

    /** The rows of the k largest values, ascending by row; equal values go to the lower row first. */
    static int[] bestK(double[] v, int k) {
        if (k < 0 || k > v.length) throw new IllegalArgumentException("best-k needs k in [0, " + v.length + "], got " + k);
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> -v[i]).thenComparingInt(i -> i));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = idx[i];
        Arrays.sort(out);
        return out;
    }

    /** |a &cap; b| / |a| for two sets of distinct rows of one size. */
    static double overlap(int[] a, int[] b) {
        if (a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("an overlap needs two non-empty sets of one size, got " + a.length + " and " + b.length);
        }
        int common = 0;
        for (int x : a) for (int y : b) if (x == y) common++;
        return (double) common / a.length;
    }

    private static int[] identity(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static double[] pick(double[] v, int[] rows) {
        double[] r = new double[rows.length];
        for (int i = 0; i < rows.length; i++) r[i] = v[rows[i]];
        return r;
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
