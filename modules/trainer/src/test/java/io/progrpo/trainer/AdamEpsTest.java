package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * {@code adamEps} reaches the optimizer: AdamW's first step moves a parameter by lr g / (|g| + eps) (the moments'
 * bias corrections make m = g and sqrt(v) = |g| at step 1; no weight decay here). Every run below starts from b = 0
 * with the same seed, so they all see the same gradient g; the test recovers |g| from one eps and predicts the step
 * under another in double precision.
 */
class AdamEpsTest {
    static final double LR = 0.05;

    /** b after one epoch (one optimizer step) of flow-grpo on the constant-velocity model under {@code eps}. */
    static double firstStep(double eps) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 1.0, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                LR, 0.9, 0.999, 0, 1.0, 8, 0, Device.CPU, 0, GrpoObjective.KlForm.CODE, 0.75, 1.0, 0.0,
                GrpoObjective.RatioNorm.NONE, DType.FLOAT32, 5, eps, 0);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(4, 1.0, 0.7), FlowSdeSampler.ode(4, 1.0),
                PruneSchedule.none(8, 4), SubsetStrategy.byName("ovf"), false);
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(),
                     LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            t.runEpoch(0, new Phases(p -> { }));
            return policy.namedParameters().get("b").item();
        }
    }

    @Test
    void theFirstStepIsLrTimesGOverAbsGPlusEps() {
        double sign = firstStep(1e-30);
        assertEquals(LR, Math.abs(sign), LR * 1e-5, "with a negligible eps the first step is a sign step of size lr");
        // a large eps: |step| = lr |g| / (|g| + E), so |g| = E |step| / (lr - |step|)
        double big = 1.0;
        double stepBig = firstStep(big);
        assertEquals(Math.signum(sign), Math.signum(stepBig), "eps changes the step's size, not its direction");
        double g = big * Math.abs(stepBig) / (LR - Math.abs(stepBig));
        assertTrue(g > 0 && Math.abs(stepBig) < LR * 0.99, "the big eps must shrink the step: " + stepBig);
        // an eps of |g|'s size halves the step; another one is predicted from the same g
        for (double eps : new double[] {g, 3 * g}) {
            double expected = Math.signum(sign) * LR * g / (g + eps);
            assertEquals(expected, firstStep(eps), Math.abs(expected) * 1e-3, "eps " + eps + " (|g| = " + g + ")");
        }
    }

    @Test
    void theConfigCarriesItAndRefusesNonPositiveValues() {
        TrainConfig d = TrainConfig.resolve(null, null, List.of());
        assertEquals(1e-8, d.adamEps());
        assertEquals(1e-8, GrpoTrainer.Settings.of(d).adamEps());
        assertEquals(5e-6, GrpoTrainer.Settings.of(TrainConfig.resolve(null, null, List.of("adamEps=0.000005"))).adamEps());
        for (String bad : List.of("0", "-0.00000001")) {
            ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, null, List.of("adamEps=" + bad)));
            assertEquals("adamEps", e.field(), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new GrpoTrainer.Settings(5, 2, 1.0, true, 1.0, 1e-4, 5.0,
                GroupAdvantages.StdMode.GROUP, 0, LR, 0.9, 0.999, 0, 1.0, 8, 0, Device.CPU, 0, GrpoObjective.KlForm.CODE, 0.75,
                1.0, 0.0, GrpoObjective.RatioNorm.NONE, DType.FLOAT32, 5, Double.NaN, 0));
    }
}
