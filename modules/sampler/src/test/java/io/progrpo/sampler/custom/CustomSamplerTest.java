package io.progrpo.sampler.custom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.SamplingLoop;
import io.progrpo.sampler.Trajectory;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;

import org.junit.jupiter.api.Test;

/** A sampler written outside the package, against the public SPI only, runs through SamplingLoop and Trajectory. */
class CustomSamplerTest {

    @Test
    void userSamplerRunsThroughTheLoop() {
        NoisyEulerSampler s = new NoisyEulerSampler(12, 0.2);
        // data = the constant 2 in every element: v = noise - x0 = (x - 2) / sigma... kept simple: v = x - 2
        VelocityModel model = (x, t, c) -> x.sub(2.0);
        long live = MemoryLedger.liveTensors();
        try (Generator gen = Generator.create(6); Tensor noise = Tensor.randn(gen, 6, 3, 4);
             Trajectory traj = SamplingLoop.run(s, model, noise, null, gen)) {
            assertEquals(12, traj.stepsStored());
            assertEquals(6, traj.rows());
            for (int k = 0; k < traj.stepsStored(); k++) {
                assertEquals(s.time(k), traj.time(k));
                try (LogProbResult re = s.logProb(model, traj.latents(k), traj.nextLatents(k), null, k)) {
                    assertArrayEquals(traj.logProb(k).toFloatArray(), re.logProb().toFloatArray(), "step " + k);
                }
            }
            traj.keepRows(new int[] {3, 0});
            assertEquals(2, traj.finalLatents().size(0));
        }
        assertEquals(live, MemoryLedger.liveTensors());
    }
}
