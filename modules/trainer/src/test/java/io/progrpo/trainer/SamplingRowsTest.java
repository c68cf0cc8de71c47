package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code samplingRows}: the sampling forwards and decodes of an epoch run in chunks of at most that many rows, and the
 * epoch is the one of a single batch (rewards, loss, gradient, parameters, evaluation), only its peak memory changes.
 */
class SamplingRowsTest {
    private record Outcome(Map<String, Object> metrics, double[] params, double eval, List<Long> decodes) {}

    private static Outcome oneEpoch(int samplingRows) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 4.5, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1e9, 8, 0, Device.CPU, 0, GrpoObjective.KlForm.CODE, 0.75, 1.0, 0.0,
                GrpoObjective.RatioNorm.NONE, DType.FLOAT32, 5, 1e-8, samplingRows);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                PruneSchedule.none(8, 5), SubsetStrategy.byName("ovf"), false);
        List<Long> decodes = new ArrayList<>();
        Decoder decoder = x -> {
            decodes.add(x.size(0));
            return x.clamp(-1e6, 1e6);
        };
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(),
                     LearningDirectionTest.meanPixel(Double.MAX_VALUE), decoder)) {
            Map<String, Object> m = t.runEpoch(0, new Phases(p -> { }));
            List<Long> epochDecodes = List.copyOf(decodes);
            double eval = t.evaluate(LearningDirectionTest.meanPixel(Double.MAX_VALUE), 3);
            Map<String, Tensor> p = policy.namedParameters();
            return new Outcome(m, new double[] {p.get("w").item(), p.get("u").item(), p.get("b").item()}, eval, epochDecodes);
        }
    }

    @Test
    void chunksTheSamplingDecodesAndLeavesTheEpochAsInOneBatch() {
        Outcome whole = oneEpoch(0);
        assertEquals(List.of(16L), whole.decodes(), "2 groups x 8 rows decoded in one batch");
        assertTrue(((Number) whole.metrics().get("grad_norm")).doubleValue() > 0, "the epoch trained: " + whole.metrics());
        for (int rows : new int[] {3, 8, 16}) {
            Outcome c = oneEpoch(rows);
            List<Long> expected = new ArrayList<>();
            for (long left = 16; left > 0; left -= rows) expected.add(Math.min(rows, left));
            assertEquals(expected, c.decodes(), "samplingRows " + rows + ": decodes of at most that many latents");
            for (String key : new String[] {"reward_mean", "reward_std", "within_group_std", "loss", "grad_norm", "nfe_sampling", "trajectory_bytes"}) {
                assertEquals(whole.metrics().get(key), c.metrics().get(key), "samplingRows " + rows + ": " + key + " as in one batch");
            }
            assertArrayEquals(whole.params(), c.params(), 0.0, "samplingRows " + rows + ": the same update, bit for bit");
            assertEquals(whole.eval(), c.eval(), 0.0, "samplingRows " + rows + ": the same evaluation (6 rows)");
        }
    }

    @Test
    void refusesANegativeCountInTheSettingsAndTheConfig() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> oneEpoch(-1));
        assertTrue(e.getMessage().contains("samplingRows must be >= 0") && e.getMessage().contains("got -1"), e.getMessage());
        ConfigException c = assertThrows(ConfigException.class,
                () -> TrainConfig.resolve("flow-grpo", null, List.of("samplingRows=-2")));
        assertTrue(c.getMessage().contains("samplingRows") && c.getMessage().contains("-2"), c.getMessage());
        assertEquals(0, TrainConfig.resolve("flow-grpo", null, List.of()).samplingRows(), "the default: the whole batch at once");
        assertEquals(192, TrainConfig.resolve("flow-grpo", null, List.of("samplingRows=192")).samplingRows());
    }
}
