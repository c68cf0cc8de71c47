package io.progrpo.app.cli;

import io.progrpo.tensor.Torch;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One row per bad value, through the CLI entry point ({@link Main#commandLine()}): values from JSON files,
 * {@code --set}, {@code --preset} and the launcher's environment (family 12), and values that pass the record's field
 * rules but that the job could not be built from (samplers, schedules, rewards, prompts, devices, files). Each row must
 * end with exit status 2, exactly one line on stderr, {@code config error (FIELD): } naming the row's field and
 * holding the row's fragment, no stack trace, and no command run. Rows of {@code train} run a second time with
 * {@code --dry-run}, which must catch them too.
 */
class ConfigErrorTableTest {
    static Path dir;
    static Path file;
    static Path policy;

    @BeforeAll
    static void files() throws IOException {
        dir = Files.createTempDirectory("config-error-table");
        file = Files.writeString(dir.resolve("a-file"), "not a directory");
        policy = Files.writeString(dir.resolve("policy.pt"), "");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Records whether a command ran. */
    static class Recording implements Commands {
        TrainConfig config;

        @Override
        public int train(TrainConfig c, boolean resume) {
            config = c;
            return 0;
        }

        @Override
        public int eval(TrainConfig c, Path checkpoint) {
            config = c;
            return 0;
        }

        @Override
        public int report(List<Path> runs, Path out) {
            return 0;
        }

        @Override
        public int trainTorchScript(TrainConfig c, io.progrpo.app.torchscript.TorchScriptModels m, boolean resume) {
            config = c;
            return 0;
        }
    }

    /**
     * One bad value.
     *
     * @param command  train, eval or train-torchscript
     * @param args     the options after the command
     * @param env      the environment the checks see
     * @param json     content of a --config file (null: none), written as raw bytes when it starts with "bytes:"
     * @param field    the field the error must name
     * @param fragment text the message must hold
     */
    record Row(String name, String command, List<String> args, Map<String, String> env, String json, String field,
               String fragment) {
        @Override
        public String toString() {
            return name;
        }

        Row env(String... kv) {
            Map<String, String> m = new LinkedHashMap<>(env);
            for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
            return new Row(name, command, args, m, json, field, fragment);
        }

        Row on(String cmd) {
            return new Row(name + " (" + cmd + ")", cmd, args, env, json, field, fragment);
        }
    }

    static Row set(String field, String value, String fragment) {
        return row(field + "=" + value.replace("\n", "\\n").replace("\0", "\\0"), field, fragment, "--set", field + "=" + value);
    }

    static Row row(String name, String field, String fragment, String... args) {
        return new Row(name, "train", List.of(args), Map.of(), null, field, fragment);
    }

    static Row json(String name, String content, String field, String fragment) {
        return new Row(name, "train", List.of(), Map.of(), content, field, fragment);
    }

    static Row env(String name, String field, String fragment, String... kv) {
        return row(name, field, fragment).env(kv);
    }

    static final String FILE_FIELD = "file ";  // the field of a whole-file problem: "file <path>"

    static List<Row> rows() {
        int cudaCount;
        try {
            cudaCount = Torch.cudaAvailable() ? Torch.cudaDeviceCount() : 0;
        } catch (RuntimeException e) {
            cudaCount = 0;
        }
        List<Row> r = new ArrayList<>(List.of(
                // ---- family 12: JSON files
                json("a trailing second JSON object", "{\"epochs\": 2}\n{\"epochs\": 3}", FILE_FIELD,
                        "after the object that ends at line 1, column 13 comes an object at line 2, column 1"),
                json("trailing garbage after the object", "{\"epochs\": 2} x", FILE_FIELD, "malformed JSON"),
                json("a trailing array", "{\"epochs\": 2} [1]", FILE_FIELD, "comes an array"),
                json("a duplicate key", "{\"epochs\": 2,\n \"epochs\": 3}", "epochs", "'epochs' appears twice"),
                json("epochs 3000000000 in JSON", "{\"epochs\": 3000000000}", "epochs", "got 3000000000"),
                json("epochs 1e10 in JSON", "{\"epochs\": 1e10}", "epochs", "expects an integer (int, -2147483648 to 2147483647), got 1e10"),
                json("epochs 2.5 in JSON", "{\"epochs\": 2.5}", "epochs", "got 2.5"),
                json("epochs 5.0 in JSON", "{\"epochs\": 5.0}", "epochs", "got 5.0"),
                json("seed beyond a long in JSON", "{\"seed\": 99999999999999999999}", "seed", "expects an integer (long"),
                json("lr 1e400 in JSON", "{\"lr\": 1e400}", "lr", "beyond the range of a double"),
                json("an object as a value", "{\"lr\": {\"value\": 0.1}}", "lr", "got {\"value\":0.1}"),
                json("null as a value", "{\"method\": null}", "method", "expects a string, got null"),
                json("a JSON array", "[1, 2]", FILE_FIELD, "must hold a JSON object of config fields, got an array"),
                json("an empty file", "  \n", FILE_FIELD, "got nothing"),
                json("NaN in JSON", "{\"lr\": NaN}", FILE_FIELD, "malformed JSON"),
                json("bytes that are not UTF-8", "bytes:{\"outDir\": \"\u00ff\u00fe\"}", FILE_FIELD, "must be UTF-8 text"),
                row("a directory as --config", "--config", "does not exist or is not a file", "--config", "DIR"),
                // ---- family 12: --set
                set("epochs", "3000000000", "got '3000000000' (out of range)"),
                set("epochs", "1e10", "expects an integer (int"),
                set("epochs", "2.5", "got '2.5'"),
                set("epochs", "\u0663", "got '\u0663'"),
                set("lr", "1e-4f", "got '1e-4f'"),
                set("lr", "0x1p-3", "got '0x1p-3'"),
                set("lr", "NaN", "a finite decimal number"),
                set("lr", "1e400", "beyond the range of a double"),
                set("seed", "9223372036854775808", "expects an integer (long"),
                set("detachUncond", "yes", "true or false, got 'yes'"),
                row("--set without a key", "--set", "--set expects key=value, got '=5'", "--set", "=5"),
                set("device", "cu\nda", "got 'cu\\nda'"),
                set("reward", "alignment:0x1p1", "finite decimal number such as 0.1, got '0x1p1'"),
                set("reward", "alignment:1e400", "got '1e400'"),
                row("a schedule size beyond an int", "pruneSchedule", "99999999999 is out of range",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=99999999999>24@5"),
                set("device", "cuda:99999999999", "must be an int"),
                set("outDir", "runs/a\0b", "outDir must be a valid directory path"),
                // ---- family 12: presets
                row("preset ending in +", "preset", "empty name after the last '+'", "--preset", "pro-grpo+"),
                row("preset starting with +", "preset", "empty name before the first '+'", "--preset", "+quick"),
                row("preset with ++", "preset", "empty name between two '+'", "--preset", "pro-grpo++quick"),
                row("an empty preset", "preset", "has an empty name", "--preset", ""),
                // ---- family 12: the launcher's environment
                env("PROGRPO_GROUPS_PER_STEP=abc", "PROGRPO_GROUPS_PER_STEP", "got 'abc'", "WORLD_SIZE", "1", "PROGRPO_GROUPS_PER_STEP", "abc"),
                env("PROGRPO_GROUPS_PER_STEP=-2", "PROGRPO_GROUPS_PER_STEP", "in [0, 2147483647]", "WORLD_SIZE", "1", "PROGRPO_GROUPS_PER_STEP", "-2"),
                env("PROGRPO_GROUPS_PER_STEP beyond an int", "PROGRPO_GROUPS_PER_STEP", "got '99999999999'", "WORLD_SIZE", "1", "PROGRPO_GROUPS_PER_STEP", "99999999999"),
                env("PROGRPO_GROUPS_PER_STEP not a multiple of WORLD_SIZE", "PROGRPO_GROUPS_PER_STEP", "multiple of WORLD_SIZE = 2",
                        "WORLD_SIZE", "2", "RANK", "0", "PROGRPO_GROUPS_PER_STEP", "3"),
                env("PROGRPO_GROUPS_PER_STEP not dividing groupsPerEpoch", "PROGRPO_GROUPS_PER_STEP", "must divide groupsPerEpoch = 8",
                        "WORLD_SIZE", "1", "PROGRPO_GROUPS_PER_STEP", "16"),
                env("groupsPerEpoch not splitting over the ranks", "groupsPerEpoch", "multiple of WORLD_SIZE = 3",
                        "WORLD_SIZE", "3", "RANK", "0"),
                env("WORLD_SIZE=0", "WORLD_SIZE", "in [1, 2147483647]", "WORLD_SIZE", "0"),
                env("WORLD_SIZE=two", "WORLD_SIZE", "got 'two'", "WORLD_SIZE", "two"),
                env("WORLD_SIZE=2 without RANK", "RANK", "RANK must be set", "WORLD_SIZE", "2"),
                env("RANK=2 of 2", "RANK", "in [0, 1]", "WORLD_SIZE", "2", "RANK", "2"),
                env("LOCAL_RANK above RANK", "LOCAL_RANK", "in [0, 0]", "WORLD_SIZE", "2", "RANK", "0", "LOCAL_RANK", "1"),
                env("MASTER_PORT=70000", "MASTER_PORT", "in [1, 65535]", "WORLD_SIZE", "1", "MASTER_PORT", "70000"),
                env("MASTER_PORT=http", "MASTER_PORT", "got 'http'", "WORLD_SIZE", "1", "MASTER_PORT", "http"),
                env("MASTER_ADDR with a space", "MASTER_ADDR", "no spaces", "WORLD_SIZE", "1", "MASTER_ADDR", "a b"),
                env("PROGRPO_DIST_TIMEOUT=abc", "PROGRPO_DIST_TIMEOUT", "got 'abc'", "WORLD_SIZE", "1", "PROGRPO_DIST_TIMEOUT", "abc"),
                env("PROGRPO_DIST_TIMEOUT=0", "PROGRPO_DIST_TIMEOUT", "seconds in [0.001", "WORLD_SIZE", "1", "PROGRPO_DIST_TIMEOUT", "0"),
                env("PROGRPO_DIST_TIMEOUT=1e12", "PROGRPO_DIST_TIMEOUT", "got '1e12'", "WORLD_SIZE", "1", "PROGRPO_DIST_TIMEOUT", "1e12"),
                env("PROGRPO_DIST_TIMEOUT=NaN", "PROGRPO_DIST_TIMEOUT", "got 'NaN'", "WORLD_SIZE", "1", "PROGRPO_DIST_TIMEOUT", "NaN"),
                env("PROGRPO_DIST_BACKEND=mpi", "PROGRPO_DIST_BACKEND", "gloo or nccl, got 'mpi'", "WORLD_SIZE", "1", "PROGRPO_DIST_BACKEND", "mpi"),
                env("PROGRPO_DIST_BACKEND=nccl on cpu", "PROGRPO_DIST_BACKEND", "nccl carries CUDA tensors only",
                        "WORLD_SIZE", "1", "PROGRPO_DIST_BACKEND", "nccl"),
                new Row("train-torchscript with WORLD_SIZE=2", "train-torchscript", List.of(), Map.of("WORLD_SIZE", "2", "RANK", "0"),
                        null, "WORLD_SIZE", "runs in one process"),
                // ---- unclear errors: values the job could not be built from
                set("imageSize", "6", "even and >= 8"),
                set("imageSize", "7", "even and >= 8"),
                set("modelWidth", "6", "multiple of 4"),
                set("reward", "nope", "reward 'nope' in 'nope' is not registered; expected one of alignment"),
                set("reward", "alignment,jpeg_size", "reward 'jpeg_size'"),
                set("guidanceScale", "0.5", ">= 1 (1 = no guidance), got 0.5"),
                row("pro-grpo with a schedule for G_max 24", "pruneSchedule", "starts at G_max = 24 but groupSize is 48",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=flow-flash"),
                row("pro-grpo with a schedule for T = 50", "pruneSchedule", "is for 50 sampler steps, but samplerSteps is 10",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=diffusion"),
                row("pro-grpo with a schedule that never prunes", "pruneSchedule", "never prunes",
                        "--preset", "pro-grpo", "--set", "groupSize=24", "--set", "pruneSchedule=flow-baseline"),
                row("pro-grpo with an unknown schedule name", "pruneSchedule", "neither a spec like 48>24@5>12@7 nor a preset",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=standard"),
                row("a checkpoint step at T", "pruneSchedule", "checkpoint step 10 must be in [1, 9]",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=48>24@10"),
                row("a checkpoint step beyond a shorter T", "pruneSchedule", "checkpoint step 7 has no room",
                        "--preset", "pro-grpo", "--set", "samplerSteps=6"),
                row("a funnel that grows", "pruneSchedule", "size 30 must be in [2, 23]",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=48>24@5>30@7"),
                row("a final K below 2", "pruneSchedule", "size 1 must be in [2, 23]",
                        "--preset", "pro-grpo", "--set", "pruneSchedule=48>24@5>1@7"),
                row("G_max below the final K", "pruneSchedule", "size 48 must be in [2, 23]",
                        "--preset", "pro-grpo", "--set", "groupSize=24", "--set", "pruneSchedule=24>48@5"),
                row("static-ovf keeping the whole group", "subsetSize", "must be < groupSize (24)",
                        "--preset", "static-ovf", "--set", "subsetSize=24"),
                row("uniform-subsample keeping more than the group", "subsetSize", "must be < groupSize (24)",
                        "--preset", "uniform-subsample", "--set", "subsetSize=30"),
                row("dance-grpo with T = 1000", "samplerSteps", "expected at most 999", "--preset", "dance-grpo", "--set", "samplerSteps=1000"),
                row("dance-grpo with T = 2000", "samplerSteps", "expected at most 999", "--preset", "dance-grpo", "--set", "samplerSteps=2000"),
                row("dance-grpo with 1000 eval steps", "evalSteps", "expected at most 999", "--preset", "dance-grpo", "--set", "evalSteps=1000"),
                row("dance-grpo with eta 0", "eta", "eta must be in (0, 1] for method dance-grpo", "--preset", "dance-grpo", "--set", "eta=0"),
                row("dance-grpo with eta 1.5", "eta", "got 1.5", "--preset", "dance-grpo", "--set", "eta=1.5"),
                row("dance-grpo with eta 1e-30", "eta", "too small for float32 log-probs", "--preset", "dance-grpo", "--set", "eta=1e-30"),
                set("noiseLevel", "50", "expected a < 1.41"),
                set("noiseLevel", "1.5", "is too large for samplerSteps = 10 and shift = 1.0"),
                set("noiseLevel", "1e-25", "too small for float32 log-probs"),
                set("shift", "1e300", "gives no usable sigma grid"),
                set("shift", "1e-300", "at the same float32 value"),
                set("evalSteps", "100001", "evalSteps must be <= 100000"),
                set("samplerSteps", "2000000000", "samplerSteps must be <= 100000"),
                set("groupsPerEpoch", "97", "groupsPerEpoch must be <= 96"),
                set("evalPrompts", "25", "evalPrompts must be <= 24"),
                row("rows per epoch beyond an int", "groupSize", "must be at most 2147483647",
                        "--set", "groupsPerEpoch=96", "--set", "groupSize=100000000"),
                set("imageSize", "4096", "the floats of one reward batch"),
                set("device", "cuda:" + cudaCount, "device 'cuda:" + cudaCount + "'"),
                set("outDir", file.toString(), "exists and is a file"),
                set("outDir", file.resolve("run").toString(), "cannot be created: " + file + " is a file"),
                set("imageSize", "6", "even and >= 8").on("eval"),
                set("groupsPerEpoch", "97", "<= 96").on("train-torchscript"),
                set("noiseLevel", "50", "too large").on("train-torchscript")));
        if (cudaCount == 0) r.add(set("device", "cuda", "device 'cuda' needs a CUDA"));
        return r;
    }

    /** Each row as given, and each train row again with --dry-run. */
    static Stream<Row> cases() {
        return rows().stream().flatMap(r -> r.command().equals("train")
                ? Stream.of(r, new Row(r.name() + " (--dry-run)", r.command(), concat(r.args(), "--dry-run"), r.env(), r.json(),
                r.field(), r.fragment()))
                : Stream.of(r));
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> l = new ArrayList<>(a);
        l.add(b);
        return l;
    }

    private Recording rec;

    @BeforeEach
    void register() {
        rec = new Recording();
        Main.setCommands(rec);
    }

    @AfterEach
    void unregister() {
        Main.setCommands(null);
        Main.environment = null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void exitsTwoWithOneLineNamingTheField(Row row) throws IOException {
        List<String> args = new ArrayList<>();
        args.add(row.command());
        switch (row.command()) {
            case "eval" -> args.addAll(List.of("--checkpoint", dir.toString()));
            case "train-torchscript" -> args.addAll(List.of("--policy", policy.toString(), "--decoder", policy.toString(),
                    "--scorer", policy.toString(), "--latent-shape", "3,8,8"));
            default -> { }
        }
        String field = row.field();
        if (row.json() != null) {
            Path f = Files.createTempFile(dir, "config", ".json");
            if (row.json().startsWith("bytes:")) {
                Files.write(f, row.json().substring(6).getBytes(StandardCharsets.ISO_8859_1));
            } else {
                Files.writeString(f, row.json());
            }
            args.addAll(List.of("--config", f.toString()));
            if (field.equals(FILE_FIELD)) field = "file " + f;
        }
        for (String a : row.args()) args.add(a.equals("DIR") ? dir.toString() : a);
        Main.environment = row.env();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = CliHarness.run(out, err, args.toArray(String[]::new));
        String e = err.toString();
        assertEquals(2, status, "exit status for " + args + "; stderr: " + e);
        assertEquals(1, e.lines().count(), "one line on stderr: " + e);
        assertTrue(e.startsWith("config error (" + field + "): "), "names the field " + field + ": " + e);
        assertTrue(e.contains(row.fragment()), "holds '" + row.fragment() + "': " + e);
        assertFalse(e.contains("Exception") || e.contains("\tat "), "no stack trace: " + e);
        assertNull(rec.config, "no command ran");
    }

    @Test
    void theTableCoversEveryFamily() {
        List<Row> rows = rows();
        // counted in docs/reliability.md
        assertTrue(rows.size() >= 95, "rows: " + rows.size());
        assertTrue(rows.stream().anyMatch(r -> r.json() != null) && rows.stream().anyMatch(r -> !r.env().isEmpty()));
        assertEquals(rows.size(), rows.stream().map(Row::name).distinct().count(), "row names are unique: "
                + Arrays.toString(rows.stream().map(Row::name).toArray()));
    }

    /** Neighbours of the bad values that are good: the rules reject what the job cannot take, and only that. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("goodValues")
    void goodNeighboursPassTheDryRun(List<String> args) {
        Main.environment = Map.of();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("train", "--dry-run"));
        all.addAll(args);
        assertEquals(0, cl.execute(all.toArray(String[]::new)), err.toString());
        assertEquals("", err.toString());
        assertTrue(out.toString().contains("per-epoch totals"), out.toString());
    }

    static Stream<List<String>> goodValues() {
        return Stream.of(
                List.of("--set", "imageSize=8"), List.of("--set", "modelWidth=4"), List.of("--set", "noiseLevel=1.4"),
                List.of("--set", "shift=3"), List.of("--set", "shift=0.05"), List.of("--set", "guidanceScale=1"),
                List.of("--set", "groupsPerEpoch=96"), List.of("--set", "evalPrompts=24"), List.of("--set", "pretrainSteps=0"),
                List.of("--set", "epochs=+5"), List.of("--set", "lr=.001"), List.of("--set", "reward=alignment:1e-1,jpeg_compressibility:-2"),
                List.of("--preset", "dance-grpo", "--set", "samplerSteps=999", "--set", "eta=1"),
                List.of("--preset", "pro-grpo", "--set", "pruneSchedule=flow-standard"),
                List.of("--preset", "pro-grpo-flash", "--set", "pruneSchedule=flow-flash"),
                List.of("--preset", "static-ovf", "--set", "subsetSize=23"),
                List.of("--preset", " pro-grpo + quick "),
                List.of("--set", "outDir=" + dir.resolve("new-run")));
    }

    @Test
    void aFileWithAByteOrderMarkIsRead() throws IOException {
        Path f = Files.createTempFile(dir, "bom", ".json");
        Files.writeString(f, "\uFEFF{\"epochs\": 3}");
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        Main.environment = Map.of();
        assertEquals(0, cl.execute("train", "--config", f.toString()), err.toString());
        assertEquals(3, rec.config.epochs());
    }


    /** A ConfigException from the work itself (a library caller's Jobs.build) is still the one line and status 2. */
    @Test
    void aConfigExceptionFromTheCommandIsTheOneLineToo() {
        Main.environment = Map.of();
        Main.setCommands(new Recording() {
            @Override
            public int train(TrainConfig c, boolean resume) {
                throw new io.progrpo.trainer.config.ConfigException("reward", "reward 'x' is not registered, got 'x'");
            }
        });
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        assertEquals(2, cl.execute("train"));
        assertEquals("config error (reward): reward 'x' is not registered, got 'x'", err.toString().strip());
    }
}
