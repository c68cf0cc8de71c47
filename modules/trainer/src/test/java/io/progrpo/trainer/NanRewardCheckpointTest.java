package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A reward that returns NaN mid-run aborts that epoch with a message naming it; the last good checkpoint is intact. */
class NanRewardCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void abortedEpochLeavesTheLastCheckpointIntact() throws Exception {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=4", "checkpointEvery=1", "evalEvery=0",
                "outDir=" + tmp));
        // two training epochs succeed (one reward call each), the third call returns NaN at index 1
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(2))) {
            TrainingRun run = new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), tmp, s -> { });
            TrainingRun.TrainingAbortedException e = assertThrows(TrainingRun.TrainingAbortedException.class, () -> run.run(false));
            assertTrue(e.getMessage().contains("epoch 2") && e.getMessage().contains("NaN") && e.getMessage().contains("intact"),
                    e.getMessage());
            String state = Files.readString(tmp.resolve("checkpoint").resolve("state.json"));
            assertTrue(state.replace(" ", "").contains("\"epoch\":1"), state);
            Map<String, Tensor> saved = TensorIO.load(tmp.resolve("checkpoint").resolve("policy.pt"));
            try {
                assertEquals(policy.namedParameters().get("b").item(), saved.get("b").item(),
                        "the checkpoint holds the parameters after the last good epoch, which the aborted one did not change");
            } finally {
                saved.values().forEach(Tensor::close);
            }
            assertEquals(2, io.progrpo.trainer.MetricsLog.read(tmp.resolve("metrics.jsonl")).size());
        }
    }

    @Test
    void aFailingEvaluationEndsTheRunWithoutRecordingItsEpoch() throws Exception {
        TrainConfig c = TrainConfig.resolve("flow-grpo", null, List.of("epochs=3", "checkpointEvery=1", "evalEvery=2",
                "outDir=" + tmp));
        // the evaluation reward answers twice (before training, after epoch 1), then NaN after the last epoch
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = LearningDirectionTest.trainer(policy, LearningDirectionTest.meanPixel(Double.MAX_VALUE))) {
            TrainingRun run = new TrainingRun(c, t, LearningDirectionTest.meanPixel(2), tmp, s -> { });
            TrainingRun.TrainingAbortedException e = assertThrows(TrainingRun.TrainingAbortedException.class, () -> run.run(false));
            assertTrue(e.getMessage().contains("evaluation after epoch 2") && e.getMessage().contains("NaN")
                    && e.getMessage().contains("intact"), e.getMessage());
            String state = Files.readString(tmp.resolve("checkpoint").resolve("state.json"));
            assertTrue(state.replace(" ", "").contains("\"epoch\":1"), state);
            // epoch -1 (base model), 0 and 1 were recorded; 2 was not
            assertEquals(3, io.progrpo.trainer.MetricsLog.read(tmp.resolve("metrics.jsonl")).size());
        }
    }
}
