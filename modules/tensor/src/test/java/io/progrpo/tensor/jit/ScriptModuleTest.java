package io.progrpo.tensor.jit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.TensorTestBase;
import io.progrpo.tensor.TorchException;
import io.progrpo.tensor.optim.AdamW;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** ScriptModule over the committed fixtures (scripts/export-torchscript-fixtures), against Python's own outputs. */
class ScriptModuleTest extends TensorTestBase {
    /** fixtures/torchscript of the repository (the tests run in a module directory). */
    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("fixtures/torchscript");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/torchscript not found above " + Path.of("").toAbsolutePath()
                + "; run scripts/export-torchscript-fixtures");
    }

    static Map<String, Tensor> reference(ScriptModule ref) {
        return ref.namedBuffers();
    }

    private static void assertAllClose(Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape());
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) assertEquals(e[i], a[i], tol, "element " + i);
    }

    @Test
    void forwardMatchesPythonWithAndWithoutAdaptersAndConditioning() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"));
             ScriptModule ref = ScriptModule.load(fixtures().resolve("reference_io.pt"))) {
            Map<String, Tensor> io = reference(ref);
            try (var ng = Autograd.noGrad()) {
                assertAllClose(io.get("velocity"), vel.forward(io.get("x"), io.get("t"), io.get("cond")), 1e-5);
                assertAllClose(io.get("velocity_no_adapter"), vel.forward(io.get("x"), io.get("t"), io.get("cond"), 0.0), 1e-5);
                assertAllClose(io.get("velocity_uncond"), vel.forward(io.get("x"), io.get("t"), null), 1e-5);
                assertTrue(io.get("velocity").sub(io.get("velocity_no_adapter")).abs().amax().item() > 1e-4, "the adapters change the output");
            }
        }
    }

    @Test
    void exportedMethodAndTwoTowerScorerMatchPython() throws IOException {
        try (ScriptModule dec = ScriptModule.load(fixtures().resolve("decoder.pt"));
             ScriptModule sco = ScriptModule.load(fixtures().resolve("scorer.pt"));
             ScriptModule ref = ScriptModule.load(fixtures().resolve("reference_io.pt"))) {
            Map<String, Tensor> io = reference(ref);
            assertTrue(dec.methodNames().contains("decode"), dec.methodNames().toString());
            assertTrue(dec.hasMethod("decode"));
            assertFalse(dec.hasMethod("encode"));
            assertTrue(dec.schema("decode").contains("Tensor latents"), dec.schema("decode"));
            try (var ng = Autograd.noGrad()) {
                Tensor images = dec.callTensor("decode", io.get("x"));
                assertAllClose(io.get("images"), images, 1e-5);
                assertAllClose(io.get("scores"), sco.forward(images, io.get("cond")), 1e-5);
            }
        }
    }

    @Test
    void parametersAndBuffersAreNamedAliases() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            Map<String, Tensor> p = vel.namedParameters();
            assertTrue(p.containsKey("blocks.0.q.lora_A"), p.keySet().toString());
            assertTrue(p.containsKey("blocks.1.v.base.weight"), p.keySet().toString());
            assertEquals(21_092, vel.parameterCount(false));
            assertTrue(vel.namedBuffers().containsKey("freqs"), vel.namedBuffers().keySet().toString());
            // an in-place change through the alias is seen by the module's next forward
            Tensor x = Tensor.zeros(DType.FLOAT32, Device.CPU, 1, 4, 4, 4);
            Tensor t = Tensor.full(0.5, DType.FLOAT32, Device.CPU, 1);
            try (var ng = Autograd.noGrad()) {
                float[] before = vel.forward(x, t, null).toFloatArray();
                float[] oldBias = p.get("out.bias").toFloatArray();
                p.get("out.bias").fill(3.0);
                float[] after = vel.forward(x, t, null).toFloatArray();
                // out = 0.5 * (W h + bias), output [1, C=4, 4, 4]: each element moves by 0.5 (3 - old bias of its channel)
                for (int i = 0; i < after.length; i++) assertEquals(0.5 * (3 - oldBias[i / 16]), after[i] - before[i], 1e-5, "element " + i);
            }
            assertSame(p, vel.namedParameters());
        }
    }

    private static void assertSame(Object a, Object b) {
        org.junit.jupiter.api.Assertions.assertSame(a, b);
    }

    @Test
    void selectedSubsetAloneGetsGradientsAndAdamWUpdatesTheModuleInPlace() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"));
             ScriptModule ref = ScriptModule.load(fixtures().resolve("reference_io.pt"))) {
            Map<String, Tensor> io = reference(ref);
            Map<String, Tensor> lora = vel.selectTrainable("lora_");
            assertEquals(8, lora.size(), lora.keySet().toString());
            for (String k : lora.keySet()) assertTrue(k.contains("lora_"), k);
            assertEquals(lora.keySet(), vel.trainableParameters().keySet());
            assertEquals(1024, vel.parameterCount(true));
            Map<String, float[]> before = new HashMap<>();
            vel.namedParameters().forEach((k, v) -> before.put(k, v.toFloatArray()));

            vel.train(true);
            try (AdamW opt = new AdamW(new ArrayList<>(lora.values()), new AdamW.Options(1e-2, 0.9, 0.999, 1e-8, 0.0))) {
                Tensor loss = vel.forward(io.get("x"), io.get("t"), io.get("cond")).square().mean();
                loss.backward();
                vel.namedParameters().forEach((k, v) -> {
                    Tensor g = v.grad();
                    if (lora.containsKey(k)) assertNotNull(g, "gradient of " + k);
                    else assertNull(g, "no gradient for the frozen " + k);
                });
                opt.step();
            }
            vel.namedParameters().forEach((k, v) -> {
                float[] now = v.toFloatArray();
                if (lora.containsKey(k)) assertFalse(java.util.Arrays.equals(before.get(k), now), k + " changed");
                else assertArrayEquals(before.get(k), now, k + " is bit-identical");
            });
            try (var ng = Autograd.noGrad()) {
                Tensor v = vel.forward(io.get("x"), io.get("t"), io.get("cond"));
                assertTrue(v.sub(io.get("velocity")).abs().amax().item() > 1e-6, "the module's forward sees the update");
            }
        }
    }

    @Test
    void trainEvalAndDeepCopyAreIndependent() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            vel.train(true);
            assertTrue(vel.isTraining());
            vel.eval();
            assertFalse(vel.isTraining());
            try (ScriptModule copy = vel.deepCopy()) {
                copy.requiresGrad(false);
                assertTrue(copy.trainableParameters().isEmpty());
                assertEquals(vel.namedParameters().size(), vel.trainableParameters().size(), "the original keeps its flags");
                float[] w = copy.namedParameters().get("out.bias").toFloatArray();
                try (var ng = Autograd.noGrad()) {
                    vel.namedParameters().get("out.bias").fill(7.0);
                }
                assertArrayEquals(w, copy.namedParameters().get("out.bias").toFloatArray(), "the copy does not share storage");
            }
        }
    }

    @Test
    void savedParametersAndModuleRoundTrip(@TempDir Path dir) throws IOException, InterruptedException {
        Path adapters = dir.resolve("lora.pt");
        Path module = dir.resolve("velocity-trained.pt");
        Map<String, float[]> saved = new HashMap<>();
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            Map<String, Tensor> lora = vel.selectTrainable("lora_B$");
            assertEquals(4, lora.size());
            try (var ng = Autograd.noGrad()) {
                lora.values().forEach(t -> t.fill(0.25));
            }
            lora.forEach((k, v) -> saved.put(k, v.toFloatArray()));
            vel.saveParameters(adapters, true);
            vel.save(module);
        }
        Map<String, Tensor> read = TensorIO.load(adapters);
        assertEquals(saved.keySet(), read.keySet());
        read.forEach((k, v) -> assertArrayEquals(saved.get(k), v.toFloatArray(), k));
        try (ScriptModule again = ScriptModule.load(module); ScriptModule fresh = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            saved.forEach((k, v) -> assertArrayEquals(v, again.namedParameters().get(k).toFloatArray(), k));
            assertEquals(4, fresh.loadParameters(adapters));
            saved.forEach((k, v) -> assertArrayEquals(v, fresh.namedParameters().get(k).toFloatArray(), k));
        }
        // Python's torch.load reads the adapters (where Debian's python3-torch is installed)
        Path py = Path.of("/usr/bin/python3");
        if (Files.isExecutable(py)) {
            Process p = new ProcessBuilder(py.toString(), "-c",
                    "import sys, torch; d = torch.load(sys.argv[1]); print(len(d), sorted(d)[0], float(sum(v.sum() for v in d.values())))",
                    adapters.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            if (!out.contains("No module named 'torch'")) {
                assertEquals(0, p.exitValue(), out);
                double sum = 0;
                for (float[] v : saved.values()) for (float f : v) sum += f;
                assertEquals("4 blocks.0.q.lora_B " + sum, out);
            }
        }
    }

    // ---- bad input ------------------------------------------------------------------------------------------------

    @Test
    void missingFileIsNamed() {
        Path missing = fixtures().resolve("no-such-model.pt");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ScriptModule.load(missing));
        assertTrue(e.getMessage().contains("no-such-model.pt"), e.getMessage());
    }

    @Test
    void fileThatIsNotTorchScriptIsNamed(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("junk.pt");
        Files.writeString(junk, "not a model");
        IOException e = assertThrows(IOException.class, () -> ScriptModule.load(junk));
        assertTrue(e.getMessage().contains(junk.toString()) && e.getMessage().contains("TorchScript"), e.getMessage());
        Path stateDict = fixtures().resolve("state_dict.pt");
        IOException e2 = assertThrows(IOException.class, () -> ScriptModule.load(stateDict));
        assertTrue(e2.getMessage().contains("state_dict.pt") && e2.getMessage().contains("torch.jit.save"), e2.getMessage());
    }

    @Test
    void missingMethodNamesFileMethodAndAlternatives() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> vel.call("decode", Tensor.zeros(1)));
            assertTrue(e.getMessage().contains("velocity.pt") && e.getMessage().contains("'decode'")
                    && e.getMessage().contains("forward"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> vel.schema("decode"));
        }
    }

    @Test
    void wrongShapesAndDtypesNameFileMethodAndArguments() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            Tensor t = Tensor.full(0.5, DType.FLOAT32, Device.CPU, 2);
            TorchException shape = assertThrows(TorchException.class,
                    () -> vel.forward(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3), t, null));
            assertTrue(shape.getMessage().contains("velocity.pt") && shape.getMessage().contains("forward([2, 3] float32")
                    && shape.getMessage().contains("expected latents x of shape [B, 4, 4, 4]"), shape.getMessage());
            TorchException dtype = assertThrows(TorchException.class,
                    () -> vel.forward(Tensor.zeros(DType.INT64, Device.CPU, 2, 4, 4, 4), t, null));
            assertTrue(dtype.getMessage().contains("int64") && dtype.getMessage().contains("floating-point"), dtype.getMessage());
            TorchException cond = assertThrows(TorchException.class,
                    () -> vel.forward(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 4, 4, 4), t, Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3)));
            assertTrue(cond.getMessage().contains("token ids cond"), cond.getMessage());
            // a value where the schema wants a tensor: TorchScript's own type check, with the schema
            TorchException type = assertThrows(TorchException.class,
                    () -> vel.forward(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 4, 4, 4), 0.5, null));
            assertTrue(type.getMessage().contains("velocity.pt") && type.getMessage().contains("Tensor"), type.getMessage());
            IllegalArgumentException javaType = assertThrows(IllegalArgumentException.class, () -> vel.forward("x"));
            assertTrue(javaType.getMessage().contains("argument 0 is a java.lang.String"), javaType.getMessage());
        }
    }

    @Test
    void patternThatSelectsNothingIsNamed() throws IOException {
        try (ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> vel.selectTrainable("adapter_"));
            assertTrue(e.getMessage().contains("'adapter_'") && e.getMessage().contains("velocity.pt")
                    && e.getMessage().contains("patch_in.weight"), e.getMessage());
            assertEquals(vel.namedParameters().size(), vel.trainableParameters().size(), "a failed selection changes nothing");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> vel.selectTrainable("lora_("));
            assertTrue(bad.getMessage().contains("'lora_('"), bad.getMessage());
        }
    }

    @Test
    void closedModuleIsAnException() throws IOException {
        ScriptModule vel = ScriptModule.load(fixtures().resolve("velocity.pt"));
        vel.close();
        vel.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> vel.forward(Tensor.zeros(1)));
        assertTrue(e.getMessage().contains("velocity.pt") && e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, vel::namedParameters);
    }
}
