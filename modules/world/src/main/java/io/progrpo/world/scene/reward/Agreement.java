package io.progrpo.world.scene.reward;

import io.progrpo.reward.Correlation;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.scene.Neighbours;
import io.progrpo.world.scene.SceneEvaluator;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneRenderer;
import io.progrpo.world.scene.SceneSplit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * How well the learned reward agrees with the rule-based evaluator: Spearman's rank correlation of the two scores
 * over (image, prompt) pairs pooled across prompts.
 */
public final class Agreement {
    /**
     * The measurement on rendered held-out scenes: for each of {@code split.evalPrompts(perCategory)}, one
     * ground-truth image and {@code negatives} renderings of random one-attribute neighbours, each scored with the
     * prompt by both.
     *
     * @param spearman        pooled over every image
     * @param truthFirst      the fraction of prompts whose ground truth the learned reward ranks above all its negatives
     * @param images          images scored
     */
    public record Result(double spearman, double truthFirst, int images, int prompts) {
    }

    private Agreement() {
    }

    public static Result onHeldOut(SceneRewardModel m, SceneSplit split, int perCategory, int negatives, long seed) {
        SceneRenderer r = new SceneRenderer(m.config().imageSize());
        Random rnd = new Random(seed);
        List<ScenePrompt> prompts = split.evalPrompts(perCategory);
        int per = 1 + negatives;
        int px = r.imageSize();
        int n = prompts.size() * per;
        float[] all = new float[n * px];
        List<String> captions = new ArrayList<>(n);
        double[] eval = new double[n];
        for (int i = 0; i < prompts.size(); i++) {
            ScenePrompt p = prompts.get(i);
            for (int k = 0; k < per; k++) {
                ScenePrompt drawn = k == 0 ? p : Neighbours.random(p, rnd).prompt();
                float[] img = r.render(drawn, rnd);
                System.arraycopy(img, 0, all, (i * per + k) * px, px);
                captions.add(p.text());
                eval[i * per + k] = SceneEvaluator.evaluate(img, r.size(), p).score();
            }
        }
        double[] learned;
        try (Scope scope = Scope.open()) {
            learned = m.score(Tensor.of(all, n, 3, r.size(), r.size()), captions);
        }
        int first = 0;
        for (int i = 0; i < prompts.size(); i++) {
            boolean top = true;
            for (int k = 1; k < per; k++) top &= learned[i * per] > learned[i * per + k];
            if (top) first++;
        }
        return new Result(spearman(eval, learned), (double) first / prompts.size(), n, prompts.size());
    }

    /** Spearman's rho: the Pearson correlation of the ranks (ties get their mean rank); NaN when either is constant. */
    public static double spearman(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("spearman needs equal lengths, got " + x.length + " and " + y.length);
        return pearson(ranks(x), ranks(y));
    }

    /** Ranks 0..n-1 in ascending order, tied values sharing their mean rank. */
    static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) j++;
            for (int k = i; k <= j; k++) r[idx[k]] = (i + j) / 2.0;
            i = j + 1;
        }
        return r;
    }

    /** {@link Correlation#pearson}: one Pearson in the project. */
    static double pearson(double[] x, double[] y) {
        return Correlation.pearson(x, y);
    }
}
