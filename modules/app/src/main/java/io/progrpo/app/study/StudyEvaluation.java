package io.progrpo.app.study;

import io.progrpo.app.job.Jobs;
import io.progrpo.reward.RewardFunction;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.GrpoTrainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The study's evaluation of a job's current policy: the samples {@code GrpoTrainer.evaluate(reward, heldOut, S)}
 * draws (the first {@code evalPrompts} held-out prompts, S rows each, deterministic sampler, the fixed noise seed
 * {@link GrpoTrainer#EVAL_NOISE_SEED}), scored per sample so that the evaluation carries its own measurement error
 * ({@link StudyStats#measurement}); the trainer's evaluate returns the mean only.
 *
 * @param measurement the mean eval reward and its standard errors
 * @param heldOut     the held-out evaluator's figures on the same images (empty without one)
 * @param seconds     wall time of the evaluation
 */
public record StudyEvaluation(StudyStats.Measurement measurement, Map<String, Double> heldOut, double seconds) {
    /** The held-out evaluator's headline figure, NaN where the world has none. */
    public double overall() {
        Double v = heldOut.get("overall");
        return v == null ? Double.NaN : v;
    }

    /** The held-out prompts a job evaluates: the first {@code evalPrompts} of the world's (all when 0). */
    static List<String> prompts(Jobs.Job job) {
        List<String> prompts = job.world().evalPrompts();
        int n = job.config().evalPrompts();
        return n > 0 && n < prompts.size() ? prompts.subList(0, n) : prompts;
    }

    /** Evaluates {@code job}'s policy as it is now with {@code samplesPerPrompt} samples per held-out prompt. */
    public static StudyEvaluation of(Jobs.Job job, int samplesPerPrompt) {
        long t0 = System.nanoTime();
        List<String> rows = new ArrayList<>();
        for (String p : prompts(job)) for (int i = 0; i < samplesPerPrompt; i++) rows.add(p);
        RewardFunction reward = job.reward();
        try (Tensor images = job.trainer().samples(rows, GrpoTrainer.EVAL_NOISE_SEED)) {
            var out = reward.score(images, rows);
            if (out == null) throw new IllegalStateException("reward '" + reward.name() + "' (study evaluation) returned null for "
                    + rows.size() + " images; expected one finite score per image");
            double[] scores = out.check(reward.name(), "study evaluation", rows.size()).scores();
            Map<String, Double> held = job.heldOut() == null ? Map.of() : job.heldOut().evaluate(images, List.copyOf(rows));
            StudyStats.Measurement m = StudyStats.measurement(StudyStats.byPrompt(scores, samplesPerPrompt));
            return new StudyEvaluation(m, new LinkedHashMap<>(held), (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The line evals.jsonl records. */
    Map<String, Object> toRow(int epochs) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("epochs", epochs);
        r.put("eval_reward", measurement.mean());
        r.put("se_noise", finiteOrNull(measurement.seNoise()));
        r.put("se_prompts", finiteOrNull(measurement.sePrompts()));
        r.put("prompts", measurement.prompts());
        r.put("samples_per_prompt", measurement.samplesPerPrompt());
        Map<String, Object> h = new LinkedHashMap<>();
        heldOut.forEach((k, v) -> h.put(k, finiteOrNull(v)));
        r.put("held_out", h);
        r.put("seconds", seconds);
        return r;
    }

    /** The evaluation a line of evals.jsonl recorded. */
    static StudyEvaluation fromRow(Map<String, Object> r) {
        Map<String, Double> h = new LinkedHashMap<>();
        if (r.get("held_out") instanceof Map<?, ?> m) m.forEach((k, v) -> h.put(String.valueOf(k), v instanceof Number n ? n.doubleValue() : Double.NaN));
        return new StudyEvaluation(new StudyStats.Measurement(num(r.get("eval_reward")), num(r.get("se_noise")), num(r.get("se_prompts")),
                (int) num(r.get("prompts")), (int) num(r.get("samples_per_prompt"))), h, num(r.get("seconds")));
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
