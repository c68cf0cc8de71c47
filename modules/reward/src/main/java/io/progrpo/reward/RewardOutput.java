package io.progrpo.reward;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The output of a {@link RewardFunction} on N images: one score per image and optional per-image metrics (for
 * example the parts of a composite score), each an array of length N.
 *
 * <p>The constructor checks the shapes (every metric has as many entries as there are scores) and copies the
 * arrays; {@link #check(String, int)} checks the values against the expected count, naming the reward.
 */
public record RewardOutput(double[] scores, Map<String, double[]> metrics) {
    public RewardOutput {
        Objects.requireNonNull(scores, "scores");
        Objects.requireNonNull(metrics, "metrics");
        scores = scores.clone();
        Map<String, double[]> copy = new LinkedHashMap<>();
        for (var e : metrics.entrySet()) {
            Objects.requireNonNull(e.getKey(), "metric name");
            double[] v = Objects.requireNonNull(e.getValue(), () -> "metric '" + e.getKey() + "'");
            if (v.length != scores.length) {
                throw new IllegalArgumentException("metric '" + e.getKey() + "' has " + v.length + " values, expected one per score ("
                        + scores.length + ")");
            }
            copy.put(e.getKey(), v.clone());
        }
        metrics = Collections.unmodifiableMap(copy);
    }

    /** Scores without metrics. */
    public static RewardOutput of(double... scores) {
        return new RewardOutput(scores, Map.of());
    }

    /** The scores (a copy). */
    @Override
    public double[] scores() {
        return scores.clone();
    }

    /** Metric name to per-image values (copies). */
    @Override
    public Map<String, double[]> metrics() {
        Map<String, double[]> copy = new LinkedHashMap<>();
        metrics.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** Score i without copying. */
    public double score(int i) {
        return scores[i];
    }

    public int size() {
        return scores.length;
    }

    /**
     * This output if it has {@code expected} scores and every score and metric value is finite.
     *
     * @throws IllegalStateException naming the reward, and the index and value of the first bad entry
     */
    public RewardOutput check(String reward, int expected) {
        return check(reward, null, expected);
    }

    /**
     * {@link #check(String, int)}, naming also where the reward was called, e.g. {@code proxy at step 5 of 10} or
     * {@code final}.
     *
     * @param phase where the scores are used, or null
     * @throws IllegalStateException naming the reward, the phase, what was expected and what came
     */
    public RewardOutput check(String reward, String phase, int expected) {
        String who = "reward '" + reward + "'" + (phase == null ? "" : " (" + phase + ")");
        if (scores.length != expected) {
            throw new IllegalStateException(who + " returned " + scores.length + " scores for " + expected
                    + " images; expected one score per image");
        }
        for (int i = 0; i < scores.length; i++) {
            if (!Double.isFinite(scores[i])) {
                throw new IllegalStateException(who + " returned a non-finite score at index " + i + ": " + scores[i]
                        + "; expected finite scores");
            }
        }
        for (var e : metrics.entrySet()) {
            double[] v = e.getValue();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    throw new IllegalStateException(who + " returned a non-finite metric '" + e.getKey() + "' at index "
                            + i + ": " + v[i] + "; expected finite metrics");
                }
            }
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RewardOutput r && Arrays.equals(scores, r.scores) && metricsEqual(metrics, r.metrics);
    }

    private static boolean metricsEqual(Map<String, double[]> a, Map<String, double[]> b) {
        if (!a.keySet().equals(b.keySet())) return false;
        for (var e : a.entrySet()) if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) return false;
        return true;
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(scores);
        for (var e : metrics.entrySet()) h = 31 * h + e.getKey().hashCode() ^ Arrays.hashCode(e.getValue());
        return h;
    }

    @Override
    public String toString() {
        return "RewardOutput[scores=" + Arrays.toString(scores) + ", metrics=" + metrics.keySet() + "]";
    }
}
