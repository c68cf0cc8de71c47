package io.progrpo.sampler;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampler SPI: the built-in providers build the samplers the trainer's methods use, names are unique, unknown
 * names list what exists, and a provider in a plug-in class loader (compiled here, registered by
 * {@code META-INF/services}) is found only when that loader is passed; its broken results are named.
 */
class SamplerRegistryTest {
    private static final SamplerSettings SETTINGS =
            new SamplerSettings(10, 6, 3.0, 0.7, 1.0, SamplerSettings.Prediction.VELOCITY, BetaSchedule.stableDiffusion());

    @Test
    void theBuiltInsAreFoundByName() {
        List<String> names = SamplerRegistry.available();
        assertTrue(names.containsAll(List.of("ddim", "flow-sde")), names.toString());
        assertEquals(names.stream().sorted().toList(), names, "sorted");
        SamplerRegistry.descriptions(null).forEach((n, d) -> assertFalse(d.isBlank(), n));
        assertTrue(SamplerRegistry.provider("flow-sde", null).supports(SamplerSettings.Prediction.VELOCITY));
        assertFalse(SamplerRegistry.provider("flow-sde", null).supports(SamplerSettings.Prediction.EPSILON));
        assertTrue(SamplerRegistry.provider("ddim", null).supports(SamplerSettings.Prediction.EPSILON));
        assertFalse(SamplerRegistry.provider("ddim", null).supports(SamplerSettings.Prediction.VELOCITY));
    }

    @Test
    void flowSdeIsTheFlowSdeToTrainAndTheOdeToEvaluate() {
        Sampler train = SamplerRegistry.trainSampler("flow-sde", SETTINGS, null);
        FlowSdeSampler sde = assertInstanceOf(FlowSdeSampler.class, train);
        assertEquals(10, sde.steps());
        assertEquals(0.7, sde.noiseLevel());
        FlowSchedule grid = FlowSchedule.shifted(10, 3.0);
        for (int i = 0; i < 10; i++) {
            assertEquals(grid.sigma(i), sde.time(i), 0.0, "sigma " + i);
            double sigma = grid.sigma(i);
            double denom = 1 - (i == 0 ? grid.sigma(1) : sigma);
            // std_t = a sqrt(sigma / (1 - sigma)) with sigmas[1] at sigma = 1; s_t = std_t sqrt(-dt)
            assertEquals(0.7 * Math.sqrt(sigma / denom) * Math.sqrt(sigma - grid.sigma(i + 1)), sde.policyStd(i), 1e-12, "s_t " + i);
        }
        FlowSdeSampler ode = assertInstanceOf(FlowSdeSampler.class, SamplerRegistry.evalSampler("flow-sde", SETTINGS, null));
        assertEquals(6, ode.steps());
        assertEquals(0.0, ode.noiseLevel());
        for (int i = 0; i < 6; i++) assertFalse(ode.isStochastic(i), "the ODE is deterministic at step " + i);
    }

    @Test
    void ddimIsDdimEtaToTrainAndEtaZeroToEvaluate() {
        SamplerSettings s = new SamplerSettings(20, 5, 1.0, 0.7, 0.5, SamplerSettings.Prediction.EPSILON, BetaSchedule.stableDiffusion());
        DdimSampler train = assertInstanceOf(DdimSampler.class, SamplerRegistry.trainSampler("ddim", s, null));
        assertEquals(20, train.steps());
        assertEquals(0.5, train.eta());
        assertEquals(1000, train.schedule().trainSteps());
        // SD 1.x leading timesteps: (T - 1 - i) * (1000 / T) + 1
        assertEquals(19 * 50 + 1, train.timestep(0));
        DdimSampler eval = assertInstanceOf(DdimSampler.class, SamplerRegistry.evalSampler("ddim", s, null));
        assertEquals(5, eval.steps());
        assertEquals(0.0, eval.eta());
    }

