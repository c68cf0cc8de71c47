package io.progrpo.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code progrpo adapters}' options: what reaches {@link Commands#adapters}, and the one-line refusals (status 2). */
class AdaptersCommandTest {
    @TempDir
    Path tmp;
    private AdapterPlan seen;

    @BeforeEach
    void register() {
        Main.setCommands(new Commands() {
            @Override public int train(TrainConfig c, boolean resume) { return 1; }
            @Override public int eval(TrainConfig c, Path checkpoint) { return 1; }
            @Override public int report(List<Path> runs, Path out) { return 1; }
            @Override public int adapters(AdapterPlan p) { seen = p; return 0; }
        });
    }

    @AfterEach
    void unregister() {
        Main.setCommands(null);
    }

    private Path run(String name) throws Exception {
        Path ck = tmp.resolve(name).resolve("checkpoint");
        Files.createDirectories(ck);
        Files.writeString(ck.resolve("policy.pt"), "x");
        Files.writeString(ck.resolve("config.json"), "{}");
        return tmp.resolve(name);
    }

    private int cli(StringWriter err, String... args) {
        return CliHarness.run(new StringWriter(), err, args);
    }

    @Test
    void runDirectoriesResolveToTheirCheckpointsAndTheDefaultIsTheAverage() throws Exception {
        Path a = run("a"), b = run("b");
        StringWriter err = new StringWriter();
        assertEquals(0, cli(err, "adapters", "--checkpoint", a.toString(), b.toString(), "--out", tmp.resolve("o").toString()), err.toString());
        assertEquals(List.of(a.resolve("checkpoint"), b.resolve("checkpoint")), seen.checkpoints());
        assertEquals(List.of(0.5, 0.5), seen.weights());
        assertEquals(1.0, seen.scale());
        assertNull(seen.only());

        assertEquals(0, cli(err, "adapters", "--checkpoint", a.resolve("checkpoint").toString(), "--checkpoint", b.toString(),
                "--weights", "1,-1", "--scale", "0.5", "--only", "cross", "--out", tmp.resolve("o").toString()));
        assertEquals(List.of(1.0, -1.0), seen.weights());
        assertEquals(0.5, seen.scale());
        assertEquals("cross", seen.only().pattern());
    }

    @Test
    void badOptionsAreOneLineWithStatusTwoAndNothingIsOverwritten() throws Exception {
        Path a = run("a"), b = run("b");
        String out = tmp.resolve("o").toString();
        refused("one weight per checkpoint is needed: 2 checkpoints, 1 weights",
                "adapters", "--checkpoint", a.toString(), b.toString(), "--weights", "1", "--out", out);
        refused("weight 2 must be finite, got NaN", "adapters", "--checkpoint", a.toString(), b.toString(), "--weights", "1,NaN", "--out", out);
        refused("scale must be finite", "adapters", "--checkpoint", a.toString(), "--scale", "Infinity", "--out", out);
        refused("--only '(' is not a regular expression", "adapters", "--checkpoint", a.toString(), "--only", "(", "--out", out);
        refused("holds no checkpoint (policy.pt)", "adapters", "--checkpoint", tmp.resolve("nowhere").toString(), "--out", out);
        refused("is one of the input checkpoints", "adapters", "--checkpoint", a.toString(), "--out", a.resolve("checkpoint").toString());
        Files.delete(b.resolve("checkpoint").resolve("config.json"));
        refused("has no config.json", "adapters", "--checkpoint", b.toString(), "--out", out);
        Path full = tmp.resolve("full");
        Files.createDirectories(full);
        Files.writeString(full.resolve("policy.pt"), "keep me");
        refused("already holds a policy.pt", "adapters", "--checkpoint", a.toString(), "--out", full.toString());
        assertEquals("keep me", Files.readString(full.resolve("policy.pt")));
        assertNull(seen, "no refused plan reached the implementation");
    }

    private void refused(String expected, String... args) {
        StringWriter err = new StringWriter();
        assertEquals(Main.EXIT_USAGE, cli(err, args), err.toString());
        String msg = err.toString().strip();
        assertTrue(msg.startsWith("error: ") && msg.contains(expected) && !msg.contains("\n"), msg);
    }
}
