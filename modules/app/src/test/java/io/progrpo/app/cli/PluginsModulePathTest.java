package io.progrpo.app.cli;

import io.progrpo.trainer.MetricsLog;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI as {@code scripts/progrpo} runs it, on the module path in a child JVM ({@code -m io.progrpo.app}), with a
 * modular plug-in jar (module-info {@code provides}) and a class-path one: {@code progrpo plugins} lists both jars'
 * providers, {@code train --plugins JAR --set reward=NAME --set sampler=NAME} trains one quick epoch with the modular
 * plug-in's reward and sampler (their calls logged to a file), and a module that does not resolve is one line with
 * status 2 naming the jar.
 */
class PluginsModulePathTest {
    @TempDir
    static Path shared;
    static Path modularJar;
    static Path classPathJar;

    record Result(int status, String output) {}

    @BeforeAll
    static void buildPlugins() throws Exception {
        modularJar = PluginJars.build(shared, "example.plugin", "com.example.plugin", "plugin_redness", "plugin-sde");
        classPathJar = PluginJars.build(shared, null, "com.example.cp", "cp_redness", "cp-sde");
    }

    /** {@code java -p PROGRPO -m io.progrpo.app/io.progrpo.app.cli.Main ARGS}, with the launcher's flags. */
    private static Result progrpo(Path log, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=io.progrpo.tensor", "--add-modules", "java.desktop",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-Dprogrpo.torch.threads=1",
                "-Dprogrpo.cache=" + shared.resolve("cache"),
                "-D" + PluginJars.LOG + "=" + log,
                "-XX:TieredStopAtLevel=1",
                "-p", PluginJars.modulePath(), "-m", "io.progrpo.app/io.progrpo.app.cli.Main"));
        cmd.addAll(List.of(args));
        Path output = Files.createTempFile(shared, "child", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().remove("PROGRPO_PLUGINS");
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("progrpo did not end within 300 s: " + Files.readString(output));
        }
        String text = Files.readString(output);
        System.out.print(text);
        return new Result(p.exitValue(), text);
    }

    @Test
    void pluginsListsTheModularAndTheClassPathJarsProviders(@TempDir Path tmp) throws Exception {
        Result r = progrpo(tmp.resolve("calls.log"), "plugins", "--plugins", modularJar + File.pathSeparator + classPathJar);
        assertEquals(0, r.status(), r.output());
        for (String name : List.of("plugin_redness", "plugin-sde")) {
            assertTrue(r.output().lines().anyMatch(l -> l.contains(name) && l.contains("[plug-in " + modularJar + "]")), name + ":\n" + r.output());
        }
        for (String name : List.of("cp_redness", "cp-sde")) {
            assertTrue(r.output().lines().anyMatch(l -> l.contains(name) && l.contains("[plug-in " + classPathJar + "]")), name + ":\n" + r.output());
        }
        assertTrue(r.output().lines().anyMatch(l -> l.contains("flow-sde") && l.contains("[built in (module io.progrpo.sampler)]")), r.output());
        assertTrue(r.output().contains(modularJar + "  (module example.plugin)") && r.output().contains(classPathJar + "  (class path)"),
                r.output());
    }

    @Test
    void trainsOneEpochWithTheModularPluginsRewardAndSampler(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("calls.log");
        Path runDir = tmp.resolve("run");
        Result r = progrpo(log, "train", "--plugins", modularJar.toString(), "--preset", "flow-grpo+quick",
                "--set", "reward=plugin_redness", "--set", "sampler=plugin-sde", "--set", "outDir=" + runDir);
        assertEquals(0, r.status(), r.output());
        List<String> calls = Files.readAllLines(log);
        assertTrue(calls.contains("plugin_redness score"), "the plug-in reward scored: " + calls.size() + " calls");
        // training: 10 steps of one chain; evaluation: the 6-step ODE, at least once
        assertTrue(calls.stream().filter("plugin-sde step"::equals).count() >= 10 + 6, "sampler steps: " + calls);
        List<Map<String, Object>> rows = MetricsLog.read(runDir.resolve("metrics.jsonl"));
        assertTrue(rows.stream().anyMatch(m -> m.containsKey("reward_plugin_redness_mean")), rows.toString());
    }

    @Test
    void aModuleThatDoesNotResolveIsOneLineNamingTheJar(@TempDir Path tmp) throws Exception {
        Path broken = PluginJars.unresolvable(tmp);
        Result r = progrpo(tmp.resolve("calls.log"), "train", "--dry-run", "--plugins", modularJar + File.pathSeparator + broken);
        assertEquals(2, r.status(), r.output());
        List<String> lines = r.output().lines().filter(l -> l.startsWith("config error")).toList();
        assertEquals(1, lines.size(), r.output());
        assertTrue(lines.get(0).startsWith("config error (--plugins): plug-in jar '" + broken + "' (module needs.missing) does not "
                + "resolve against progrpo's modules") && lines.get(0).contains("absent.plugin"), lines.get(0));
        assertTrue(!lines.get(0).contains("class path here"), "progrpo is on the module path here: " + lines.get(0));
    }
}
