package io.progrpo.app.cli;

import io.progrpo.app.distributed.LaunchEnvironment;
import io.progrpo.app.job.JobCheck;
import io.progrpo.app.job.Jobs;
import io.progrpo.app.torchscript.TorchScriptModels;
import io.progrpo.sampler.TorchScriptVelocityModel.ReferenceMode;
import io.progrpo.sampler.TorchScriptVelocityModel;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * {@code progrpo train|train-torchscript|eval|report|study|presets|plugins|profile|adapters}.
 *
 * <p>Exit status: 0 success; 1 the command failed (as returned by {@link Commands}) or no {@link Commands}
 * implementation is registered; 2 bad usage or bad configuration, with a one-line error naming the field to fix.
 * The configuration is checked in full before any work starts (and by {@code --dry-run}): the record's field rules,
 * then what the job would build from it ({@link JobCheck}: samplers, rewards, prompt counts, device, run directory)
 * and, for {@code train}, the launcher's environment variables. A {@link ConfigException} thrown later still ends as
 * that one line and status 2.
 *
 * <p>{@code train}, {@code eval}, {@code train-torchscript} and {@code plugins} take {@code --plugins PATH[:PATH...]}
 * (after the {@code PROGRPO_PLUGINS} environment variable): jars whose reward and sampler providers the config selects
 * by name ({@link PluginOptions}, {@link io.progrpo.app.job.Plugins}).
 *
 * <p>Configuration is resolved as {@code --preset} &lt; {@code --config FILE} &lt; {@code --set key=value} (in the
 * order given) &lt; {@code --out}; see {@link TrainConfig#resolve}.
 */
@Command(name = "progrpo", mixinStandardHelpOptions = true, version = "progrpo 0.1.0",
        description = "GRPO alignment of image generators with expand-and-prune (Pro-GRPO) and its baselines.",
        subcommands = {Main.Train.class, TrainTorchScriptCommand.class, Main.Eval.class, Main.Report.class, StudyCommand.class,
                Main.Presets.class, PluginsCommand.class, ProfileCommand.class, AdaptersCommand.class, GainsCommand.class})
public final class Main implements Callable<Integer> {

    /** Exit status for a command that failed or could not run. */
    public static final int EXIT_FAILURE = 1;
    /** Exit status for bad usage or a bad configuration (picocli's usage status). */
    public static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;
    /** Name of the resolved configuration a run directory or checkpoint holds. */
    public static final String CONFIG_FILE_NAME = "config.json";

    private static volatile Commands registered;
    /** The environment the checks read; tests replace it (System.getenv cannot be changed in-process). */
    static volatile Map<String, String> environment;

    @Spec
    CommandSpec spec;

    /** Entry point: runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * Registers the implementation of the subcommands, overriding any ServiceLoader provider; null clears it.
     */
    public static void setCommands(Commands commands) {
        registered = commands;
    }

    /** A configured picocli command line; tests call {@code execute} on it with captured output. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            ConfigException ce = configCause(e);
            if (ce == null) throw e;  // a bug, not an input: picocli prints the stack trace, status 1
            line.getErr().println(configError(ce));
            line.getErr().flush();
            return EXIT_USAGE;
        });
        return cl;
    }

    private static ConfigException configCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConfigException ce) return ce;
        }
        return null;
    }

    /** The one line a configuration error prints: {@code config error (FIELD): message}. */
    static String configError(ConfigException e) {
        return "config error (" + e.field() + "): " + e.getMessage();
    }

    static Map<String, String> environment() {
        Map<String, String> env = environment;
        return env != null ? env : System.getenv();
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return EXIT_USAGE;
    }

    static Commands commands(PrintWriter err) {
        Commands c = registered;
        return c != null ? c : firstProvider(ServiceLoader.load(Commands.class), err);
    }

    /** The first provider, or null after printing how to register one. */
    static Commands firstProvider(Iterable<Commands> providers, PrintWriter err) {
        var it = providers.iterator();
        Commands c = it.hasNext() ? it.next() : null;
        if (c == null) {
            err.println("error: no io.progrpo.app.cli.Commands implementation is registered "
                    + "(call Main.setCommands or provide one through ServiceLoader)");
        }
        return c;
    }

    /** Options shared by train and eval: where the configuration comes from. */
    static final class ConfigOptions {
        @Option(names = "--preset", paramLabel = "NAME",
                description = "Preset, or several joined by '+', e.g. pro-grpo+quick (see 'progrpo presets'). "
                        + "Default: ${DEFAULT-VALUE}.", defaultValue = "flow-grpo")
        String preset;

        @Option(names = "--config", paramLabel = "FILE", description = "JSON object of config fields (over the preset).")
        Path config;

        @Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "Override one field, e.g. --set lr=1e-4 (repeatable; applied after --config, in order).")
        List<String> sets = new ArrayList<>();

        @Option(names = "--out", paramLabel = "DIR", description = "Run directory (same as --set outDir=DIR).")
        Path out;

        TrainConfig resolve(Path fallbackConfig) {
            List<String> all = new ArrayList<>(sets);
            if (out != null) {
                all.add("outDir=" + out);
            }
            Path file = config != null ? config : fallbackConfig;
            if (file != null && !Files.isRegularFile(file)) {
                throw new ConfigException("--config", "config file " + file + " does not exist or is not a file");
            }
            try {
                return TrainConfig.resolve(preset, file, all);
            } catch (ConfigException e) {
                throw JobCheck.withRegisteredRewards(e);
            }
        }
    }

    /** Resolves a configuration, turning a {@link ConfigException} into a one-line error and exit status 2. */
    static Integer withConfig(CommandSpec spec, Supplier<TrainConfig> resolve,
                              Function<TrainConfig, Integer> action) {
        TrainConfig c;
        try {
            c = resolve.get();
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(configError(e));
            spec.commandLine().getErr().flush();
            return EXIT_USAGE;
        }
        return action.apply(c);
    }

    /** {@code progrpo train}. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train with a method preset and overrides; each checkpoint stores the resolved config (checkpoint/config.json, which eval reads).")
    static final class Train implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ConfigOptions cfg = new ConfigOptions();

        @Option(names = "--resume", description = "Continue from the latest checkpoint in the run directory.")
        boolean resume;

        @Option(names = "--dry-run", description = "Print the resolved config and per-epoch totals, then exit.")
        boolean dryRun;

        @Mixin
        PluginOptions plugins = new PluginOptions();

        @Override
        public Integer call() {
            return plugins.run(spec, this::train);
        }

        private Integer train() {
            return withConfig(spec, () -> {
                TrainConfig c = cfg.resolve(null);
                JobCheck.embeddedJob(c, true);
                LaunchEnvironment.check(c, environment(), false);
                return c;
            }, c -> {
                if (dryRun) {
                    spec.commandLine().getOut().print(Jobs.describe(c));
                    spec.commandLine().getOut().flush();
                    return 0;
                }
                Commands impl = commands(spec.commandLine().getErr());
                return impl == null ? EXIT_FAILURE : impl.train(c, resume);
            });
        }
    }

    /** {@code progrpo eval}. */
    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Evaluate a checkpoint. Without --config, the checkpoint's own " + CONFIG_FILE_NAME
                    + " is used when present.")
    static final class Eval implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--checkpoint", paramLabel = "DIR", required = true, description = "Checkpoint directory.")
        Path checkpoint;

        @Mixin
        ConfigOptions cfg = new ConfigOptions();

        @Mixin
        PluginOptions plugins = new PluginOptions();

        @Override
        public Integer call() {
            return plugins.run(spec, this::eval);
        }

        private Integer eval() {
            if (!Files.isDirectory(checkpoint)) {
                spec.commandLine().getErr().println("error: checkpoint directory " + checkpoint + " does not exist");
                return EXIT_USAGE;
            }
            Path dir = checkpoint;
            if (!Files.isRegularFile(dir.resolve("policy.pt")) && Files.isRegularFile(dir.resolve("checkpoint").resolve("policy.pt"))) {
                // a run directory: evaluate its checkpoint, with the config the run wrote there
                dir = dir.resolve("checkpoint");
                spec.commandLine().getErr().println("note: " + checkpoint + " is a run directory; evaluating its checkpoint " + dir);
            } else if (!Files.isRegularFile(dir.resolve("policy.pt"))) {
                spec.commandLine().getErr().println("error: " + checkpoint + " holds no checkpoint (policy.pt): pass a run's "
                        + "checkpoint directory (RUN/checkpoint) or the run directory RUN");
                return EXIT_USAGE;
            }
            Path own = dir.resolve(CONFIG_FILE_NAME);
            Path evalDir = dir;
            Path result = cfg.out == null ? null : cfg.out.resolve("eval.json");
            return withConfig(spec, () -> {
                TrainConfig c = cfg.resolve(Files.isRegularFile(own) ? own : null);
                JobCheck.embeddedJob(c, false);
                return c;
            }, c -> {
                Commands impl = commands(spec.commandLine().getErr());
                return impl == null ? EXIT_FAILURE : impl.eval(c, evalDir, result);
            });
        }
    }

    /** {@code progrpo report}. */
    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Compare finished runs: a markdown report with tables and figures.")
    static final class Report implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--runs", paramLabel = "DIR", arity = "1..*", required = true,
                description = "Run directories to compare (one or more).")
        List<Path> runs;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = "report",
                description = "Output directory for report.md and figures. Default: ${DEFAULT-VALUE}.")
        Path out;

        @Override
        public Integer call() {
            for (Path r : runs) {
                if (!Files.isDirectory(r)) {
                    spec.commandLine().getErr().println("error: run directory " + r + " does not exist");
                    return EXIT_USAGE;
                }
            }
            Commands impl = commands(spec.commandLine().getErr());
            return impl == null ? EXIT_FAILURE : impl.report(List.copyOf(runs), out);
        }
    }

    /** {@code progrpo presets}. */
    @Command(name = "presets", mixinStandardHelpOptions = true,
            description = "List the presets and the fields each one changes.")
    static final class Presets implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            out.println("Methods (over the defaults) and overlays (combine with '+', e.g. pro-grpo+quick):");
            int width = TrainConfig.listPresets().stream().mapToInt(String::length).max().orElse(10);
            for (String name : TrainConfig.listPresets()) {
                Map<String, Object> diff = TrainConfig.presetDifferences(name);
                String kind = TrainConfig.OVERLAYS.contains(name) ? "overlay" : "method ";
                out.printf("  %-" + width + "s  %s  %s%n", name, kind, diff.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
            }
            out.println("Defaults: " + TrainConfig.defaults().toMap().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
            out.flush();
            return 0;
        }
    }
}
