package io.progrpo.app.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code progrpo adapters}: linear combinations of trained parameters around the base model ({@link AdapterPlan}).
 * Bad options (a missing checkpoint, a weight count that does not match, a bad pattern, an output directory that
 * already holds a checkpoint or is one of the inputs) are one line with exit status 2, before anything is built.
 */
@Command(name = "adapters", mixinStandardHelpOptions = true,
        description = {"Combine the trained parameters of runs of 'progrpo train' from the same base model: "
                + "base + scale * sum_i w_i * (theta_i - base). With the defaults it writes the average of the runs' updates; "
                + "--scale alone rescales one run's update (0.5: half of it); --only keeps the base's values outside the matching "
                + "parameters.",
                "Writes policy.pt, config.json (the first checkpoint's), adapters.json (the inputs with their SHA-256, the weights, "
                        + "the scale, the norms of every update) and manifest.sha256 into --out, which 'progrpo eval --checkpoint' takes."})
final class AdaptersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "DIR", arity = "1..*", required = true,
            description = "Checkpoint directories (RUN/checkpoint) or run directories, one or more.")
    List<Path> checkpoints;

    @Option(names = "--weights", paramLabel = "W,W", split = ",",
            description = "One weight per checkpoint, in their order (default 1/n each: the average).")
    List<Double> weights;

    @Option(names = "--scale", paramLabel = "C", defaultValue = "1",
            description = "Factor on the combined update (default ${DEFAULT-VALUE}).")
    double scale;

    @Option(names = "--only", paramLabel = "REGEX",
            description = "Combine only the parameters whose dotted names contain a match (e.g. crossAttention); the others keep "
                    + "the base's values. Default: every trained parameter.")
    String only;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory (must not hold a policy.pt yet).")
    Path out;

    @Override
    public Integer call() {
        List<Path> dirs = new ArrayList<>();
        for (Path p : checkpoints) {
            Path d = Files.isRegularFile(p.resolve("policy.pt")) ? p : p.resolve("checkpoint");
            if (!Files.isRegularFile(d.resolve("policy.pt"))) {
                return usage("--checkpoint " + p + " holds no checkpoint (policy.pt): pass a run's checkpoint directory or the run directory");
            }
            if (!Files.isRegularFile(d.resolve(Main.CONFIG_FILE_NAME))) {
                return usage("--checkpoint " + d + " has no " + Main.CONFIG_FILE_NAME + ": the base model cannot be known without it");
            }
            dirs.add(d.toAbsolutePath().normalize());
        }
        Path target = out.toAbsolutePath().normalize();
        if (dirs.contains(target)) return usage("--out " + out + " is one of the input checkpoints: choose another directory");
        if (Files.exists(target.resolve("policy.pt"))) {
            return usage("--out " + out + " already holds a policy.pt: choose an empty directory (nothing is overwritten)");
        }
        Pattern pattern = null;
        if (only != null) {
            try {
                pattern = Pattern.compile(only);
            } catch (PatternSyntaxException e) {
                return usage("--only '" + only + "' is not a regular expression: " + e.getDescription());
            }
        }
        AdapterPlan plan;
        try {
            plan = new AdapterPlan(dirs, weights == null ? AdapterPlan.averageWeights(dirs.size()) : weights, scale, pattern, target);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        Commands impl = Main.commands(spec.commandLine().getErr());
        return impl == null ? Main.EXIT_FAILURE : impl.adapters(plan);
    }

    private int usage(String message) {
        spec.commandLine().getErr().println("error: " + message);
        spec.commandLine().getErr().flush();
        return Main.EXIT_USAGE;
    }
}
