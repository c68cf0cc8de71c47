package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.Phases;
import io.progrpo.trainer.RunListener;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One demo run in a JVM of its own, started by {@link DemoRuns} when the demo trains several runs at once:
 * {@code DemoUnit CONFIG.json [RECORDING.jfr]}. It warms up with one untimed epoch of one group (so the run's first
 * epoch does not pay this JVM's start-up), then trains the config's run into its {@code outDir}, recording the first
 * epoch to the JFR file when one is given. Exit status 0 when the run finished, 1 with the reason on stderr otherwise.
 */
public final class DemoUnit {
    /** The start of the line that gives the reason of a failed run, which the parent quotes. */
    static final String FAILED = "demo run failed:";

    private DemoUnit() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: DemoUnit CONFIG.json [RECORDING.jfr]; got " + args.length + " arguments");
            System.exit(2);
        }
        try {
            Torch.ensureAvailable();
            TrainConfig c = TrainConfig.fromJsonFile(Path.of(args[0]));
            warmUp(c);
            DemoRuns.trainHere(new DemoRuns.Unit(c.method(), -1, c, args.length == 2 ? Path.of(args[1]) : null),
                    DemoUnit::log, RunListener.NONE);
            System.exit(0);
        } catch (Exception | LinkageError e) {
            System.err.println(FAILED + " " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void log(String s) {
        System.out.println(s);
        System.out.flush();
    }

    /**
     * The overrides that turn a run's config into its warm-up: one epoch of one prompt group (so one optimizer step,
     * whatever {@code optimizerStepsPerEpoch} the run takes), no evaluation or checkpoint, output in {@code dir}.
     */
    static java.util.List<String> warmUpSets(Path dir) {
        return java.util.List.of("epochs=1", "groupsPerEpoch=1", "optimizerStepsPerEpoch=1", "evalEvery=0", "checkpointEvery=0",
                "outDir=" + dir);
    }

    /** One epoch of one group, untimed and thrown away, as the in-process demo's warm-up. */
    static void warmUp(TrainConfig c) throws Exception {
        Path dir = Files.createTempDirectory("progrpo-warmup");
        try {
            TrainConfig w = c.withSets(warmUpSets(dir));
            try (Jobs.Job job = Jobs.build(w, s -> { })) {
                job.trainer().runEpoch(0, new Phases(p -> { }));
            }
        } finally {
            TrainingRun.deleteTree(dir);
        }
    }
}
