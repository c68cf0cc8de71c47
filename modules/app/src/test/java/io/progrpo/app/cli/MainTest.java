package io.progrpo.app.cli;

import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {

    /** Records what the CLI asked for. */
    static final class Recording implements Commands {
        TrainConfig config;
        Boolean resume;
        Path checkpoint;
        List<Path> runs;
        Path out;
        int status;

        @Override
        public int train(TrainConfig c, boolean resume) {
            this.config = c;
            this.resume = resume;
            return status;
        }

        Path evalResult;

        @Override
        public int eval(TrainConfig c, Path checkpoint) {
            this.config = c;
            this.checkpoint = checkpoint;
            return status;
        }

        @Override
        public int eval(TrainConfig c, Path checkpoint, Path resultFile) {
            this.evalResult = resultFile;
            return eval(c, checkpoint);
        }

        @Override
        public int report(List<Path> runs, Path out) {
            this.runs = runs;
            this.out = out;
            return status;
        }
    }

    private Recording rec;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void register() {
        rec = new Recording();
        Main.setCommands(rec);
    }

    @AfterEach
    void unregister() {
        Main.setCommands(null);
    }

    private int run(String... args) {
        return CliHarness.run(out, err, args);
    }

    @Test
    void trainResolvesPresetAndSetOverrides() {
        assertEquals(0, run("train", "--preset", "pro-grpo", "--set", "lr=1e-4", "--set", "epochs=3"));
        assertEquals("pro-grpo", rec.config.method());
        assertEquals(48, rec.config.groupSize());
        assertEquals(1e-4, rec.config.lr());
        assertEquals(3, rec.config.epochs());
        assertFalse(rec.resume);
        assertEquals("", err.toString());
    }

    @Test
    void trainDefaultsToFlowGrpoAndPassesResumeAndOut(@TempDir Path dir) {
        assertEquals(0, run("train", "--resume", "--out", dir.resolve("run1").toString()));
        assertEquals("flow-grpo", rec.config.method());
        assertTrue(rec.resume);
        assertEquals(dir.resolve("run1").toString(), rec.config.outDir());
    }

    @Test
    void configFileSitsBetweenPresetAndSet(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.json");
        Files.writeString(file, "{\"epochs\": 5, \"lr\": 0.002}");
        assertEquals(0, run("train", "--preset", "static-ovf", "--config", file.toString(), "--set", "lr=0.001"));
        assertEquals("static-ovf", rec.config.method());
        assertEquals(5, rec.config.epochs());
        assertEquals(0.001, rec.config.lr());
    }

    @Test
    void badConfigExitsTwoWithOneLineNamingTheField() {
        assertEquals(Main.EXIT_USAGE, run("train", "--set", "lr=abc"));
        String e = err.toString();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("(lr)") && e.contains("'abc'"), e);
        assertNull(rec.config);

        err.getBuffer().setLength(0);
        assertEquals(2, run("train", "--set", "groupSize=1"));
        assertTrue(err.toString().startsWith("config error (groupSize): groupSize must be >= 2"), err.toString());

        err.getBuffer().setLength(0);
        assertEquals(2, run("train", "--preset", "nope"));
        assertTrue(err.toString().contains("unknown preset 'nope'"), err.toString());
    }

    @Test
    void missingConfigFileExitsTwo(@TempDir Path dir) {
        assertEquals(2, run("train", "--config", dir.resolve("missing.json").toString()));
        assertTrue(err.toString().contains("missing.json"), err.toString());
    }

    @Test
    void parseErrorsExitTwo() {
        assertEquals(2, run("train", "--bogus"));
        assertTrue(err.toString().contains("--bogus"), err.toString());
        assertEquals(2, run("eval"));
        assertTrue(err.toString().contains("--checkpoint"), err.toString());
        assertEquals(2, run("report"));
        assertEquals(2, run("frobnicate"));
        assertEquals(2, run());
        assertNull(rec.config);
    }

    @Test
    void dryRunPrintsTotalsWithoutTraining() {
        assertEquals(0, run("train", "--preset", "pro-grpo-flash", "--dry-run"));
        assertTrue(out.toString().contains("sampling NFE / epoch (unpruned)"), out.toString());
        assertTrue(out.toString().contains("24>16@5>12@7"), out.toString());
        assertNull(rec.config);
    }

    @Test
    void evalUsesTheCheckpointsOwnConfig(@TempDir Path dir) throws Exception {
        Path ckpt = Files.createDirectories(dir.resolve("ckpt"));
        Files.writeString(ckpt.resolve(Main.CONFIG_FILE_NAME), TrainConfig.preset("pro-grpo").toJson());
        Files.writeString(ckpt.resolve("policy.pt"), "");  // the fake Commands reads nothing
        assertEquals(0, run("eval", "--checkpoint", ckpt.toString(), "--set", "evalSteps=40"));
        assertEquals("pro-grpo", rec.config.method());
        assertEquals(40, rec.config.evalSteps());
        assertEquals(ckpt, rec.checkpoint);
        assertNull(rec.evalResult);

        assertEquals(2, run("eval", "--checkpoint", dir.resolve("absent").toString()));
        assertTrue(err.toString().contains("absent"), err.toString());
    }

    @Test
    void evalOfARunDirectoryEvaluatesItsCheckpointWithItsConfigAndOutWritesTheResult(@TempDir Path dir) throws Exception {
        Path runDir = Files.createDirectories(dir.resolve("run"));
        Path ckpt = Files.createDirectories(runDir.resolve("checkpoint"));
        Files.writeString(ckpt.resolve(Main.CONFIG_FILE_NAME), TrainConfig.preset("pro-grpo").toJson());
        Files.writeString(ckpt.resolve("policy.pt"), "");
        assertEquals(0, run("eval", "--checkpoint", runDir.toString(), "--out", dir.resolve("ev").toString()));
        assertEquals(ckpt, rec.checkpoint);
        assertEquals("pro-grpo", rec.config.method(), "the run's own config, not the flow-grpo defaults");
        assertEquals(dir.resolve("ev").resolve("eval.json"), rec.evalResult);
        assertTrue(err.toString().contains("run directory"), err.toString());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        rec.config = null;
        assertEquals(2, run("eval", "--checkpoint", empty.toString()));
        assertNull(rec.config, "nothing was evaluated");
        assertTrue(err.toString().contains("holds no checkpoint (policy.pt)"), err.toString());
    }

    @Test
    void reportPassesRunsAndOut(@TempDir Path dir) throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        assertEquals(0, run("report", "--runs", a.toString(), b.toString(), "--out", dir.resolve("rep").toString()));
        assertEquals(List.of(a, b), rec.runs);
        assertEquals(dir.resolve("rep"), rec.out);
        assertEquals(2, run("report", "--runs", dir.resolve("nope").toString()));
    }

    @Test
    void commandStatusIsPassedThroughAndMissingImplementationFails() {
        rec.status = 1;
        assertEquals(1, run("train"));
        // Not through Main.setCommands(null): the module's own ServiceLoader provider would then really train.
        assertNull(Main.firstProvider(List.of(), new PrintWriter(err, true)));
        assertTrue(err.toString().contains("no io.progrpo.app.cli.Commands implementation"), err.toString());
        assertEquals(rec, Main.firstProvider(List.of(rec), new PrintWriter(err, true)));
    }

    @Test
    void presetsListsEveryPresetWithItsChanges() {
        assertEquals(0, run("presets"));
        String o = out.toString();
        for (String p : TrainConfig.listPresets()) {
            assertTrue(o.contains("  " + p + " "), p + " missing in\n" + o);
        }
        assertTrue(o.contains("groupSize=48 pruneSchedule=48>24@5>12@7"), o);
        assertTrue(o.lines().anyMatch(l -> l.contains("quick") && l.contains("overlay")), o);
    }

    @Test
    void helpOnEverySubcommand() {
        // picocli reports a description it cannot format (an unescaped '%') on System.err, not on the configured writer
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            for (String sub : Main.commandLine().getSubcommands().keySet()) {
                out.getBuffer().setLength(0);
                assertEquals(0, run(sub, "--help"), sub);
                assertTrue(out.toString().contains("Usage: progrpo " + sub), out.toString());
            }
        } finally {
            System.setErr(before);
        }
        assertEquals("", warnings.toString(java.nio.charset.StandardCharsets.UTF_8), "help texts picocli could not format");
        assertTrue(Main.commandLine().getSubcommands().containsKey("gains"));
        out.getBuffer().setLength(0);
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("train") && out.toString().contains("presets"), out.toString());
        assertTrue(out.toString().contains("Usage: progrpo"), out.toString());
    }
}
