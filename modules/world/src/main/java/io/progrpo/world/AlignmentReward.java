package io.progrpo.world;

import io.progrpo.reward.ImageBatch;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardProvider;
import io.progrpo.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark world's reward: {@link PromptAlignment} of each image with its prompt (parsed with
 * {@link Prompt#parse}), a continuous score in [0,1]. Metrics: {@code color}, {@code position}, {@code shape}.
 */
public final class AlignmentReward implements RewardFunction {
    public static final String NAME = "alignment";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RewardOutput score(Tensor images, List<String> prompts) {
        ImageBatch batch = ImageBatch.of(images, NAME);
        if (prompts.size() != batch.count()) {
            throw new IllegalArgumentException("reward '" + NAME + "' got " + batch.count() + " images and " + prompts.size() + " prompts");
        }
        int n = batch.count();
        double[] score = new double[n];
        double[] color = new double[n];
        double[] position = new double[n];
        double[] shape = new double[n];
        for (int i = 0; i < n; i++) {
            PromptAlignment.Details d = PromptAlignment.details(batch.pixels(), batch.offset(i), batch.height(), batch.width(),
                    Prompt.parse(prompts.get(i)));
            score[i] = d.score();
            color[i] = d.color();
            position[i] = d.position();
            shape[i] = d.shape();
        }
        Map<String, double[]> metrics = new LinkedHashMap<>();
        metrics.put("color", color);
        metrics.put("position", position);
        metrics.put("shape", shape);
        return new RewardOutput(score, metrics);
    }

    /** Provider of {@code alignment}. */
    public static final class Provider implements RewardProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "benchmark world: continuous prompt alignment in [0,1] (mean of color, position and shape checks)";
        }

        @Override
        public RewardFunction create() {
            return new AlignmentReward();
        }
    }
}
