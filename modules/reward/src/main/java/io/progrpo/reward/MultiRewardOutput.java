package io.progrpo.reward;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The result of a {@link MultiReward}: the combined score per image, each reward's own output and, for
 * {@link MultiReward.Aggregation#ADVANTAGE_SUM}, each reward's group-normalised advantages.
 *
 * @param scores     combined score per image
 * @param perReward  reward name to its output (raw scores and metrics), in the multi-reward's order
 * @param advantages reward name to A_r (empty for WEIGHTED_SUM)
 */
public record MultiRewardOutput(double[] scores, Map<String, RewardOutput> perReward, Map<String, double[]> advantages,
                                MultiReward.Aggregation aggregation) {
    public MultiRewardOutput {
        Objects.requireNonNull(scores, "scores");
        Objects.requireNonNull(perReward, "perReward");
        Objects.requireNonNull(advantages, "advantages");
        Objects.requireNonNull(aggregation, "aggregation");
        scores = scores.clone();
        for (int i = 0; i < scores.length; i++) {
            if (!Double.isFinite(scores[i])) throw new IllegalStateException("multi-reward score at index " + i + " is not finite: " + scores[i]);
        }
        perReward = Collections.unmodifiableMap(new LinkedHashMap<>(perReward));
        Map<String, double[]> adv = new LinkedHashMap<>();
        advantages.forEach((k, v) -> adv.put(k, v.clone()));
        advantages = Collections.unmodifiableMap(adv);
    }

    @Override
    public double[] scores() {
        return scores.clone();
    }

    /** Raw scores of one reward. */
    public double[] raw(String reward) {
        RewardOutput o = perReward.get(reward);
        if (o == null) throw new IllegalArgumentException("no reward '" + reward + "' in this output; have " + perReward.keySet());
        return o.scores();
    }

    /**
     * What a run logs: "&lt;reward&gt;/mean" and "&lt;reward&gt;/std" (population std) of every reward's raw scores, the
     * mean of each of its metrics as "&lt;reward&gt;/&lt;metric&gt;", and "total/mean", "total/std" of the combined score.
     */
    public Map<String, Double> summary() {
        Map<String, Double> out = new LinkedHashMap<>();
        perReward.forEach((name, o) -> {
            double[] s = o.scores();
            out.put(name + "/mean", mean(s));
            out.put(name + "/std", std(s));
            o.metrics().forEach((m, v) -> out.put(name + "/" + m, mean(v)));
        });
        out.put("total/mean", mean(scores));
        out.put("total/std", std(scores));
        return out;
    }

    static double mean(double[] v) {
        if (v.length == 0) return 0;
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    static double std(double[] v) {
        if (v.length == 0) return 0;
        double m = mean(v);
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / v.length);
    }
}
