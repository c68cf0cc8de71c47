package io.progrpo.app.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

import picocli.CommandLine;

/** The tests' one way to run the CLI in-process: {@link Main#commandLine()} with its output and errors captured. */
public final class CliHarness {
    private CliHarness() {}

    /** Runs {@code args} through the CLI with stdout into {@code out} and stderr into {@code err}; the exit status. */
    public static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** Runs {@code args} with stdout and stderr both into {@code both}. */
    public static int run(StringWriter both, String... args) {
        return run(both, both, args);
    }
}
