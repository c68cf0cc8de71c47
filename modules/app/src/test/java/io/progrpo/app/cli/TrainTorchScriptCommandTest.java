package io.progrpo.app.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.app.ProgrpoCommands;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.jit.ScriptModule;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.config.TrainConfig;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code progrpo train-torchscript} on the TorchScript fixtures (scripts/export-torchscript-fixtures), in-process with
 * the real {@link ProgrpoCommands}: a tiny Pro-GRPO run trains the adapters into the run directory; bad usage fails
 * on one line naming the option and its value, before anything is loaded.
 */
class TrainTorchScriptCommandTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    /** What ProgrpoCommands printed (it logs to System.out / System.err, not to the picocli writers). */
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    @BeforeEach
    void register() {
        Main.setCommands(new ProgrpoCommands());
    }

    @AfterEach
    void unregister() {
        Main.setCommands(null);
    }

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("fixtures/torchscript");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/torchscript not found; run scripts/export-torchscript-fixtures");
    }

    private int run(List<String> args) {
        PrintStream sysOut = System.out;
        PrintStream sysErr = System.err;
        // swapped before the command line gets its writers: when System.err changes after setErr, picocli (4.7.6)
        // stops writing to the given writer
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            return CliHarness.run(out, err, args.toArray(String[]::new));
        } finally {
            System.setOut(sysOut);
            System.setErr(sysErr);
        }
    }

    private String errors() {
        return err + stderr.toString(StandardCharsets.UTF_8);
    }

    /** A Pro-GRPO run of one epoch, one group of 8 pruned to 4 then 2 over 4 steps, on the fixtures. */
    private List<String> args(Path runDir, String... extra) {
        Path f = fixtures();
        List<String> a = new ArrayList<>(List.of("train-torchscript", "--preset", "pro-grpo",
                "--set", "epochs=1", "--set", "groupsPerEpoch=1", "--set", "groupSize=8", "--set", "pruneSchedule=8>4@2>2@3",
                "--set", "samplerSteps=4", "--set", "subsetSize=2", "--set", "evalSteps=2", "--set", "evalEvery=1",
                "--set", "evalPrompts=2", "--set", "guidanceScale=2.0", "--set", "beta=0.01", "--set", "lr=0.01",
                "--out", runDir.toString(),
                "--policy", f.resolve("velocity.pt").toString(), "--adapter-scale",
                "--decoder", f.resolve("decoder.pt").toString(), "--decode-method", "decode",
                "--scorer", f.resolve("scorer.pt").toString(), "--reward-name", "two_tower",
                "--latent-shape", "4,4,4"));
        a.addAll(List.of(extra));
        return a;
    }

    private static Map<String, float[]> fixturePolicy() throws IOException {
        Map<String, float[]> values = new HashMap<>();
        try (ScriptModule m = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
            m.namedParameters().forEach((k, v) -> values.put(k, v.toFloatArray()));
        }
        return values;
    }

    private static Map<String, float[]> load(Path file) throws IOException {
        Map<String, Tensor> loaded = TensorIO.load(file);
        try {
            Map<String, float[]> values = new HashMap<>();
            loaded.forEach((k, v) -> values.put(k, v.toFloatArray()));
            return values;
        } finally {
            loaded.values().forEach(Tensor::close);
        }
    }

    @Test
    void trainsTheAdaptersIntoTheCheckpoint() throws IOException {
        Path runDir = tmp.resolve("run");
        // left by an earlier checkpointEvery=0 run in the same directory: a fresh run removes it
        Files.createDirectories(runDir);
        Files.writeString(runDir.resolve(ProgrpoCommands.ADAPTERS_FILE), "stale");
        int status = run(args(runDir, "--set", "checkpointEvery=1"));
        assertEquals(0, status, this::errors);

        List<Map<String, Object>> rows = MetricsLog.read(runDir.resolve("metrics.jsonl"));
        assertEquals(2, rows.size(), "the eval before training and one epoch");
        assertEquals("pro-grpo", rows.get(1).get("method"));
        assertTrue(rows.get(1).get("eval_reward") instanceof Number, "evaluated with the TorchScript decoder and reward");

        // the checkpoint's policy.pt is the adapter file: exactly the 8 lora_ parameters, all trained; no second copy
        Path adapters = runDir.resolve("checkpoint").resolve("policy.pt");
        assertTrue(stdout.toString(StandardCharsets.UTF_8).contains(adapters.toString()), "the log says where the adapters are");
        assertFalse(Files.exists(runDir.resolve(ProgrpoCommands.ADAPTERS_FILE)), "the checkpoint already holds them");
        Map<String, float[]> initial = fixturePolicy();
        Map<String, float[]> trained = load(adapters);
        assertEquals(8, trained.size());
        for (Map.Entry<String, float[]> e : trained.entrySet()) {
            assertTrue(e.getKey().contains("lora_"), e.getKey());
            assertEquals(initial.get(e.getKey()).length, e.getValue().length, e.getKey());
            assertFalse(Arrays.equals(initial.get(e.getKey()), e.getValue()), "trained " + e.getKey());
        }

        // `progrpo eval` is for embedded-world runs: on these adapters it says so instead of listing every name
        CACHE.point(tmp.resolve("cache"));
        int ev = run(List.of("eval", "--checkpoint", runDir.resolve("checkpoint").toString(),
                "--set", "modelWidth=8", "--set", "imageSize=8", "--set", "pretrainSteps=2", "--set", "evalSteps=2"));
        assertEquals(1, ev, this::errors);
        assertTrue(errors().contains("none is a parameter of the embedded world's model")
                && errors().contains("lora_"), errors());
    }

    @Test
    void withoutCheckpointsTheTrainedParametersGoToAdaptersPt() throws IOException {
        Path runDir = tmp.resolve("run");
        // the frozen-copy reference needs no adapter_scale argument; train only the second block's lora_B
        List<String> a = args(runDir, "--set", "checkpointEvery=0", "--set", "evalEvery=0",
                "--reference", "frozen-copy", "--trainable", "blocks\\.1\\..*lora_B");
        a.remove("--adapter-scale");
        assertEquals(0, run(a), this::errors);

        assertFalse(Files.exists(runDir.resolve("checkpoint")), "checkpointEvery=0 writes no checkpoint");
        assertEquals(1, MetricsLog.read(runDir.resolve("metrics.jsonl")).size());
        Map<String, float[]> initial = fixturePolicy();
        Map<String, float[]> trained = load(runDir.resolve(ProgrpoCommands.ADAPTERS_FILE));
        List<String> selected = initial.keySet().stream().filter(k -> k.startsWith("blocks.1.") && k.endsWith("lora_B")).sorted().toList();
        assertFalse(selected.isEmpty());
        assertEquals(selected, trained.keySet().stream().sorted().toList());
        trained.forEach((k, v) -> assertFalse(Arrays.equals(initial.get(k), v), "trained " + k));
    }

    @Test
    void dryRunPrintsTheConfigAndModelsAndRunsNothing() {
        Path runDir = tmp.resolve("run");
        assertEquals(0, run(args(runDir, "--dry-run", "--time-scale", "1000")), this::errors);
        String printed = out.toString();
        assertTrue(printed.contains("configuration (* = differs from defaults)"), printed);
        assertTrue(printed.contains("pruneSchedule") && printed.contains("8>4@2>2@3"), printed);
        assertTrue(printed.contains("velocity.pt forward(x, t * 1000.0, cond, adapter_scale)"), printed);
        assertTrue(printed.contains("latent shape  [4, 4, 4]"), printed);
        assertTrue(printed.contains("reported as 'two_tower'"), printed);
        assertFalse(Files.exists(runDir), "nothing ran");
        assertEquals("", stdout.toString(StandardCharsets.UTF_8), "the implementation was not called");
    }

    @Test
    void aMissingPolicyFileIsUsageErrorNamingThePath() {
        Path runDir = tmp.resolve("run");
        Path missing = tmp.resolve("no-such-policy.pt");
        List<String> a = args(runDir);
        a.set(a.indexOf("--policy") + 1, missing.toString());
        assertEquals(Main.EXIT_USAGE, run(a));
        assertTrue(err.toString().contains("--policy " + missing + ": no such file"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), "one line: " + err);
        assertFalse(Files.exists(runDir), "nothing ran");
    }

    @Test
    void aFileThatIsNotTorchScriptFailsNamingTheFile() {
        Path runDir = tmp.resolve("run");
        Path stateDict = fixtures().resolve("state_dict.pt");
        List<String> a = args(runDir);
        a.set(a.indexOf("--scorer") + 1, stateDict.toString());
        assertEquals(Main.EXIT_FAILURE, run(a));
        String e = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("cannot load " + stateDict + " as a TorchScript module"), e);
        assertEquals(1, e.strip().lines().count(), "one line: " + e);
    }

    @Test
    void badLatentShapesAreUsageErrorsNamingTheValue() {
        for (String bad : List.of("4,0,4", "4,64", "4,-1,64", "4,x,64", "4,64,64,2", "")) {
            out.getBuffer().setLength(0);
            err.getBuffer().setLength(0);
            Path runDir = tmp.resolve("run");
            List<String> a = args(runDir);
            a.set(a.indexOf("--latent-shape") + 1, bad);
            assertEquals(Main.EXIT_USAGE, run(a), bad);
            assertTrue(err.toString().contains("--latent-shape '" + bad + "'"), err.toString());
            assertFalse(Files.exists(runDir), "nothing ran for " + bad);
        }
        List<String> a = args(tmp.resolve("run"));
        int i = a.indexOf("--latent-shape");
        a.remove(i + 1);
        a.remove(i);
        err.getBuffer().setLength(0);
        assertEquals(Main.EXIT_USAGE, run(a));
        assertTrue(err.toString().contains("--latent-shape"), err.toString());
    }

    @Test
    void aTrainablePatternThatSelectsNothingIsNamed() {
        Path runDir = tmp.resolve("run");
        assertEquals(Main.EXIT_FAILURE, run(args(runDir, "--trainable", "adapter\\.")));
        String e = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("'adapter\\.' selects no parameter of") && e.contains("velocity.pt"), e);
        assertFalse(Files.exists(runDir.resolve("metrics.jsonl")), "nothing trained");
    }

    @Test
    void anInvalidRegexIsAUsageErrorNamingIt() {
        assertEquals(Main.EXIT_USAGE, run(args(tmp.resolve("run"), "--trainable", "lora_(")));
        assertTrue(err.toString().contains("--trainable 'lora_(' is not a regular expression"), err.toString());
    }

    @Test
    void referenceModesAndTimeScaleAreChecked() {
        assertEquals(Main.EXIT_USAGE, run(args(tmp.resolve("run"), "--reference", "shared")));
        assertTrue(err.toString().contains("--reference") && err.toString().contains("'shared'"), err.toString());

        err.getBuffer().setLength(0);
        List<String> a = args(tmp.resolve("run"), "--reference", "adapters-disabled");
        a.remove("--adapter-scale");
        assertEquals(Main.EXIT_USAGE, run(a));
        assertTrue(err.toString().contains("--reference adapters-disabled needs --adapter-scale"), err.toString());

        err.getBuffer().setLength(0);
        assertEquals(Main.EXIT_USAGE, run(args(tmp.resolve("run"), "--time-scale", "0")));
        assertTrue(err.toString().contains("--time-scale 0.0"), err.toString());

        // the three spellings map onto ReferenceMode's constants
        TrainTorchScriptCommand.ReferenceModeConverter c = new TrainTorchScriptCommand.ReferenceModeConverter();
        assertEquals("AUTO ADAPTERS_DISABLED FROZEN_COPY", String.join(" ", List.of(c.convert("auto").name(),
                c.convert("adapters-disabled").name(), c.convert("FROZEN_COPY").name())));
    }

    @Test
    void anImplementationWithoutTorchScriptSupportFailsOnOneLine() {
        Main.setCommands(new Commands() {
            @Override
            public int train(TrainConfig c, boolean resume) {
                return 0;
            }

            @Override
            public int eval(TrainConfig c, Path checkpoint) {
                return 0;
            }

            @Override
            public int report(List<Path> runs, Path out) {
                return 0;
            }
        });
        assertEquals(Main.EXIT_FAILURE, run(args(tmp.resolve("run"))));
        assertTrue(err.toString().contains("does not implement train-torchscript"), err.toString());
    }

    @Test
    void latentShapeParsing() {
        assertArrayEquals(new long[] {4, 64, 64}, TrainTorchScriptCommand.parseLatentShape("4,64,64"));
        assertArrayEquals(new long[] {16, 128, 96}, TrainTorchScriptCommand.parseLatentShape(" 16, 128 ,96 "));
    }
}
