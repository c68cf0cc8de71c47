package io.progrpo.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.sampler.TorchScriptVelocityModel.Options;
import io.progrpo.sampler.TorchScriptVelocityModel.ReferenceMode;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jit.ScriptModule;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The TorchScript-backed velocity model over the committed fixtures (scripts/export-torchscript-fixtures). */
class TorchScriptVelocityModelTest {
    private static final Options ADAPTER = Options.DEFAULTS.withAdapterScale(true);
    private Scope scope;
    private long live;

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("fixtures/torchscript");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/torchscript not found; run scripts/export-torchscript-fixtures");
    }

    @BeforeEach
    void open() {
        live = MemoryLedger.liveTensors();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
        assertEquals(live, MemoryLedger.liveTensors(), "live tensors after the test");
    }

    private static void assertAllClose(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape());
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) assertEquals(e[i], a[i], 1e-5, "element " + i);
    }

    @Test
    void policyAndBothReferencesReproducePython() throws IOException {
        try (var policy = TorchScriptVelocityModel.load(fixtures().resolve("velocity.pt"), Device.CPU, "lora_", ADAPTER);
             var off = policy.reference(ReferenceMode.ADAPTERS_DISABLED);
             var auto = policy.reference(ReferenceMode.AUTO);
             var frozen = policy.reference(ReferenceMode.FROZEN_COPY);
             ScriptModule ref = ScriptModule.load(fixtures().resolve("reference_io.pt"))) {
            Map<String, Tensor> io = ref.namedBuffers();
            assertEquals(8, policy.parameters().size());
            assertTrue(policy.namedParameters().keySet().stream().allMatch(k -> k.contains("lora_")), policy.namedParameters().keySet().toString());
            assertTrue(off.parameters().isEmpty());
            assertTrue(frozen.parameters().isEmpty());
            assertTrue(frozen.scriptModule().trainableParameters().isEmpty(), "the frozen copy has nothing to train");
            assertEquals(0.0, auto.adapterScale());
            try (var ng = Autograd.noGrad()) {
                assertAllClose(io.get("velocity"), policy.predict(io.get("x"), io.get("t"), io.get("cond")));
                assertAllClose(io.get("velocity_no_adapter"), off.predict(io.get("x"), io.get("t"), io.get("cond")));
                assertAllClose(io.get("velocity"), frozen.predict(io.get("x"), io.get("t"), io.get("cond")));
                assertAllClose(io.get("velocity_uncond"), policy.predict(io.get("x"), io.get("t"), null));
            }
            // train/eval reach the policy's module; the shared view leaves it alone
            policy.eval();
            assertFalse(policy.scriptModule().isTraining());
            off.train(true);
            assertFalse(policy.scriptModule().isTraining(), "the adapters-disabled view does not switch the shared module");
        }
    }

    @Test
    void timeScaleMultipliesTheSamplersTime() throws IOException {
        try (ScriptModule s = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            var plain = TorchScriptVelocityModel.of(s, "lora_", Options.DEFAULTS);
            var scaled = TorchScriptVelocityModel.of(s, "lora_", Options.DEFAULTS.withTimeScale(4));
            try (var ng = Autograd.noGrad(); Generator g = Generator.create(3, Device.CPU)) {
                Tensor x = Tensor.randn(g, DType.FLOAT32, Device.CPU, 2, 4, 4, 4);
                Tensor t = Tensor.full(0.125, DType.FLOAT32, Device.CPU, 2);
                assertAllClose(plain.predict(x, Tensor.full(0.5, DType.FLOAT32, Device.CPU, 2), null), scaled.predict(x, t, null));
            }
            plain.close();
            scaled.close();
            assertEquals(8, s.namedParameters().values().stream().filter(t -> !t.isClosed() && t.requiresGrad()).count(),
                    "closing a model over a borrowed module leaves the module's own aliases open");
        }
    }

    @Test
    void sdeStepAndRecomputedLogProbAgreeAndGradientReachesOnlyAdapters() throws IOException {
        FlowSdeSampler sampler = new FlowSdeSampler(4, 1.0, 0.7);
        try (var policy = TorchScriptVelocityModel.load(fixtures().resolve("velocity.pt"), Device.CPU, "lora_", ADAPTER);
             Generator g = Generator.create(5, Device.CPU)) {
            Tensor x = Tensor.randn(g, DType.FLOAT32, Device.CPU, 3, 4, 4, 4);
            Tensor cond = Tensor.of(new long[] {1, 7, 12, 2, 8, 13, 3, 9, 14}, 3, 3);
            StepOutput out;
            try (var ng = Autograd.noGrad()) {
                out = sampler.step(policy, x, cond, 1, g);
            }
            LogProbResult lp = sampler.logProb(policy, x, out.next(), cond, 1);
            assertArrayEquals(out.logProb().toFloatArray(), lp.logProb().toFloatArray(), "the recomputed log-prob is bit-identical");
            lp.logProb().mean().backward();
            for (var e : policy.scriptModule().namedParameters().entrySet()) {
                Tensor grad = e.getValue().grad();
                if (e.getKey().contains("lora_")) assertNotNull(grad, e.getKey());
                else assertNull(grad, e.getKey());
            }
        }
    }

    @Test
    void badInputsAreNamed() throws IOException {
        Path vel = fixtures().resolve("velocity.pt");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> TorchScriptVelocityModel.load(vel, Device.CPU, "adapter_", ADAPTER));
        assertTrue(none.getMessage().contains("'adapter_'") && none.getMessage().contains("velocity.pt"), none.getMessage());
        IllegalArgumentException method = assertThrows(IllegalArgumentException.class,
                () -> TorchScriptVelocityModel.load(vel, Device.CPU, "lora_", new Options("velocity", 1, false)));
        assertTrue(method.getMessage().contains("'velocity'") && method.getMessage().contains("velocity.pt"), method.getMessage());
        try (var policy = TorchScriptVelocityModel.load(vel, Device.CPU, "lora_", Options.DEFAULTS)) {
            IllegalArgumentException off = assertThrows(IllegalArgumentException.class, () -> policy.reference(ReferenceMode.ADAPTERS_DISABLED));
            assertTrue(off.getMessage().contains("passAdapterScale"), off.getMessage());
            UnsupportedOperationException to = assertThrows(UnsupportedOperationException.class, () -> policy.to(Device.cuda(0), DType.FLOAT32));
            assertTrue(to.getMessage().contains("velocity.pt"), to.getMessage());
            // wrong latent shape: the sampler's evaluate reports the script's message with the file and method
            RuntimeException shape = assertThrows(RuntimeException.class,
                    () -> policy.evaluate(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3, 4, 4), null, 0.5, 0));
            assertTrue(shape.getMessage().contains("velocity.pt forward([2, 3, 4, 4] float32"), shape.getMessage());
        }
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> TorchScriptVelocityModel.load(vel.resolveSibling("missing.pt"), Device.CPU, "lora_", ADAPTER));
    }
}
