package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.SamplingLoop;
import io.progrpo.sampler.Trajectory;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The latent world as the GRPO trainer drives it: PromptWorld, decoder, policy through the sampler SPI. */
@ExtendWith(SingleThreadedTorch.class)
class LatentWorldTest {

    static LatentWorld world() {
        LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU);
        LatentPretraining.trainAutoencoder(m.autoencoder(), Tiny.SCENES, Tiny.AE_TRAIN, null);
        LatentPretraining.trainGenerator(m.generator(), m.autoencoder(), Tiny.SCENES, Tiny.GEN_TRAIN, null);
        return new LatentWorld(Tiny.SCENES, m);
    }

    @Test
    void isAPromptWorldWithTokenConditioningANullPromptAndLatentShape() {
        try (LatentWorld w = world(); Scope s = Scope.open()) {
            assertEquals(Tiny.SCENES.trainPrompts(), w.trainPrompts());
            assertEquals(Tiny.SCENES.heldOutPrompts(), w.evalPrompts());
            assertTrue(new HashSet<>(w.trainPrompts()).stream().noneMatch(new HashSet<>(w.evalPrompts())::contains), "held-out prompts are unseen");
            List<String> ps = w.trainPrompts().subList(0, 4);
            Tensor c = w.conditioning(ps, Device.CPU);
            assertEquals(DType.INT64, c.dtype());
            assertArrayEquals(new long[] {4, 3}, c.shape());
            long[] ids = c.toLongArray();
            for (int i = 0; i < 4; i++) {
                long[] want = Tiny.SCENES.encode(ps.get(i));
                for (int k = 0; k < 3; k++) assertEquals(want[k], ids[i * 3 + k]);
            }
            Tensor u = w.unconditional(Device.CPU);
            assertArrayEquals(new long[] {1, 3}, u.shape());
            for (long v : u.toLongArray()) assertEquals(0, v, "the null prompt is all padding");
            assertArrayEquals(new long[] {4, 4, 4}, w.latentShape());
            try (var ng = Autograd.noGrad()) {
                Tensor z = Tensor.zeros(2, 4, 4, 4);
                Tensor img = w.decoder().decode(z);
                assertArrayEquals(new long[] {2, 3, 16, 16}, img.shape());
                assertTrue(img.amin().item() >= 0 && img.amax().item() <= 1);
            }
            assertEquals(LatentAutoencoder.decoderMacsPerImage(Tiny.AE), w.decoderMacsPerImage());
            assertEquals(w.generator().forwardMacsPerRow(), w.forwardMacsPerRow());
        }
    }

    @Test
    void aGuidedSdeChainThroughTheLoraPolicyRecomputesItsLogProbsAndTrainsOnlyAdapters() {
        try (LatentWorld w = world(); LatentPolicy policy = w.policy(TrainingMode.LORA); Scope s = Scope.open();
             Generator g = Generator.create(4)) {
            Tiny.randomise(w.generator(), n -> n.contains("lora_B"), 0.05, 9); // as after some GRPO steps
            List<String> ps = w.trainPrompts().subList(0, 3);
            Tensor cond = w.conditioning(ps, Device.CPU);
            Tensor uncond = w.unconditional(Device.CPU);
            var guided = new ClassifierFreeGuidance(policy, 4.5, uncond, true);
            FlowSdeSampler sampler = FlowSdeSampler.sde(4, 1.0);
            try (Trajectory traj = SamplingLoop.run(sampler, guided, Tensor.randn(g, 3, 4, 4, 4), cond, g)) {
                assertArrayEquals(new long[] {3, 4, 4, 4}, traj.finalLatents().shape());
                try (var ng = Autograd.noGrad()) {
                    Tensor img = w.decoder().decode(traj.finalLatents());
                    assertArrayEquals(new long[] {3, 3, 16, 16}, img.shape());
                }
                int k = 1;
                try (LogProbResult lp = sampler.logProb(guided, traj.latents(k), traj.nextLatents(k), cond, traj.stepIndex(k))) {
                    assertArrayEquals(traj.logProb(k).toFloatArray(), lp.logProb().toFloatArray(), 1e-6f,
                            "the log-prob recomputed with gradient equals the sampling-time one");
                    lp.logProb().mean().backward();
                }
            }
            Map<String, Tensor> mine = policy.namedParameters();
            assertTrue(mine.values().stream().anyMatch(t -> t.grad() != null && t.grad().abs().sum().item() > 0), "adapters get gradients");
            w.generator().namedParameters().forEach((n, t) -> {
                if (!n.contains("lora_")) assertTrue(t.grad() == null, n + " is frozen");
            });
            w.textEncoder().parameters().forEach(t -> assertTrue(t.grad() == null, "the text encoder is frozen"));
            w.models().autoencoder().parameters().forEach(t -> assertTrue(t.grad() == null, "the autoencoder is frozen"));
        }
    }

    @Test
    void loadOrPretrainGivesAWorkingWorld(@TempDir Path dir) {
        try (LatentWorld w = LatentWorld.loadOrPretrain(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, null); Scope s = Scope.open();
             var ng = Autograd.noGrad()) {
            Tensor v = w.generator().predict(Tensor.zeros(1, 4, 4, 4), Tensor.zeros(1), w.unconditional(Device.CPU));
            assertNotNull(v);
            assertTrue(w.toString().contains("embedded-world"), w.toString());
        }
    }

    @Test
    void scenesThatDoNotFitTheModelsAreRejected() {
        try (LatentModels m = LatentModels.fresh(Tiny.CONFIG, Device.CPU)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LatentWorld(new EmbeddedScenes(32), m));
            assertTrue(e.getMessage().contains("do not fit the models"), e.getMessage());
        }
    }
}
