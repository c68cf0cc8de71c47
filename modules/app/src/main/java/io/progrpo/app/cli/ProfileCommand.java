package io.progrpo.app.cli;

import io.progrpo.app.profile.Profile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code progrpo profile RUN_OR_JFR}: the memory timeline and per-phase peaks of a recording or a run ({@link Profile}). */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = {"Memory of a run: a Flight Recorder file recorded with progrpo.jfc becomes memory-timeline.png (ledger, RSS, "
                + "phases shaded, prune checkpoints marked) and memory-peaks.md (peaks per phase); a run directory, the table of its "
                + "metrics.jsonl's per-phase memory.",
                "Record with: java -XX:StartFlightRecording:settings=progrpo.jfc,filename=run.jfr ... (module-info-docs/tensor.md)."})
final class ProfileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_OR_JFR", description = "A run directory or a .jfr recording.")
    Path source;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write the figure and the table (default: beside the source).")
    Path out;

    @Override
    public Integer call() {
        try {
            Profile.Output o = Profile.run(source, out);
            spec.commandLine().getOut().print(o.table());
            for (Path f : o.files()) spec.commandLine().getOut().println("wrote " + f);
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IOException e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return Main.EXIT_FAILURE;
        }
    }
}
