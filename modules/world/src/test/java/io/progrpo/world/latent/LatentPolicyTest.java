package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.optim.AdamW;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** LoRA and full fine-tuning as GRPO sees them: what the policy trains, what stays frozen, the KL reference. */
@ExtendWith(SingleThreadedTorch.class)
class LatentPolicyTest {

    /** A generator whose zero-initialised base layers are random (as after pretraining); the adapters' B stays zero. */
    static LatentFlowTransformer pretrainedLike(TextEncoder te) {
        LatentFlowTransformer g = new LatentFlowTransformer(Tiny.GEN, te, 2);
        Tiny.randomise(g, n -> n.contains("adaLN") || n.contains("finalOut"), 0.2, 4);
        return g;
    }

    static Tensor[] batch(Generator gen) {
        return new Tensor[] {Tensor.randn(gen, 3, 4, 4, 4), Tensor.rand(gen, 3),
                Tiny.ids(Tiny.SCENES.trainPrompts().subList(0, 3).toArray(String[]::new))};
    }

    @Test
    void loraPolicyTrainsOnlyTheAdaptersAndStartsEqualToTheBase() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = pretrainedLike(te);
             LatentPolicy policy = LatentPolicy.of(g, TrainingMode.LORA); LatentPolicy ref = policy.reference();
             Scope s = Scope.open(); Generator gen = Generator.create(3)) {
            Map<String, Tensor> trainable = policy.namedParameters();
            assertEquals(g.adapterParameters().keySet(), trainable.keySet());
            for (String k : trainable.keySet()) assertTrue(k.contains("lora_"), k);
            FlowTransformerConfig c = Tiny.GEN;
            // q, k, v, out of the self- and the cross-attention of every block, each d -> d: r (d + d) values
            long expected = (long) c.depth() * 2 * 4 * c.loraRank() * (2L * c.width());
            assertEquals(expected, policy.parameterCount());
            assertTrue(ref.namedParameters().isEmpty(), "the reference trains nothing");

            Tensor[] in = batch(gen);
            float[] base = g.predict(in[0], in[1], in[2], 0).toFloatArray();
            assertArrayEquals(base, policy.predict(in[0], in[1], in[2]).toFloatArray(), "B = 0: the adapted model equals the base");
            assertArrayEquals(base, ref.predict(in[0], in[1], in[2]).toFloatArray(), "the reference is the base");

            Tensor loss = policy.predict(in[0], in[1], in[2]).square().mean();
            loss.backward();
            for (Map.Entry<String, Tensor> e : g.namedParameters().entrySet()) {
                Tensor grad = e.getValue().grad();
                if (e.getKey().contains("lora_B")) {
                    assertNotNull(grad, e.getKey());
                    assertTrue(grad.abs().sum().item() > 0, e.getKey() + " gets a gradient");
                } else if (!e.getKey().contains("lora_")) {
                    assertFalse(e.getValue().requiresGrad(), e.getKey() + " is frozen");
                    assertTrue(grad == null || grad.abs().sum().item() == 0, e.getKey() + " gets no gradient");
                }
            }
            for (Map.Entry<String, Tensor> e : te.namedParameters().entrySet()) {
                assertFalse(e.getValue().requiresGrad(), "text encoder " + e.getKey() + " is frozen");
                assertTrue(e.getValue().grad() == null, "text encoder " + e.getKey() + " gets no gradient");
            }

            // an optimizer over the policy's parameters moves the generator's adapters in place
            float[] frozenBefore = g.namedParameters().get("block0.fc1.weight").toFloatArray();
            try (AdamW opt = new AdamW(policy.parameters(), new AdamW.Options(1e-2, 0.9, 0.999, 1e-8, 0))) {
                opt.step();
            }
            assertTrue(g.namedParameters().get("block0.selfAttention.q.lora_B").abs().sum().item() > 0, "the step reached the generator");
            assertArrayEquals(frozenBefore, g.namedParameters().get("block0.fc1.weight").toFloatArray(), "base weights unchanged");
            assertFalse(Arrays.equals(base, policy.predict(in[0], in[1], in[2]).toFloatArray()), "the policy moved");
            assertArrayEquals(base, ref.predict(in[0], in[1], in[2]).toFloatArray(), "the adapters-disabled reference did not");
        }
    }

    @Test
    void fullPolicyTrainsTheBaseWeightsAndItsReferenceIsAFrozenCopy() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = pretrainedLike(te);
             LatentPolicy policy = LatentPolicy.of(g, TrainingMode.FULL); LatentPolicy ref = policy.reference();
             Scope s = Scope.open(); Generator gen = Generator.create(3)) {
            Set<String> names = policy.namedParameters().keySet();
            assertEquals(g.trainableParameters(TrainingMode.FULL).keySet(), names);
            assertTrue(names.contains("block0.fc1.weight") && names.stream().noneMatch(n -> n.contains("lora_")), names.toString());
            assertEquals(g.parameterCount() - g.adapterParameters().values().stream().mapToLong(Tensor::numel).sum(), policy.parameterCount());
            Tensor[] in = batch(gen);
            float[] base = g.predict(in[0], in[1], in[2], 0).toFloatArray();
            assertArrayEquals(base, ref.predict(in[0], in[1], in[2]).toFloatArray(), "the copy computes the same");
            policy.predict(in[0], in[1], in[2]).square().mean().backward();
            for (Tensor t : te.parameters()) assertTrue(t.grad() == null, "the text encoder stays frozen");
            try (AdamW opt = new AdamW(policy.parameters(), new AdamW.Options(1e-2, 0.9, 0.999, 1e-8, 0))) {
                opt.step();
            }
            assertFalse(Arrays.equals(base, policy.predict(in[0], in[1], in[2]).toFloatArray()), "the policy moved");
            assertArrayEquals(base, ref.predict(in[0], in[1], in[2]).toFloatArray(), "the frozen copy did not");
            assertTrue(ref.parameters().isEmpty());
        }
    }

    @Test
    void policyMacsFollowWhetherTheAdaptersRun() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = pretrainedLike(te);
             LatentPolicy lora = LatentPolicy.of(g, TrainingMode.LORA); LatentPolicy ref = lora.reference();
             LatentPolicy full = LatentPolicy.of(g, TrainingMode.FULL)) {
            long text = te.macsPerRow();
            assertEquals(LatentFlowTransformer.forwardMacs(Tiny.GEN, true) + text, lora.forwardMacsPerRow());
            assertEquals(LatentFlowTransformer.forwardMacs(Tiny.GEN, false) + text, ref.forwardMacsPerRow());
            assertEquals(LatentFlowTransformer.forwardMacs(Tiny.GEN, false) + text, full.forwardMacsPerRow());
            assertTrue(lora.forwardMacsPerRow() > ref.forwardMacsPerRow());
        }
    }

    @Test
    void misuseIsNamed() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1);
             LatentFlowTransformer noAdapters = new LatentFlowTransformer(Tiny.GEN.withLora(0, 1), te, 2);
             LatentFlowTransformer g = pretrainedLike(te); LatentPolicy p = LatentPolicy.of(g, TrainingMode.LORA)) {
            var e = assertThrows(IllegalArgumentException.class, () -> LatentPolicy.of(noAdapters, TrainingMode.LORA));
            assertTrue(e.getMessage().contains("loraRank 0") && e.getMessage().contains("FULL"), e.getMessage());
            var u = assertThrows(UnsupportedOperationException.class, () -> p.to(Device.CPU, DType.BFLOAT16));
            assertTrue(u.getMessage().contains("LatentModels.to"), u.getMessage());
        }
    }

    @Test
    void closingThePolicyLeavesTheGeneratorUsable() {
        try (TextEncoder te = new TextEncoder(Tiny.TEXT, 1); LatentFlowTransformer g = pretrainedLike(te);
             Scope s = Scope.open(); Generator gen = Generator.create(3)) {
            LatentPolicy p = LatentPolicy.of(g, TrainingMode.LORA);
            p.close();
            LatentPolicy full = LatentPolicy.of(g, TrainingMode.FULL);
            full.reference().close();
            full.close();
            Tensor[] in = batch(gen);
            try (var ng = Autograd.noGrad()) {
                assertEquals(3, g.predict(in[0], in[1], in[2]).size(0));
            }
        }
    }
}
