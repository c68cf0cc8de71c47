package io.progrpo.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import io.progrpo.reward.Correlation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The adaptive method's estimate of preview quality per sampler step: for each step s = 1..T-1, the within-group
 * Spearman between the proxy reward of the preview after s steps and the final reward, averaged over the shadow groups
 * seen so far (every group counts once, the latest as much as the first). A group whose correlation at s is undefined
 * (one side constant) is left out of that step's mean and counted in {@link #skipped(int)}. The Pearson mean is kept
 * beside it the same way, for the metrics.
 *
 * <p>State: per step, the number of groups with a defined value and their sum; the means are sum / count, so an
 * estimate rebuilt from {@link #state()} by {@link #fromState} gives the same means bit for bit.
 */
final class ScheduleAgreement {
    private final int totalSteps;
    private final int[] spearmanGroups;
    private final double[] spearmanSum;
    private final int[] pearsonGroups;
    private final double[] pearsonSum;
    private final int[] skipped;
    private int shadowGroups;

    /** An empty estimate over the steps 1..T-1 of a T-step sampler (T &gt;= 2). */
    ScheduleAgreement(int totalSteps) {
        if (totalSteps < 2) throw new IllegalArgumentException("an agreement estimate needs T >= 2 sampler steps, got " + totalSteps);
        this.totalSteps = totalSteps;
        int n = totalSteps - 1;
        spearmanGroups = new int[n];
        spearmanSum = new double[n];
        pearsonGroups = new int[n];
        pearsonSum = new double[n];
        skipped = new int[n];
    }

    int totalSteps() {
        return totalSteps;
    }

    /**
     * One shadow group's within-group correlations per recorded step: {@code {spearman, pearson}}, each indexed like
     * {@code proxies} (one value per row after one step; for the steps 1..T-1, index step - 1), against {@code finals}.
     */
    static double[][] curve(double[][] proxies, double[] finals) {
        double[] sp = new double[proxies.length];
        double[] pe = new double[proxies.length];
        for (int i = 0; i < proxies.length; i++) {
            if (proxies[i].length != finals.length) {
                throw new IllegalArgumentException("the previews of recorded step " + i + " have " + proxies[i].length
                        + " values, expected one per row (" + finals.length + ")");
            }
            sp[i] = Correlation.spearman(proxies[i], finals);
            pe[i] = Correlation.pearson(proxies[i], finals);
        }
        return new double[][] {sp, pe};
    }

    /**
     * Adds one shadow group: its Spearman and Pearson per step (index step - 1), NaN where undefined.
     *
     * @throws IllegalArgumentException when a curve does not have T - 1 values or a value is neither NaN nor in [-1, 1]
     */
    void add(double[] spearman, double[] pearson) {
        int n = totalSteps - 1;
        if (spearman == null || pearson == null || spearman.length != n || pearson.length != n) {
            throw new IllegalArgumentException("a shadow group's curve needs " + n + " Spearman and " + n + " Pearson values (steps 1.."
                    + n + "), got " + (spearman == null ? "null" : spearman.length) + " and " + (pearson == null ? "null" : pearson.length));
        }
        for (int i = 0; i < n; i++) {
            check("Spearman", i + 1, spearman[i]);
            check("Pearson", i + 1, pearson[i]);
        }
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(spearman[i])) {
                skipped[i]++;
            } else {
                spearmanGroups[i]++;
                spearmanSum[i] += spearman[i];
            }
            if (!Double.isNaN(pearson[i])) {
                pearsonGroups[i]++;
                pearsonSum[i] += pearson[i];
            }
        }
        shadowGroups++;
    }

    private static void check(String what, int step, double v) {
        // a correlation computed in double may pass 1 by a rounding error
        if (!Double.isNaN(v) && !(v >= -1 - 1e-9 && v <= 1 + 1e-9)) {
            throw new IllegalArgumentException("a " + what + " correlation at step " + step + " must be in [-1, 1] or NaN, got " + v);
        }
    }

    /** The mean Spearman per step (index step - 1), NaN at a step without a defined value. */
    double[] spearman() {
        return means(spearmanSum, spearmanGroups);
    }

    /** The mean Pearson per step (index step - 1), NaN at a step without a defined value. */
    double[] pearson() {
        return means(pearsonSum, pearsonGroups);
    }

    private static double[] means(double[] sum, int[] count) {
        double[] m = new double[sum.length];
        for (int i = 0; i < m.length; i++) m[i] = count[i] == 0 ? Double.NaN : sum[i] / count[i];
        return m;
    }

    /** Shadow groups whose Spearman at {@code step} was defined. */
    int groups(int step) {
        return spearmanGroups[index(step)];
    }

    /** Shadow groups whose Spearman at {@code step} was undefined (a constant side) and was skipped. */
    int skipped(int step) {
        return skipped[index(step)];
    }

    /** Shadow groups added. */
    int shadowGroups() {
        return shadowGroups;
    }

    /** Whether some step has a defined mean (else the chooser has nothing to go on). */
    boolean hasEstimate() {
        return Arrays.stream(spearmanGroups).anyMatch(c -> c > 0);
    }

    private int index(int step) {
        if (step < 1 || step >= totalSteps) throw new IllegalArgumentException("step must be in [1, " + (totalSteps - 1) + "], got " + step);
        return step - 1;
    }

    /** The running means per step, for the metrics: {@code [{step, spearman, pearson, groups, skipped}]}, null for NaN. */
    List<Map<String, Object>> toMetrics() {
        double[] sp = spearman();
        double[] pe = pearson();
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < sp.length; i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", i + 1);
            m.put("spearman", Double.isNaN(sp[i]) ? null : sp[i]);
            m.put("pearson", Double.isNaN(pe[i]) ? null : pe[i]);
            m.put("groups", spearmanGroups[i]);
            m.put("skipped", skipped[i]);
            out.add(m);
        }
        return out;
    }

    /**
     * The state a checkpoint keeps: {@code {total_steps, shadow_groups, steps: [{step, spearman_groups, spearman_sum,
     * pearson_groups, pearson_sum, skipped}]}} (JSON numbers: a double's shortest decimal reads back to the same bits).
     */
    Map<String, Object> state() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total_steps", totalSteps);
        m.put("shadow_groups", shadowGroups);
        List<Map<String, Object>> steps = new ArrayList<>();
        for (int i = 0; i < totalSteps - 1; i++) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("step", i + 1);
            s.put("spearman_groups", spearmanGroups[i]);
            s.put("spearman_sum", spearmanSum[i]);
            s.put("pearson_groups", pearsonGroups[i]);
            s.put("pearson_sum", pearsonSum[i]);
            s.put("skipped", skipped[i]);
            steps.add(s);
        }
        m.put("steps", steps);
        return m;
    }

    /**
     * The estimate a {@link #state()} describes, for a sampler of {@code totalSteps} steps.
     *
     * @throws IllegalArgumentException naming the field, what was expected and what came
     */
    static ScheduleAgreement fromState(JsonNode n, int totalSteps) {
        if (n == null || !n.isObject()) throw bad("schedule_agreement", "an object", n);
        JsonNode t = n.get("total_steps");
        if (t == null || !t.isIntegralNumber() || t.intValue() != totalSteps) {
            throw bad("schedule_agreement.total_steps", "the sampler's T = " + totalSteps + " (the estimate is per step)", t);
        }
        ScheduleAgreement a = new ScheduleAgreement(totalSteps);
        a.shadowGroups = count(n.get("shadow_groups"), "schedule_agreement.shadow_groups");
        JsonNode steps = n.get("steps");
        if (steps == null || !steps.isArray() || steps.size() != totalSteps - 1) {
            throw bad("schedule_agreement.steps", "an array of " + (totalSteps - 1) + " steps", steps);
        }
        for (int i = 0; i < totalSteps - 1; i++) {
            JsonNode s = steps.get(i);
            String at = "schedule_agreement.steps[" + i + "]";
            if (s == null || !s.isObject()) throw bad(at, "an object", s);
            JsonNode step = s.get("step");
            if (step == null || !step.isIntegralNumber() || step.intValue() != i + 1) throw bad(at + ".step", "" + (i + 1), step);
            a.spearmanGroups[i] = count(s.get("spearman_groups"), at + ".spearman_groups");
            a.spearmanSum[i] = sum(s.get("spearman_sum"), at + ".spearman_sum", a.spearmanGroups[i]);
            a.pearsonGroups[i] = count(s.get("pearson_groups"), at + ".pearson_groups");
            a.pearsonSum[i] = sum(s.get("pearson_sum"), at + ".pearson_sum", a.pearsonGroups[i]);
            a.skipped[i] = count(s.get("skipped"), at + ".skipped");
            if (a.spearmanGroups[i] + a.skipped[i] != a.shadowGroups) {
                throw bad(at, "spearman_groups + skipped = shadow_groups (" + a.shadowGroups + ")",
                        s.get("spearman_groups") + " + " + s.get("skipped"));
            }
        }
        return a;
    }

    private static int count(JsonNode v, String field) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) throw bad(field, "an integer >= 0", v);
        return v.intValue();
    }

    private static double sum(JsonNode v, String field, int groups) {
        if (v == null || !v.isNumber() || !(Math.abs(v.doubleValue()) <= groups * (1 + 1e-9))) {
            throw bad(field, "a number in [-" + groups + ", " + groups + "] (a sum of " + groups + " correlations)", v);
        }
        return v.doubleValue();
    }

    private static IllegalArgumentException bad(String field, String expected, Object got) {
        return new IllegalArgumentException("'" + field + "' must be " + expected + ", got " + (got == null ? "no such field" : got));
    }
}
