package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The evaluation's reward is checked where it enters the trainer, as the sampling rewards are in the driver. */
class EvalRewardCheckTest {
    @TempDir
    Path tmp;

    private static RewardFunction edited(String name, UnaryOperator<double[]> edit) {
        return new RewardFunction() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                double[] r = new double[prompts.size()];
                Arrays.fill(r, 0.5);
                return RewardOutput.of(edit.apply(r));
            }
        };
    }

    @Test
    void aBadEvaluationRewardIsNamedNotAveraged() {
        TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, List.of("pretrainSteps=0", "modelWidth=8", "imageSize=8",
                "evalPrompts=3", "evalSteps=2", "outDir=" + tmp.resolve("run")));
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            long live = MemoryLedger.liveTensors();
            assertEquals(0.5, job.trainer().evaluate(edited("fine", r -> r), 1), 1e-12);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> job.trainer().evaluate(edited("nan", r -> {
                r[1] = Double.NaN;
                return r;
            }), 1));
            assertTrue(e.getMessage().contains("reward 'nan' (evaluation)") && e.getMessage().contains("index 1: NaN"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> job.trainer().evaluate(edited("short", r -> new double[1]), 1));
            assertTrue(e.getMessage().contains("1 scores for 3 images"), e.getMessage());
            assertEquals(live, MemoryLedger.liveTensors(), "the evaluation's images are freed on the error path");
        }
    }
}
