package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A held-out judge sees exactly the evaluation's images and prompts; its figures land under eval_NAME. */
class HeldOutEvaluationTest {
    @TempDir
    Path tmp;

    /** Records what it was given; its figures: the images' mean (recomputed here from the pixels) and a NaN. */
    static final class Recorder implements HeldOutEvaluation {
        final List<double[]> seen = new ArrayList<>();
        final List<List<String>> prompts = new ArrayList<>();

        @Override
        public String name() {
            return "judge";
        }

        @Override
        public String headline() {
            return "mean";
        }

        @Override
        public Map<String, Double> evaluate(Tensor images, List<String> p) {
            double[] px = images.toDoubleArray();
            seen.add(px);
            prompts.add(p);
            double sum = 0;
            for (double v : px) sum += v;
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("mean", sum / px.length);
            m.put("empty", Double.NaN);
            return m;
        }
    }

    @Test
    void evalSamplesDrawsThatManySamplesOfEveryHeldOutPrompt() throws Exception {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=1", "checkpointEvery=0", "evalEvery=1",
                "evalSamples=3", "outDir=" + tmp));
        Recorder judge = new Recorder();
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, l -> { }).heldOut(judge).run(false);
            assertEquals(List.of("e", "e", "e", "f", "f", "f"), judge.prompts.get(0), "3 samples of each held-out prompt");
            // the three samples of one prompt come from different noise (the fixed seed's consecutive draws)
            double[] px = judge.seen.get(0);
            int per = px.length / 6;
            assertTrue(java.util.Arrays.compare(java.util.Arrays.copyOfRange(px, 0, per), java.util.Arrays.copyOfRange(px, per, 2 * per)) != 0);
            List<Map<String, Object>> rows = MetricsLog.read(tmp.resolve("metrics.jsonl"));
            double mean = 0;
            for (double v : px) mean += v / px.length;
            assertEquals(mean, ((Number) rows.get(0).get("eval_reward")).doubleValue(), 1e-6, "the mean over all 6 samples");
        }
    }

    @Test
    void everyEvaluationIsJudgedOnItsOwnSamples() throws Exception {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=2", "checkpointEvery=0", "evalEvery=1", "outDir=" + tmp));
        Recorder judge = new Recorder();
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            List<String> lines = new ArrayList<>();
            List<Map<String, Object>> h = new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, lines::add)
                    .heldOut(judge).run(false);
            assertEquals(3, h.size(), "before training and after each of 2 epochs");
            assertEquals(3, judge.seen.size());
            List<Map<String, Object>> rows = MetricsLog.read(tmp.resolve("metrics.jsonl"));
            for (int i = 0; i < 3; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> fig = (Map<String, Object>) rows.get(i).get("eval_judge");
                double mean = 0;
                for (double v : judge.seen.get(i)) mean += v;
                mean /= judge.seen.get(i).length;
                assertEquals(mean, ((Number) fig.get("mean")).doubleValue(), 1e-12);
                assertTrue(fig.containsKey("empty"));
                assertNull(fig.get("empty"), "NaN is written as null (JSON has no NaN)");
                assertEquals(judge.prompts.get(0), judge.prompts.get(i), "the same held-out prompts each time");
                // the eval reward (mean pixel) scored the same images the judge saw: their means agree
                assertEquals(mean, ((Number) rows.get(i).get("eval_reward")).doubleValue(), 1e-6);
            }
            assertTrue(lines.stream().anyMatch(l -> l.contains("held-out judge mean")), lines.toString());
        }
    }

    @Test
    void withoutAJudgeTheRowsHaveNoHeldOutEntry() throws Exception {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=1", "checkpointEvery=0", "evalEvery=1", "outDir=" + tmp));
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, s -> { }).run(false);
            for (Map<String, Object> row : MetricsLog.read(tmp.resolve("metrics.jsonl"))) {
                assertFalse(row.keySet().stream().anyMatch(k -> k.startsWith("eval_") && !k.equals("eval_reward")), row.toString());
            }
        }
    }

    @Test
    void aJudgeReturningNullEndsTheRunNamingIt() {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=1", "checkpointEvery=0", "evalEvery=1", "outDir=" + tmp));
        HeldOutEvaluation broken = new HeldOutEvaluation() {
            public String name() { return "broken"; }
            public String headline() { return "x"; }
            public Map<String, Double> evaluate(Tensor images, List<String> prompts) { return null; }
        };
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            TrainingRun run = new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, s -> { }).heldOut(broken);
            Exception e = assertThrows(TrainingRun.TrainingAbortedException.class, () -> run.run(false));
            assertTrue(e.getMessage().contains("'broken'") && e.getMessage().contains("before training"), e.getMessage());
        }
    }
}
