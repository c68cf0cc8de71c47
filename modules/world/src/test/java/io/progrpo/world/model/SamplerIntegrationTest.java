package io.progrpo.world.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.DdimSampler;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.SamplingLoop;
import io.progrpo.sampler.Trajectory;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.PromptSet;
import io.progrpo.world.Renderer;
import io.progrpo.world.Tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The model as the GRPO loop drives it: through the sampler SPI, with guidance, and back-propagated log-probs. */
@ExtendWith(SingleThreadedTorch.class)
class SamplerIntegrationTest {
    static final int B = 3;

    static void sampleAndBackprop(Parameterization p, Sampler sampler, boolean detachUnconditional) {
        WorldModelConfig cfg = new WorldModelConfig(16, 8, Tokenizer.vocabularySize(), Tokenizer.SEQUENCE_LENGTH, p);
        try (WorldModel m = new WorldModel(cfg, 1); Generator g = Generator.create(4); Scope s = Scope.open()) {
            Pretrainer.pretrain(m, PromptSet.all(), new Renderer(), PretrainOptions.DEFAULTS.withSteps(3).withBatchSize(4)
                    .withWarmupSteps(1).withLogEvery(0), null);
            long[] ids = Tokenizer.encode(PromptSet.all().subList(0, B));
            Tensor cond = Tensor.of(ids, B, Tokenizer.SEQUENCE_LENGTH);
            Tensor uncond = Tensor.zeros(DType.INT64, Device.CPU, Tokenizer.SEQUENCE_LENGTH);
            var guided = new ClassifierFreeGuidance(m, 3.0, uncond, detachUnconditional);
            try (Trajectory traj = SamplingLoop.run(sampler, guided, Tensor.randn(g, B, 3, 16, 16), cond, g)) {
                Tensor x0 = traj.finalLatents();
                assertArrayEquals(new long[] {B, 3, 16, 16}, x0.shape());
                for (float v : x0.toFloatArray()) assertTrue(Float.isFinite(v));
                int k = traj.stepsStored() - 1;
                while (k >= 0 && traj.logProb(k) == null) k--;
                assertTrue(k >= 0, "a stochastic step was stored");
                try (LogProbResult lp = sampler.logProb(guided, traj.latents(k), traj.nextLatents(k), cond, traj.stepIndex(k))) {
                    assertArrayEquals(traj.logProb(k).toFloatArray(), lp.logProb().toFloatArray(), 1e-4f,
                            "recomputed log-prob matches the sampling-time one");
                    m.parameters().forEach(Tensor::zeroGrad);
                    lp.logProb().mean().backward();
                }
                Tensor grad = m.namedParameters().get("stem.weight").grad();
                assertNotNull(grad, "the log-prob reaches the model's parameters");
                assertTrue(grad.abs().sum().item() > 0, "non-zero gradient");
            }
        }
    }

    @Test
    void flowSdeSamplingWithGuidanceBackpropagatesIntoTheModel() {
        sampleAndBackprop(Parameterization.VELOCITY, FlowSdeSampler.sde(4, 1.0), true);
    }

    @Test
    void ddimSamplingWithGuidanceBackpropagatesIntoTheModel() {
        sampleAndBackprop(Parameterization.EPSILON, new DdimSampler(Pretrainer.TRAIN_SCHEDULE, 4, 1.0), false);
    }

    @Test
    void bfloat16ModelSamplesThroughTheSampler() {
        WorldModelConfig cfg = new WorldModelConfig(16, 8, Tokenizer.vocabularySize(), Tokenizer.SEQUENCE_LENGTH, Parameterization.VELOCITY);
        try (WorldModel m = new WorldModel(cfg, 1); Generator g = Generator.create(4); Scope s = Scope.open()) {
            WorldModelTest.randomiseOutput(m, 2);
            m.to(Device.CPU, DType.BFLOAT16);
            Tensor cond = Tensor.of(Tokenizer.encode(PromptSet.all().subList(0, B)), B, Tokenizer.SEQUENCE_LENGTH);
            try (Trajectory traj = SamplingLoop.run(FlowSdeSampler.ode(3, 1.0), m, Tensor.randn(g, B, 3, 16, 16), cond, g)) {
                assertEquals(DType.FLOAT32, traj.finalLatents().dtype());
                for (float v : traj.finalLatents().toFloatArray()) assertTrue(Float.isFinite(v));
            }
        }
    }
}
