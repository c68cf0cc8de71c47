package io.progrpo.trainer;

import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.trainer.config.Method;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * GRPO on a reward a one-parameter policy can trivially satisfy: the policy's velocity is a learned constant b, so the
 * clean sample is noise - b, and the reward is the mean pixel. Training must lower b and raise the reward.
 */
class LearningDirectionTest {
    /** v = b everywhere. */
    static final class ConstantVelocity extends Module implements VelocityModel {
        ConstantVelocity() {
            registerParameter("b", Tensor.zeros(1));
        }

        @Override
        public Tensor predict(Tensor x, Tensor t, Tensor cond) {
            try (Scope s = Scope.open()) {
                return s.keep(x.mul(0).add(parameter("b")));
            }
        }
    }

    static final class World implements PromptWorld {
        @Override
        public List<String> trainPrompts() {
            return List.of("a", "b", "c", "d");
        }

        @Override
        public List<String> evalPrompts() {
            return List.of("e", "f");
        }

        @Override
        public Tensor conditioning(List<String> prompts, Device device) {
            return Tensor.zeros(DType.INT64, device, prompts.size(), 1);
        }

        @Override
        public Tensor unconditional(Device device) {
            return Tensor.zeros(DType.INT64, device, 1, 1);
        }

        @Override
        public long[] latentShape() {
            return new long[] {3, 2, 2};
        }
    }

    static RewardFunction meanPixel(double nanAfterCalls) {
        return new RewardFunction() {
            int calls;

            @Override
            public String name() {
                return "mean_pixel";
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                if (++calls > nanAfterCalls) {
                    double[] bad = new double[prompts.size()];
                    bad[1] = Double.NaN;
                    return new RewardOutput(bad, Map.of()).check(name(), prompts.size());
                }
                try (Scope s = Scope.open()) {
                    return RewardOutput.of(images.reshape(images.size(0), -1).mean(false, 1).toDoubleArray());
                }
            }
        };
    }

    static GrpoTrainer trainer(ConstantVelocity policy, RewardFunction reward) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 1.0, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 8, 0, Device.CPU);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(4, 1.0, 0.7), FlowSdeSampler.ode(4, 1.0),
                PruneSchedule.none(8, 4), SubsetStrategy.byName("ovf"), false);
        return new GrpoTrainer(s, plan, policy, null, new World(), reward, x -> x.clamp(-1e6, 1e6));
    }

    @Test
    void rewardRisesOnATriviallySatisfiableReward() {
        try (ConstantVelocity policy = new ConstantVelocity(); GrpoTrainer t = trainer(policy, meanPixel(Double.MAX_VALUE))) {
            RewardFunction r = meanPixel(Double.MAX_VALUE);
            double before = t.evaluate(r, 4);
            for (int e = 0; e < 5; e++) t.runEpoch(e, new Phases(p -> { }));
            double after = t.evaluate(r, 4);
            double b = policy.namedParameters().get("b").item();
            assertTrue(b < -0.1, "b must move down (brighter samples), got " + b);
            assertTrue(after > before + 0.1, "eval reward before " + before + ", after " + after);
            // the ODE clean sample is noise - b exactly, so the reward gain is -b (same eval noise before and after)
            assertEquals(-b, after - before, 1e-4);
        }
    }

    @Test
    void nanRewardAbortsBeforeAnyParameterChanges() {
        try (ConstantVelocity policy = new ConstantVelocity(); GrpoTrainer t = trainer(policy, meanPixel(1))) {
            t.runEpoch(0, new Phases(p -> { }));
            double b = policy.namedParameters().get("b").item();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.runEpoch(1, new Phases(p -> { })));
            assertTrue(e.getMessage().contains("mean_pixel") && e.getMessage().contains("NaN"), e.getMessage());
            assertEquals(b, policy.namedParameters().get("b").item(), "no parameter changed by the aborted epoch");
        }
    }
}
