package io.progrpo.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.study.StudyOptions;
import io.progrpo.trainer.config.TrainConfig;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code progrpo study}'s options reach {@link Commands#study}; bad ones are one line and status 2; --dry-run writes nothing. */
class StudyCommandTest {
    @TempDir
    Path tmp;

    private StudyOptions asked;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void register() {
        Main.setCommands(new Commands() {
            @Override
            public int train(TrainConfig c, boolean resume) {
                throw new AssertionError("not a study");
            }

            @Override
            public int eval(TrainConfig c, Path checkpoint) {
                throw new AssertionError("not a study");
            }

            @Override
            public int report(List<Path> runs, Path out) {
                throw new AssertionError("not a study");
            }

            @Override
            public int study(StudyOptions o) {
                asked = o;
                return 0;
            }
        });
    }

    @AfterEach
    void unregister() {
        Main.setCommands(null);
    }

    private int run(String... args) {
        return CliHarness.run(out, err, args);
    }

    @Test
    void optionsReachTheCommand() {
        assertEquals(0, run("study", "--world", "latent", "--seeds", "4", "--arms", "pro-grpo,static-ovf", "--out", tmp.toString()));
        assertEquals("latent", asked.world());
        assertEquals(4, asked.seeds());
        assertEquals(List.of("pro-grpo", "static-ovf"), asked.arms());
        assertEquals(tmp, asked.outDir());
        assertFalse(asked.quick());
        assertEquals(Path.of("docs", "study", "pixel-quick"), new StudyOptions("pixel", null, null, true, null, false).outDir());
    }

    @Test
    void badOptionsAreOneLineAndStatus2() {
        assertEquals(2, run("study"));
        assertTrue(err.toString().contains("--world"), err.toString());
        assertEquals(2, run("study", "--world", "moon"));
        assertTrue(err.toString().contains("error: --world must be pixel or latent, got 'moon'"), err.toString());
        assertEquals(2, run("study", "--world", "pixel", "--arms", "pro-grpo,nope"));
        assertTrue(err.toString().contains("unknown arm 'nope'"), err.toString());
        assertEquals(2, run("study", "--world", "pixel", "--seeds", "0"));
        assertTrue(err.toString().contains("--seeds must be >= 1, got 0"), err.toString());
        assertNull(asked, "nothing ran");
    }

    @Test
    void dryRunPrintsThePlanAndWritesNothing() {
        Path dir = tmp.resolve("s");
        assertEquals(0, run("study", "--world", "pixel", "--dry-run", "--out", dir.toString()));
        String o = out.toString();
        assertTrue(o.contains("# Pre-registered plan: progrpo study, pixel world") && o.contains("Dry run, not registered"), o);
        assertTrue(o.contains("| pro-grpo-late | pro-grpo | `groupSize=48 pruneSchedule=48>12@9` | ablation | 5 |"), o);
        assertTrue(o.contains("Total: 75 runs") && o.contains("estimated wall time"), o);
        assertFalse(Files.exists(dir), "a dry run writes nothing");
        assertNull(asked, "and runs nothing");
    }
}
