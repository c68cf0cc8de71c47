package io.progrpo.app.cli;

import io.progrpo.app.CacheProperty;
import io.progrpo.app.ProgrpoCommands;
import io.progrpo.app.job.Plugins;
import io.progrpo.trainer.MetricsLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user's reward and sampler, compiled here into their own jar (for the class path: {@code META-INF/services}),
 * selected by name from the CLI, run in this JVM, with {@code --plugins} or {@code PROGRPO_PLUGINS}: listed by
 * {@code progrpo plugins}, trained with for one quick epoch on the pixel world, and unknown names or bad entries refused
 * as one-line errors with status 2. The tests run progrpo on the class path (Surefire's mode here), where a modular
 * plug-in cannot resolve: {@link PluginsModulePathTest} runs the modular jar in a child JVM on the module path, as
 * {@code scripts/progrpo} does.
 */
class PluginsCliTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    static Path shared;
    static Path modularJar;
    static Path classPathJar;

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void buildPlugins() throws Exception {
        modularJar = PluginJars.build(shared, "example.plugin", "com.example.plugin", "plugin_redness", "plugin-sde");
        classPathJar = PluginJars.build(shared, null, "com.example.cp", "cp_redness", "cp-sde");
        CACHE.point(shared.resolve("cache"));
    }

    @BeforeEach
    void register() {
        Main.setCommands(new ProgrpoCommands());
        Main.environment = Map.of();
    }

    @AfterEach
    void unregister() {
        Main.setCommands(null);
        Main.environment = null;
    }

    private int run(String... args) {
        int rc = CliHarness.run(out, err, args);
        System.out.print(out);
        System.out.print(err);
        return rc;
    }

    private String errLine() {
        List<String> lines = err.toString().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "one line: " + err);
        return lines.get(0);
    }

    @Test
    void pluginsListsTheBuiltInsAndTheJarsProvidersWithTheirOrigin() {
        assertEquals(0, run("plugins", "--plugins", classPathJar.toString()), err.toString());
        String s = out.toString();
        for (String name : List.of("cp_redness", "cp-sde")) {
            assertTrue(s.lines().anyMatch(l -> l.contains(name) && l.contains("[plug-in " + classPathJar + "]")), name + " in:\n" + s);
        }
        assertTrue(s.lines().anyMatch(l -> l.contains("flow-sde") && l.contains("built in")), s);
        assertTrue(s.lines().anyMatch(l -> l.contains("ddim") && l.contains("built in")), s);
        assertTrue(s.lines().anyMatch(l -> l.contains("alignment") && l.contains("built in")), s);
        assertTrue(s.contains(classPathJar + "  (class path)"), s);
        assertSame(Plugins.NONE, Plugins.active(), "the command's plug-ins are active only while it runs");
    }

    @Test
    void theEnvironmentVariableNamesPluginsToo() {
        Main.environment = Map.of(Plugins.ENV, classPathJar.toString());
        assertEquals(0, run("plugins"), err.toString());
        assertTrue(out.toString().contains("cp-sde") && out.toString().contains("cp_redness"), out.toString());
        out.getBuffer().setLength(0);
        Main.environment = Map.of();
        assertEquals(0, run("plugins"), err.toString());
        assertFalse(out.toString().contains("cp-sde"), out.toString());
        assertTrue(out.toString().contains("Plug-ins: none"), out.toString());
    }

    @Test
    void aModularPluginNeedsProgrpoOnTheModulePathAndSaysSo() {
        assertEquals(2, run("plugins", "--plugins", modularJar.toString()));
        String line = errLine();
        assertTrue(line.startsWith("config error (--plugins): plug-in jar '" + modularJar + "' (module example.plugin) does not resolve"), line);
        assertTrue(line.contains("progrpo itself runs on the class path here"), line);
    }

    @Test
    void trainsOneEpochWithThePluginsRewardAndSampler() throws Exception {
        String reward = "cp_redness";
        String sampler = "cp-sde";
        Path jar = classPathJar;
        int calls = PluginJars.rewardCalls(reward);
        int steps = PluginJars.samplerSteps(sampler);
        Path runDir = tmp.resolve("run");
        assertEquals(0, run("train", "--plugins", jar.toString(), "--preset", "flow-grpo+quick", "--set", "reward=" + reward,
                "--set", "sampler=" + sampler, "--set", "outDir=" + runDir), err.toString());
        assertTrue(PluginJars.rewardCalls(reward) > calls, "the plug-in reward scored the epoch");
        // training: 1 group of 24 rows x 10 steps in one chain; evaluation: the ODE of 6 steps, at least once
        assertTrue(PluginJars.samplerSteps(sampler) - steps >= 10 + 6, "steps taken " + (PluginJars.samplerSteps(sampler) - steps));
        List<Map<String, Object>> rows = MetricsLog.read(runDir.resolve("metrics.jsonl"));
        assertTrue(rows.stream().anyMatch(r -> r.containsKey("reward_" + reward + "_mean")), "the reward's name in metrics.jsonl: " + rows);
        String config = Files.readString(runDir.resolve("checkpoint").resolve(Main.CONFIG_FILE_NAME));
        assertTrue(config.contains("\"sampler\" : \"" + sampler + "\""), config);
    }

    @Test
    void unknownSamplerAndRewardNamesAreConfigErrorsListingWhatExists() {
        for (boolean dryRun : new boolean[]{true, false}) {
            List<String> args = new ArrayList<>(List.of("train", "--plugins", classPathJar.toString(), "--preset", "flow-grpo+quick",
                    "--set", "sampler=NOPE", "--set", "outDir=" + tmp.resolve("a")));
            if (dryRun) args.add("--dry-run");
            err.getBuffer().setLength(0);
            assertEquals(2, run(args.toArray(String[]::new)));
            String line = errLine();
            assertTrue(line.startsWith("config error (sampler): sampler 'NOPE' is not registered"), line);
            assertTrue(line.contains("default") && line.contains("ddim") && line.contains("flow-sde") && line.contains("cp-sde"), line);

            args.set(args.indexOf("sampler=NOPE"), "reward=nope");
            err.getBuffer().setLength(0);
            assertEquals(2, run(args.toArray(String[]::new)));
            line = errLine();
            assertTrue(line.startsWith("config error (reward): reward 'nope' in 'nope' is not registered; expected one of "), line);
            assertTrue(line.contains("alignment") && line.contains("cp_redness"), line);

            // a name the spec grammar refuses lists them too
            args.set(args.indexOf("reward=nope"), "reward=NOPE");
            err.getBuffer().setLength(0);
            assertEquals(2, run(args.toArray(String[]::new)));
            line = errLine();
            assertTrue(line.startsWith("config error (reward): reward term 'NOPE' in 'NOPE' must be name or name:weight"), line);
            assertTrue(line.contains("; registered rewards: ") && line.contains("alignment") && line.contains("cp_redness"), line);
        }
        // without --plugins the plug-in's names are unknown
        err.getBuffer().setLength(0);
        assertEquals(2, run("train", "--dry-run", "--preset", "flow-grpo+quick", "--set", "sampler=cp-sde"));
        assertTrue(errLine().contains("sampler 'cp-sde' is not registered"), err.toString());
    }

    @Test
    void aSamplerForAnotherModelKindIsAConfigError() {
        assertEquals(2, run("train", "--dry-run", "--preset", "flow-grpo+quick", "--set", "sampler=ddim"));
        String line = errLine();
        assertTrue(line.startsWith("config error (sampler): sampler 'ddim' samples epsilon models, but method 'flow-grpo' trains a "
                + "velocity model"), line);
        err.getBuffer().setLength(0);
        assertEquals(2, run("train", "--dry-run", "--plugins", classPathJar.toString(), "--preset", "dance-grpo+quick",
                "--set", "sampler=cp-sde"));
        assertTrue(errLine().contains("sampler 'cp-sde' samples velocity models, but method 'dance-grpo' trains a epsilon model"),
                err.toString());
        // the built-in names select what the methods use anyway
        assertEquals(0, run("train", "--dry-run", "--preset", "dance-grpo+quick", "--set", "sampler=ddim"), err.toString());
        assertEquals(0, run("train", "--dry-run", "--preset", "flow-grpo+quick", "--set", "sampler=flow-sde"), err.toString());
    }

    @Test
    void aBadPluginEntryIsOneLineWithStatus2NamingIt() throws Exception {
        Path missing = tmp.resolve("no-such.jar");
        assertEquals(2, run("train", "--dry-run", "--plugins", missing.toString()));
        assertEquals("config error (--plugins): plug-in entry '" + missing + "' does not exist; expected a jar or a directory of jars",
                errLine());

        Path notAJar = Files.writeString(tmp.resolve("notes.jar"), "not a zip");
        err.getBuffer().setLength(0);
        assertEquals(2, run("plugins", "--plugins", notAJar.toString()));
        assertTrue(errLine().startsWith("config error (--plugins): plug-in entry '" + notAJar + "' is not a jar"), err.toString());

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        err.getBuffer().setLength(0);
        Main.environment = Map.of(Plugins.ENV, empty.toString());
        assertEquals(2, run("plugins"));
        assertTrue(errLine().startsWith("config error (PROGRPO_PLUGINS): plug-in directory '" + empty + "' holds no .jar file"), err.toString());
        Main.environment = Map.of();

        Path broken = PluginJars.unresolvable(tmp);
        err.getBuffer().setLength(0);
        assertEquals(2, run("train", "--dry-run", "--plugins", classPathJar + File.pathSeparator + broken));
        String line = errLine();
        assertTrue(line.startsWith("config error (--plugins): plug-in jar '" + broken + "' (module needs.missing) does not resolve"), line);
        assertTrue(line.contains("absent.plugin"), line);
        assertSame(Plugins.NONE, Plugins.active());
    }
}
