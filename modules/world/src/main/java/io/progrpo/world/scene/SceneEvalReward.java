package io.progrpo.world.scene;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardProvider;
import io.progrpo.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rule-based evaluator as a reward ({@code scene_eval}): the {@link SceneEvaluator}'s continuous score in
 * [0, 1] for each image and its prompt (a text of the scene grammar). Metrics per image: {@code success} (GenEval's
 * binary rule, 0 or 1) and {@code category} (the prompt's {@link Category} ordinal); {@link GenEvalTable#of(List,
 * RewardOutput)} turns them into the per-category table. Meant for held-out evaluation, not for training.
 */
public final class SceneEvalReward implements RewardFunction {
    public static final String NAME = "scene_eval";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RewardOutput score(Tensor images, List<String> prompts) {
        List<Evaluation> evals = SceneEvaluator.evaluate(images, prompts);
        int n = evals.size();
        double[] score = new double[n];
        double[] success = new double[n];
        double[] category = new double[n];
        for (int i = 0; i < n; i++) {
            score[i] = evals.get(i).score();
            success[i] = evals.get(i).success() ? 1 : 0;
            category[i] = evals.get(i).category().ordinal();
        }
        Map<String, double[]> metrics = new LinkedHashMap<>();
        metrics.put("success", success);
        metrics.put("category", category);
        return new RewardOutput(score, metrics);
    }

    /** Provider of {@code scene_eval}. */
    public static final class Provider implements RewardProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "scene world: rule-based compositional evaluator (GenEval-style), partial-credit score in [0,1], metric 'success'";
        }

        @Override
        public RewardFunction create() {
            return new SceneEvalReward();
        }
    }
}
