package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.trainer.config.Method;
import org.junit.jupiter.api.Test;

import java.util.Map;

/**
 * The trainer's micro-batches run over (trained step, row) pairs, so one forward mixes rows of several timesteps. The
 * objective must not depend on how the pairs are cut: each prompt group's loss is its mean over rows and trained
 * steps. One epoch with one pair per forward (what per-step micro-batches of one row did), with micro-batches that
 * straddle step boundaries unevenly, and with the whole group in one forward must give the same pre-clip gradient
 * norm (which sees the loss scale) and the same parameters (which see its direction), with and without the KL term.
 */
class MicroBatchInvarianceTest {
    /** v = w x + u t + b: the output depends on each row's time, so a row evaluated at the wrong step would show. */
    static final class AffineVelocity extends Module implements VelocityModel {
        AffineVelocity(double w, double u, double b) {
            registerParameter("w", Tensor.full(w, DType.FLOAT32, Device.CPU, 1));
            registerParameter("u", Tensor.full(u, DType.FLOAT32, Device.CPU, 1));
            registerParameter("b", Tensor.full(b, DType.FLOAT32, Device.CPU, 1));
        }

        @Override
        public Tensor predict(Tensor x, Tensor t, Tensor cond) {
            try (Scope s = Scope.open()) {
                Tensor tt = t.reshape(x.size(0), 1, 1, 1);
                return s.keep(x.mul(parameter("w")).add(tt.mul(parameter("u"))).add(parameter("b")));
            }
        }
    }

    private record Outcome(double gradNorm, double kl, double[] params) {}

    private static Outcome oneEpoch(int microBatch, double beta) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 4.5, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, beta,
                0.05, 0.9, 0.999, 0, 1e9, microBatch, 0, Device.CPU);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                PruneSchedule.none(8, 5), SubsetStrategy.byName("ovf"), false);
        try (AffineVelocity policy = new AffineVelocity(0.1, 0.2, 0.0); AffineVelocity ref = new AffineVelocity(0.0, 0.1, 0.05);
             GrpoTrainer t = new GrpoTrainer(s, plan, policy, beta > 0 ? ref : null, new LearningDirectionTest.World(),
                     LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            Map<String, Object> m = t.runEpoch(0, new Phases(p -> { }));
            assertEquals(4, ((Number) m.get("trained_steps")).intValue(), "T - 1 trained steps");
            Map<String, Tensor> p = policy.namedParameters();
            return new Outcome(((Number) m.get("grad_norm")).doubleValue(), ((Number) m.get("kl")).doubleValue(),
                    new double[] {p.get("w").item(), p.get("u").item(), p.get("b").item()});
        }
    }

    @Test
    void theObjectiveDoesNotDependOnHowPairsAreBatched() {
        for (double beta : new double[] {0.0, 0.5}) {
            Outcome single = oneEpoch(1, beta);
            assertTrue(single.gradNorm() > 0, "a non-zero gradient, got " + single.gradNorm());
            assertTrue(beta == 0 ? single.kl() == 0 : single.kl() > 0, "the KL term runs exactly when beta > 0: " + single.kl());
            // 8 rows x 4 steps = 32 pairs per group: 5 straddles step boundaries unevenly, 8 is one step per forward,
            // 32 the whole group in one forward
            for (int mb : new int[] {5, 8, 32, 100}) {
                Outcome o = oneEpoch(mb, beta);
                String what = "microBatch " + mb + ", beta " + beta;
                assertEquals(single.gradNorm(), o.gradNorm(), 1e-5 * single.gradNorm(), what + ": gradient norm");
                for (int i = 0; i < 3; i++) assertEquals(single.params()[i], o.params()[i], 1e-6, what + ": parameter " + i);
            }
        }
    }
}
