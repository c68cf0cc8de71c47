package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code scripts/demo}'s options: a bad --first-seed, --seeds, --world or --jobs is refused with the usage status, on the caller's stderr, before anything is written. */
class DemoFirstSeedTest {
    /** Runs the demo's command line with its usage errors into {@code err}, the caller's configured stderr. */
    static int run(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new Demo());
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        return cl.execute(args);
    }

    @Test
    void aNegativeOrOverflowingFirstSeedIsRefusedAndNothingIsWritten(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "--first-seed=-1", "--out", out.toString()));
        assertTrue(err.toString().contains("--first-seed must be >= 0") && err.toString().contains("got -1"), err.toString());
        StringWriter err2 = new StringWriter();
        assertEquals(2, run(err2, "--first-seed", String.valueOf(Long.MAX_VALUE - 1), "--seeds", "3", "--out", out.toString()));
        assertTrue(err2.toString().contains("leave room for 3 seeds"), err2.toString());
        assertFalse(Files.exists(out), "a refused demo creates no output directory");
    }

    @Test
    void badSeedsWorldOrJobsAreRefusedBeforeAnythingIsWritten(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        String[][] cases = {{"--seeds", "0"}, {"--world", "voxel"}, {"--jobs", "0"}};
        String[] expected = {"--seeds must be >= 1, got 0", "--world must be latent or pixel, got 'voxel'", "--jobs must be >= 1, got 0"};
        for (int i = 0; i < cases.length; i++) {
            StringWriter err = new StringWriter();
            assertEquals(2, run(err, cases[i][0], cases[i][1], "--out", out.toString()), String.join(" ", cases[i]));
            assertTrue(err.toString().contains(expected[i]), err.toString());
            assertFalse(Files.exists(out), "a refused demo creates no output directory: " + String.join(" ", cases[i]));
        }
    }

    @Test
    void theDefaultIsTheDemosSeedsAsBefore() {
        Demo d = new Demo();
        new CommandLine(d).parseArgs();
        assertEquals(1000, d.firstSeed);
        new CommandLine(d).parseArgs("--first-seed", "2000");
        assertEquals(2000, d.firstSeed);
    }
}