    @Test
    void anUnknownNameListsTheAvailableOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.provider("my-sde", null));
        assertEquals("unknown sampler 'my-sde'; available: " + String.join(", ", SamplerRegistry.available()), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.trainSampler(null, SETTINGS, null));
        assertTrue(e.getMessage().startsWith("sampler name is null; available: "), e.getMessage());
    }

    @Test
    void theSettingsAreChecked() {
        BetaSchedule b = BetaSchedule.stableDiffusion();
        SamplerSettings.Prediction v = SamplerSettings.Prediction.VELOCITY;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(0, 6, 1, 0.7, 1, v, b))
                .getMessage().contains("steps must be >= 1, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(10, 0, 1, 0.7, 1, v, b))
                .getMessage().contains("evalSteps must be >= 1, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(10, 6, Double.NaN, 0.7, 1, v, b))
                .getMessage().contains("shift must be finite and > 0, got NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(10, 6, 1, -1, 1, v, b))
                .getMessage().contains("noiseLevel must be finite and >= 0, got -1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(10, 6, 1, 0.7, Double.POSITIVE_INFINITY, v, b))
                .getMessage().contains("eta must be finite and >= 0, got Infinity"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(10, 6, 1, 0.7, 1, null, b))
                .getMessage().contains("prediction must be VELOCITY or EPSILON, got null"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplerSettings(10, 6, 1, 0.7, 1, v, null))
                .getMessage().contains("betas must not be null"));
        assertEquals("epsilon", SamplerSettings.Prediction.EPSILON.toString());
    }

    @Test
    void aPluginLoadersProviderIsFoundThroughThatLoaderOnly(@TempDir Path dir) throws Exception {
        // "my-sde" builds the flow SDE; "broken-null" returns null; "broken-steps" ignores the steps asked for
        String src = """
                package com.example;
                import io.progrpo.sampler.*;
                public final class %s implements SamplerProvider {
                    public String name() { return "%s"; }
                    public String description() { return "test provider"; }
                    public Sampler trainSampler(SamplerSettings s) { return %s; }
                    public Sampler evalSampler(SamplerSettings s) { return FlowSdeSampler.ode(s.evalSteps(), s.shift()); }
                }
                """;
        try (URLClassLoader loader = plugin(dir.resolve("ok"), List.of(
                src.formatted("MySde", "my-sde", "new FlowSdeSampler(s.steps(), s.shift(), s.noiseLevel())"),
                src.formatted("NullSde", "broken-null", "null"),
                src.formatted("ShortSde", "broken-steps", "FlowSdeSampler.sde(2, 1.0)")))) {
            assertFalse(SamplerRegistry.available().contains("my-sde"), "not without the loader");
            List<String> names = SamplerRegistry.available(loader);
            assertTrue(names.containsAll(List.of("my-sde", "broken-null", "broken-steps", "flow-sde", "ddim")), names.toString());
            Sampler s = SamplerRegistry.trainSampler("my-sde", SETTINGS, loader);
            assertEquals(10, s.steps());
            assertEquals("test provider", SamplerRegistry.descriptions(loader).get("my-sde"));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> SamplerRegistry.trainSampler("broken-null", SETTINGS, loader));
            assertEquals("sampler provider com.example.NullSde ('broken-null') created a null training sampler", e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> SamplerRegistry.trainSampler("broken-steps", SETTINGS, loader));
            assertEquals("sampler provider com.example.ShortSde ('broken-steps') created a training sampler of 2 steps, expected 10",
                    e.getMessage());
        }
        try (URLClassLoader clash = plugin(dir.resolve("clash"), List.of(src.formatted("OtherDdim", "ddim", "null")))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> SamplerRegistry.available(clash));
            assertTrue(e.getMessage().startsWith("two sampler providers are named 'ddim': ")
                    && e.getMessage().contains("com.example.OtherDdim") && e.getMessage().contains(BuiltInSamplers.Ddim.class.getName()),
                    e.getMessage());
        }
    }

    /** Compiles the sources (one public class each, package com.example) and registers them in META-INF/services. */
    private static URLClassLoader plugin(Path dir, List<String> sources) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/com/example"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "--release", "25", "-proc:none",
                "-cp", System.getProperty("java.class.path")));
        List<String> names = new ArrayList<>();
        for (String s : sources) {
            String name = s.substring(s.indexOf("class ") + 6, s.indexOf(" implements"));
            names.add("com.example." + name);
            Path f = src.resolve(name + ".java");
            Files.writeString(f, s);
            args.add(f.toString());
        }
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new IllegalStateException("no javac tool"));
        StringWriter log = new StringWriter();
        int rc = javac.run(new PrintWriter(log, true), new PrintWriter(log, true), args.toArray(String[]::new));
        assertEquals(0, rc, log.toString());
        Path services = Files.createDirectories(classes.resolve("META-INF/services"));
        Files.write(services.resolve(SamplerProvider.class.getName()), names);
        return new URLClassLoader(new URL[]{classes.toUri().toURL()}, SamplerRegistryTest.class.getClassLoader());
    }
}
