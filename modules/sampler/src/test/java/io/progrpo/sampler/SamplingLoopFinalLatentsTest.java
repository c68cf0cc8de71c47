package io.progrpo.sampler;

import static io.progrpo.sampler.FlowSdeSamplerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * {@link SamplingLoop#finalLatents}, the chain without a trajectory that evaluation and figures use: the same x_0 as
 * the recording loop, bit for bit, for stochastic and deterministic samplers; nothing of the chain stays alive but the
 * result; the noise stays the caller's; bad input is named.
 */
class SamplingLoopFinalLatentsTest {
    private static final BetaSchedule BETAS = BetaSchedule.stableDiffusion();

    record Case(String name, Sampler sampler, VelocityModel model) {}

    private static List<Case> cases() {
        return List.of(
                new Case("flow SDE", FlowSdeSampler.sde(6, 3.0), GaussianWorld.flowVelocity()),
                new Case("flow ODE", FlowSdeSampler.ode(5, 1.0), GaussianWorld.flowVelocity()),
                new Case("DDIM eta 1", new DdimSampler(BETAS, 7, 1.0), GaussianWorld.ddimEpsilon(BETAS)),
                new Case("DDIM eta 0", new DdimSampler(BETAS, 4, 0.0), GaussianWorld.ddimEpsilon(BETAS)));
    }

    @Test
    void theSameFinalLatentsAsTheRecordingLoopBitForBit() {
        for (Case c : cases()) {
            for (long seed : new long[] {1, 2, 3}) {
                float[] recorded;
                try (Generator gen = Generator.create(seed); Tensor noise = Tensor.randn(gen, 5, GaussianWorld.DIMS);
                     Trajectory t = SamplingLoop.run(c.sampler(), c.model(), noise, null, gen)) {
                    recorded = t.finalLatents().toFloatArray();
                }
                try (Generator gen = Generator.create(seed); Tensor noise = Tensor.randn(gen, 5, GaussianWorld.DIMS)) {
                    float[] before = noise.toFloatArray();
                    try (Tensor x0 = SamplingLoop.finalLatents(c.sampler(), c.model(), noise, null, gen)) {
                        assertArrayEquals(recorded, x0.toFloatArray(), c.name() + " seed " + seed);
                    }
                    assertFalse(noise.isClosed(), c.name() + ": the noise stays the caller's");
                    assertArrayEquals(before, noise.toFloatArray(), c.name() + ": the noise is not written");
                }
            }
        }
    }

    @Test
    void onlyTheResultStaysAlive() {
        for (Case c : cases()) {
            try (Generator gen = Generator.create(9); Tensor noise = Tensor.randn(gen, 3, GaussianWorld.DIMS)) {
                long live = MemoryLedger.liveTensors();
                try (Tensor x0 = SamplingLoop.finalLatents(c.sampler(), c.model(), noise, null, gen)) {
                    assertEquals(live + 1, MemoryLedger.liveTensors(), c.name() + ": one new tensor, x_0");
                    assertEquals(3, x0.size(0));
                }
                assertEquals(live, MemoryLedger.liveTensors(), c.name());
                // inside a scope the result belongs to the scope
                try (Scope s = Scope.open()) {
                    Tensor x0 = SamplingLoop.finalLatents(c.sampler(), c.model(), noise, null, gen);
                    assertFalse(x0.isClosed());
                    s.close();
                    assertTrue(x0.isClosed(), c.name() + ": the scope freed the result");
                }
                assertEquals(live, MemoryLedger.liveTensors(), c.name());
            }
        }
    }

    @Test
    void badInputIsNamed() {
        Sampler s = FlowSdeSampler.sde(3, 1.0);
        VelocityModel m = GaussianWorld.flowVelocity();
        try (Generator gen = Generator.create(1); Tensor noise = Tensor.randn(gen, 4, GaussianWorld.DIMS);
             Tensor cond = Tensor.randn(gen, 3, 2)) {
            assertMessage(IllegalArgumentException.class, () -> SamplingLoop.finalLatents(null, m, noise, null, gen), "sampler, model and noise");
            assertMessage(IllegalArgumentException.class, () -> SamplingLoop.finalLatents(s, m, noise, cond, gen), "[3, 2]", "4 rows");
            long live = MemoryLedger.liveTensors();
            int[] calls = {0};
            VelocityModel failing = (x, t, c) -> {
                if (++calls[0] == 3) throw new IllegalStateException("model failed at call " + calls[0]);
                return m.predict(x, t, c);
            };
            assertMessage(IllegalStateException.class, () -> SamplingLoop.finalLatents(s, failing, noise, null, gen), "model failed at call 3");
            assertEquals(live, MemoryLedger.liveTensors(), "a step failing after two good ones leaves nothing alive");
            assertFalse(noise.isClosed());
        }
    }
}
