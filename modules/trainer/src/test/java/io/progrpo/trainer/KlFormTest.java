package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.Device;
import io.progrpo.trainer.config.Method;
import org.junit.jupiter.api.Test;

import java.util.Map;

/**
 * The KL term's two forms (spec section 1): Flow-GRPO's code divides the squared mean gap by 2 std_t^2, the policy
 * form by 2 s_t^2 with s_t = std_t sqrt(-dt). With the same parameters and the same stored transitions (the KL is
 * logged before the epoch's one optimizer step), the code form is the policy form times |dt| of each trained step;
 * |dt| is recomputed here from the shift formula, not read from the sampler.
 */
class KlFormTest {

    private static double epochKl(GrpoObjective.KlForm form, double shift, double trainStepFraction) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 4.5, true, trainStepFraction, 1e-4, 5.0,
                GroupAdvantages.StdMode.GROUP, 0.5, 0.05, 0.9, 0.999, 0, 1e9, 8, 0, Device.CPU, 0, form, 0.75, 1.0);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(5, shift, 0.7), FlowSdeSampler.ode(5, shift),
                PruneSchedule.none(8, 5), SubsetStrategy.byName("ovf"), false);
        try (var policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             var ref = new MicroBatchInvarianceTest.AffineVelocity(0.0, 0.1, 0.05);
             GrpoTrainer t = new GrpoTrainer(s, plan, policy, ref, new LearningDirectionTest.World(),
                     LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            Map<String, Object> m = t.runEpoch(0, new Phases(p -> { }));
            return ((Number) m.get("kl")).doubleValue();
        }
    }

    /** sigma_i of the shifted grid linspace(1, 0, T + 1), k s / (1 + (k - 1) s), in double. */
    private static double sigma(int i, int steps, double k) {
        double u = 1.0 - (double) i / steps;
        return k * u / (1 + (k - 1) * u);
    }

    @Test
    void onAUniformGridTheCodeFormIsThePolicyFormTimesTheStepSize() {
        double policy = epochKl(GrpoObjective.KlForm.POLICY, 1.0, 1.0);
        double code = epochKl(GrpoObjective.KlForm.CODE, 1.0, 1.0);
        assertTrue(policy > 0, "a reference that differs from the policy gives a positive KL, got " + policy);
        assertEquals(0.2 * policy, code, 1e-5 * policy, "dt = -1/5 at every step of T = 5 without shift");
    }

    @Test
    void onAShiftedGridTheRatioIsTheTrainedStepsOwnSize() {
        // trainStepFraction 0.25 of T - 1 = 4 trains the first step only: sigma 1 -> shift(0.8)
        double dt = sigma(1, 5, 3.0) - sigma(0, 5, 3.0);
        double policy = epochKl(GrpoObjective.KlForm.POLICY, 3.0, 0.25);
        double code = epochKl(GrpoObjective.KlForm.CODE, 3.0, 0.25);
        assertEquals(-dt * policy, code, 1e-5 * policy, "|dt| = " + -dt);
    }

    @Test
    void theFormsAreNamedByTheConfigValues() {
        assertEquals(GrpoObjective.KlForm.CODE, GrpoObjective.KlForm.of("code"));
        assertEquals(GrpoObjective.KlForm.POLICY, GrpoObjective.KlForm.of("policy"));
        var e = assertThrows(IllegalArgumentException.class, () -> GrpoObjective.KlForm.of("exact"));
        assertTrue(e.getMessage().contains("'exact'"), e.getMessage());
    }
}
