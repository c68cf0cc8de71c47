package io.progrpo.trainer;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The adaptive method's rule: from the measured preview agreement per step, the funnel of an epoch. A pure function.
 *
 * <p>Candidates, for k survivors, the largest group G_L and T sampler steps: G_max in {2k, 2k+4, ..., G_L} plus G_L
 * itself (only G_L when G_L &lt; 2k); one stage {@code G_max -> k @s}; two stages {@code G_max -> m @s1 -> k @s2} with
 * s1 &lt; s2 and k &lt; m &lt; G_max; every step in 1..T-1. A candidate is <em>feasible</em> when the agreement at
 * EVERY checkpoint step is &gt;= tau (an unmeasured step, NaN, is not) and its cost ({@link CostModel#epoch}, the
 * amortised shadow groups included) is &lt;= rho x the reference's ({@link CostModel#reference}: flow-grpo with
 * G = 2k, unpruned, all trained).
 *
 * <p>Among the feasible: the largest G_max, then the lowest cost, then the earliest checkpoint steps (compared in
 * order, a one-stage funnel before a two-stage one whose first step is the same), then the smallest m. The order is
 * total, so the choice is deterministic. Under this rule a one-stage funnel at s1 always beats the two-stage funnels
 * that start at s1 (it needs the agreement at s1 only and costs less), so two stages are considered but never chosen;
 * they would be only under a rule that asks less of an earlier, gentler prune.
 *
 * <p>When nothing is feasible, one stage {@code G -> k} at a step s:
 * <ul>
 *   <li>reason {@code budget}: some step clears tau, but no candidate G_max fits the budget there: s is the earliest
 *       step that clears tau (the cheapest place to prune);</li>
 *   <li>reason {@code fallback}: no step clears tau: s = T - 1, the last stochastic step (the most informed preview);</li>
 * </ul>
 * and G the largest candidate G_max that fits the budget at s, else the largest G in [k+1, G_L] that fits, else k+1
 * (the cheapest funnel there is; {@link Decision#withinBudget()} false).
 */
final class ScheduleChooser {
    private ScheduleChooser() {}

    /**
     * An epoch's model compute in forward-equivalents (one generator forward of one row = 1), consistent with the
     * report's {@code ModelFlops} (which multiplies the same counts by 2 F per forward):
     * <pre>
     *   epoch(schedule) = groupsPerEpoch x (cfgFactor x rowSteps(schedule) + K x trainedSteps x trainingPerTransition)
     *                     + shadowPerEpoch
     *   reference(k)    = groupsPerEpoch x (cfgFactor x 2k x T + 2k x trainedSteps x trainingPerTransition)
     * </pre>
     * rowSteps = sum over steps of the rows sampled ({@link PruneSchedule#nfe()}: previews reuse the step's output);
     * K = the schedule's final group size; {@link #trainingPerTransition} as ModelFlops counts a trained transition.
     * The decoder passes of previews and final images and the reward models are not counted (the trainer does not
     * know their size; 0 for the pixel world's identity decoder).
     *
     * @param totalSteps            T
     * @param trainedSteps          trained transitions per trajectory
     * @param cfgFactor             model evaluations per row and step: 2 with classifier-free guidance, else 1
     * @param trainingPerTransition forward-equivalents of training one transition
     * @param groupsPerEpoch        prompt groups per epoch
     * @param shadowPerEpoch        the shadow groups' sampling, amortised: G_L x T x cfgFactor / shadowEvery
     */
    record CostModel(int totalSteps, int trainedSteps, int cfgFactor, double trainingPerTransition, int groupsPerEpoch,
                     double shadowPerEpoch) {
        CostModel {
            if (totalSteps < 2) throw new IllegalArgumentException("totalSteps must be >= 2, got " + totalSteps);
            if (trainedSteps < 1 || trainedSteps > totalSteps) {
                throw new IllegalArgumentException("trainedSteps must be in [1, " + totalSteps + "], got " + trainedSteps);
            }
            if (cfgFactor != 1 && cfgFactor != 2) throw new IllegalArgumentException("cfgFactor must be 1 or 2, got " + cfgFactor);
            if (!(trainingPerTransition > 0 && Double.isFinite(trainingPerTransition))) {
                throw new IllegalArgumentException("trainingPerTransition must be a finite number > 0, got " + trainingPerTransition);
            }
            if (groupsPerEpoch < 1) throw new IllegalArgumentException("groupsPerEpoch must be >= 1, got " + groupsPerEpoch);
            if (!(shadowPerEpoch >= 0 && Double.isFinite(shadowPerEpoch))) {
                throw new IllegalArgumentException("shadowPerEpoch must be a finite number >= 0, got " + shadowPerEpoch);
            }
        }

        /**
         * Forward-equivalents of one trained transition, as ModelFlops counts the training NFE (the policy's
         * evaluations, x2 with guidance, and as many again for the reference with beta &gt; 0): n = cfgFactor x (2 with
         * a reference, else 1); the evaluations with gradient g = n / 2 with guidance and a detached unconditional
         * branch, else n; each costs 3 (forward and backward), the others 1: 3 g + (n - g).
         */
        static double trainingPerTransition(boolean cfg, boolean detachUncond, boolean reference) {
            double n = (cfg ? 2 : 1) * (reference ? 2 : 1);
            double grad = cfg && detachUncond ? n / 2 : n;
            return 3 * grad + (n - grad);
        }

        /** The cost of an epoch with one funnel whose sampling takes {@code rowSteps} rows x steps per group. */
        double epoch(long rowSteps, int finalGroupSize) {
            return groupsPerEpoch * ((double) cfgFactor * rowSteps + (double) finalGroupSize * trainedSteps * trainingPerTransition)
                    + shadowPerEpoch;
        }

        /** The cost of an epoch sampled and trained with {@code schedule} (its T must be this model's). */
        double epoch(PruneSchedule schedule) {
            if (schedule.totalSteps() != totalSteps) {
                throw new IllegalArgumentException("the schedule has " + schedule.totalSteps() + " steps, the cost model " + totalSteps);
            }
            return epoch(schedule.nfe(), schedule.finalGroupSize());
        }

        /** The reference: flow-grpo with G = 2k, no pruning, every trajectory trained, no shadow groups. */
        double reference(int k) {
            return groupsPerEpoch * ((double) cfgFactor * 2 * k * totalSteps + 2.0 * k * trainedSteps * trainingPerTransition);
        }
    }

    /**
     * A choice and why it was made.
     *
     * @param schedule      the funnel of the epoch
     * @param reason        {@code agreement} (a feasible candidate), {@code budget}, {@code fallback} (see the class
     *                      comment) or {@code initial} (no estimate yet: the configured funnel)
     * @param withinBudget  whether cost &lt;= budget x referenceCost
     * @param tau           the agreement threshold
     * @param budget        rho, the budget as a ratio of the reference's cost
     * @param cost          the schedule's cost per epoch (forward-equivalents, shadow groups included)
     * @param referenceCost the reference's
     * @param agreement     the agreement at each checkpoint step of the schedule, in order (NaN: unmeasured)
     * @param candidates    candidates considered
     * @param feasible      of them feasible
     */
    record Decision(PruneSchedule schedule, String reason, boolean withinBudget, double tau, double budget, double cost,
                    double referenceCost, double[] agreement, int candidates, int feasible) {
        double costRatio() {
            return cost / referenceCost;
        }

        /** The metrics value ({@code schedule_decision}); NaN agreement is null. */
        Map<String, Object> toMetrics() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reason", reason);
            m.put("tau", tau);
            m.put("budget", budget);
            m.put("cost_ratio", costRatio());
            m.put("within_budget", withinBudget);
            List<Map<String, Object>> at = new ArrayList<>();
            int[] steps = schedule.checkpoints();
            for (int i = 0; i < steps.length; i++) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("step", steps[i]);
                a.put("spearman", Double.isNaN(agreement[i]) ? null : agreement[i]);
                at.add(a);
            }
            m.put("agreement", at);
            m.put("candidates", candidates);
            m.put("feasible", feasible);
            return m;
        }
    }

    /** The decision for the configured funnel before any estimate (reason {@code initial}). */
    static Decision initial(PruneSchedule configured, double[] agreement, double tau, CostModel cost, double rho) {
        double c = cost.epoch(configured);
        double ref = cost.reference(configured.finalGroupSize());
        return new Decision(configured, "initial", c <= rho * ref, tau, rho, c, ref, at(agreement, configured.checkpoints()), 0, 0);
    }

    /**
     * The funnel for the agreement curve {@code agreement} (index step - 1, steps 1..T-1; NaN = unmeasured).
     *
     * @param k       survivors trained per group (&gt;= 2)
     * @param largest G_L, the largest G_max allowed (&gt; k)
     * @param rho     the budget as a ratio of the reference's cost (&gt; 0)
     * @throws IllegalArgumentException for a curve without T - 1 values, or k, G_L, tau or rho out of range
     */
    static Decision choose(double[] agreement, double tau, int k, int largest, CostModel cost, double rho) {
        int t = cost.totalSteps();
        if (agreement == null || agreement.length != t - 1) {
            throw new IllegalArgumentException("the agreement curve needs one value per step 1.." + (t - 1) + ", got "
                    + (agreement == null ? "null" : agreement.length + " values"));
        }
        if (k < 2) throw new IllegalArgumentException("k must be >= 2 (a group for the advantages), got " + k);
        if (largest <= k) throw new IllegalArgumentException("the largest G_max must be > k = " + k + ", got " + largest);
        if (!(tau > -1 && tau <= 1)) throw new IllegalArgumentException("tau must be a correlation in (-1, 1], got " + tau);
        if (!(rho > 0 && Double.isFinite(rho))) throw new IllegalArgumentException("the budget rho must be a finite ratio > 0, got " + rho);
        double ref = cost.reference(k);
        double limit = rho * ref;
        List<Integer> sizes = groupSizes(k, largest);
        List<Integer> clearing = new ArrayList<>();
        for (int s = 1; s < t; s++) if (agreement[s - 1] >= tau) clearing.add(s);

        int candidates = 0;
        int feasible = 0;
        long[] best = null;   // {G_max, s1, s2 (0: one stage), m}
        double bestCost = Double.NaN;
        for (int g : sizes) {
            for (int s1 = 1; s1 < t; s1++) {
                boolean ok1 = agreement[s1 - 1] >= tau;
                // one stage: G -> k @ s1
                candidates++;
                double c = cost.epoch((long) g * s1 + (long) k * (t - s1), k);
                if (ok1 && c <= limit) {
                    feasible++;
                    long[] cand = {g, s1, 0, k};
                    if (best == null || better(cand, c, best, bestCost)) {
                        best = cand;
                        bestCost = c;
                    }
                }
                // two stages: G -> m @ s1 -> k @ s2, counted all, costed where both steps clear tau
                int pairs = (t - 1 - s1) * Math.max(0, g - k - 1);
                candidates += pairs;
                if (!ok1) continue;
                for (int s2 = s1 + 1; s2 < t; s2++) {
                    if (!(agreement[s2 - 1] >= tau)) continue;
                    for (int m = k + 1; m < g; m++) {
                        double c2 = cost.epoch((long) g * s1 + (long) m * (s2 - s1) + (long) k * (t - s2), k);
                        if (c2 > limit) continue;
                        feasible++;
                        long[] cand = {g, s1, s2, m};
                        if (better(cand, c2, best, bestCost)) {
                            best = cand;
                            bestCost = c2;
                        }
                    }
                }
            }
        }
        if (best != null) {
            PruneSchedule s = best[2] == 0 ? oneStage((int) best[0], k, (int) best[1], t)
                    : new PruneSchedule((int) best[0], new int[] {(int) best[1], (int) best[2]}, new int[] {(int) best[3], k}, t,
                    SubsetStrategy.OVF.name());
            return new Decision(s, "agreement", true, tau, rho, bestCost, ref, at(agreement, s.checkpoints()), candidates, feasible);
        }
        boolean anyClears = !clearing.isEmpty();
        int step = anyClears ? clearing.get(0) : t - 1;
        int g = fitting(sizes, k, largest, step, cost, limit);
        PruneSchedule s = oneStage(g, k, step, t);
        double c = cost.epoch(s);
        return new Decision(s, anyClears ? "budget" : "fallback", c <= limit, tau, rho, c, ref, at(agreement, s.checkpoints()),
                candidates, 0);
    }

    /** The candidate G_max: 2k, 2k+4, ... up to G_L, and G_L; largest first. */
    static List<Integer> groupSizes(int k, int largest) {
        java.util.TreeSet<Integer> sizes = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
        for (int g = 2 * k; g <= largest; g += 4) sizes.add(g);
        sizes.add(largest);
        return List.copyOf(sizes);
    }

    /** The largest candidate G that fits the budget with one stage at {@code step}, else any G in (k, G_L], else k+1. */
    private static int fitting(List<Integer> sizes, int k, int largest, int step, CostModel cost, double limit) {
        int t = cost.totalSteps();
        for (int g : sizes) if (cost.epoch((long) g * step + (long) k * (t - step), k) <= limit) return g;
        for (int g = largest; g > k; g--) if (cost.epoch((long) g * step + (long) k * (t - step), k) <= limit) return g;
        return k + 1;
    }

    /** Whether candidate a (cost ca) comes before b (cost cb): larger G_max, lower cost, earlier steps, smaller m. */
    private static boolean better(long[] a, double ca, long[] b, double cb) {
        if (a[0] != b[0]) return a[0] > b[0];
        if (ca != cb) return ca < cb;
        if (a[1] != b[1]) return a[1] < b[1];
        if (a[2] != b[2]) return a[2] < b[2];   // 0 (one stage) first
        return a[3] < b[3];
    }

    private static PruneSchedule oneStage(int g, int k, int step, int t) {
        return new PruneSchedule(g, new int[] {step}, new int[] {k}, t, SubsetStrategy.OVF.name());
    }

    private static double[] at(double[] agreement, int[] steps) {
        double[] out = new double[steps.length];
        for (int i = 0; i < steps.length; i++) out[i] = steps[i] >= 1 && steps[i] <= agreement.length ? agreement[steps[i] - 1] : Double.NaN;
        return out;
    }
}
