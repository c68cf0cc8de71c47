package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code scripts/demo --first-seed}: a bad value is refused with the usage status before anything is written. */
class DemoFirstSeedTest {
    /** Runs the demo's command line; what it prints to stderr (where its usage errors go) is appended to {@code err}. */
    static int run(StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new Demo());
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        PrintStream before = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            return cl.execute(args);
        } finally {
            System.setErr(before);
            err.append(bytes.toString(StandardCharsets.UTF_8));
        }
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
    void theDefaultIsTheDemosSeedsAsBefore() {
        Demo d = new Demo();
        new CommandLine(d).parseArgs();
        assertEquals(1000, d.firstSeed);
        new CommandLine(d).parseArgs("--first-seed", "2000");
        assertEquals(2000, d.firstSeed);
    }
}
