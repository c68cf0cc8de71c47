package io.progrpo.world.scene;

import io.progrpo.reward.RewardOutput;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Evaluator results aggregated as GenEval's table: per category the mean success (and the mean continuous score),
 * overall = the mean over the categories that have images (not over images, so the many relation prompts do not
 * outweigh the few single_object ones).
 *
 * @param count   images per category
 * @param success mean success per category (NaN where a category has no image)
 * @param score   mean continuous score per category (NaN likewise)
 */
public record GenEvalTable(Map<Category, Integer> count, Map<Category, Double> success, Map<Category, Double> score) {
    public GenEvalTable {
        count = Map.copyOf(count);
        success = Map.copyOf(success);
        score = Map.copyOf(score);
    }

    /** The table of a list of verdicts. */
    public static GenEvalTable of(List<Evaluation> evals) {
        Category[] cats = new Category[evals.size()];
        double[] s = new double[evals.size()];
        double[] sc = new double[evals.size()];
        for (int i = 0; i < evals.size(); i++) {
            cats[i] = evals.get(i).category();
            s[i] = evals.get(i).success() ? 1 : 0;
            sc[i] = evals.get(i).score();
        }
        return build(cats, s, sc);
    }

    /**
     * The table of a {@code scene_eval} output ({@link SceneEvalReward}: scores and the {@code success} metric) and
     * the prompts it scored.
     */
    public static GenEvalTable of(List<String> prompts, RewardOutput out) {
        double[] s = out.metrics().get("success");
        if (s == null) throw new IllegalArgumentException("the reward output has no 'success' metric (is it scene_eval's?): " + out);
        if (prompts.size() != out.size()) {
            throw new IllegalArgumentException("got " + prompts.size() + " prompts for " + out.size() + " scored images");
        }
        Category[] cats = new Category[prompts.size()];
        for (int i = 0; i < cats.length; i++) cats[i] = ScenePrompt.parse(prompts.get(i)).category();
        return build(cats, s, out.scores());
    }

    private static GenEvalTable build(Category[] cats, double[] success, double[] score) {
        Map<Category, Integer> n = new EnumMap<>(Category.class);
        Map<Category, Double> s = new EnumMap<>(Category.class);
        Map<Category, Double> sc = new EnumMap<>(Category.class);
        for (Category c : Category.values()) {
            n.put(c, 0);
            s.put(c, 0.0);
            sc.put(c, 0.0);
        }
        for (int i = 0; i < cats.length; i++) {
            n.merge(cats[i], 1, Integer::sum);
            s.merge(cats[i], success[i], Double::sum);
            sc.merge(cats[i], score[i], Double::sum);
        }
        for (Category c : Category.values()) {
            int k = n.get(c);
            s.put(c, k == 0 ? Double.NaN : s.get(c) / k);
            sc.put(c, k == 0 ? Double.NaN : sc.get(c) / k);
        }
        return new GenEvalTable(n, s, sc);
    }

    /** The mean success over the categories that have images (GenEval's "Overall"); NaN when none has. */
    public double overall() {
        return overallOf(success);
    }

    /** The mean continuous score over the categories that have images. */
    public double overallScore() {
        return overallOf(score);
    }

    private double overallOf(Map<Category, Double> m) {
        double sum = 0;
        int k = 0;
        for (Category c : Category.values()) {
            if (count.get(c) > 0) {
                sum += m.get(c);
                k++;
            }
        }
        return k == 0 ? Double.NaN : sum / k;
    }

    /** A markdown header row in GenEval's column order. */
    public static String markdownHeader() {
        StringBuilder sb = new StringBuilder("| | Overall |");
        for (Category c : Category.values()) sb.append(' ').append(c.key()).append(" |");
        sb.append("\n|---|---|");
        for (int i = 0; i < Category.values().length; i++) sb.append("---|");
        return sb.toString();
    }

    /** A markdown row of mean successes: "| label | 0.62 | 0.95 | ... |". */
    public String markdownRow(String label) {
        StringBuilder sb = new StringBuilder("| ").append(label).append(" | ").append(fmt(overall())).append(" |");
        for (Category c : Category.values()) sb.append(' ').append(fmt(success.get(c))).append(" |");
        return sb.toString();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }
}
