package io.progrpo.app.cli;

import io.progrpo.app.distributed.LaunchEnvironment;
import io.progrpo.sampler.TorchScriptVelocityModel;
import io.progrpo.sampler.TorchScriptVelocityModel.ReferenceMode;
import io.progrpo.app.job.JobCheck;
import io.progrpo.app.job.Jobs;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.app.torchscript.TorchScriptModels;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
 * {@code progrpo train|train-torchscript|eval|report|presets}.
 *
 * <p>Exit status: 0 success; 1 the command failed (as returned by {@link Commands}) or no {@link Commands}
 * implementation is registered; 2 bad usage or bad configuration, with a one-line error naming the field to fix.
 * The configuration is checked in full before any work starts (and by {@code --dry-run}): the record's field rules,
 * then what the job would build from it ({@link JobCheck}: samplers, rewards, prompt counts, device, run directory)
 * and, for {@code train}, the launcher's environment variables. A {@link ConfigException} thrown later still ends as
 * that one line and status 2.
 *
 * <p>Configuration is resolved as {@code --preset} &lt; {@code --config FILE} &lt; {@code --set key=value} (in the
 * order given) &lt; {@code --out}; see {@link TrainConfig#resolve}.
 */
@Command(name = "progrpo", mixinStandardHelpOptions = true, version = "progrpo 0.1.0",
        description = "GRPO alignment of image generators with expand-and-prune (Pro-GRPO) and its baselines.",
        subcommands = {Main.Train.class, Main.TrainTorchScript.class, Main.Eval.class, Main.Report.class, Main.Presets.class})
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
            return TrainConfig.resolve(preset, file, all);
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

        @Override
        public Integer call() {
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

    /**
     * {@code progrpo train-torchscript}: GRPO over exported TorchScript files (see docs/torchscript.md). Usage errors
     * (a missing file, a bad regular expression, latent shape or time scale) are reported on one line naming the
     * option and its value, with exit status 2, before anything is loaded.
     */
    @Command(name = "train-torchscript", mixinStandardHelpOptions = true,
            description = {"Train exported TorchScript models (policy with e.g. LoRA adapters, latent decoder, reward model) "
                    + "with a method preset and overrides. The config's method, sampler, schedule and optimizer fields apply; "
                    + "its model and reward fields do not (the files define them).",
                    "Prompts and conditioning come from the embedded world (sized by imageSize): the policy's cond and the "
                    + "scorer's token_ids are its Tokenizer ids, int64 [B, 3]; the samples are latents of --latent-shape.",
                    "The run directory gets metrics.jsonl and checkpoint/ (every checkpointEvery epochs and after the last): "
                    + "policy.pt, the trained parameters, torch.load-able; optimizer.bin; state.json. With checkpointEvery=0 "
                    + "no checkpoint is written and the trained parameters go to adapters.pt instead."})
    static final class TrainTorchScript implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ConfigOptions cfg = new ConfigOptions();

        @Option(names = "--resume", description = "Continue from the latest checkpoint in the run directory.")
        boolean resume;

        @Option(names = "--dry-run", description = "Check the options, print the resolved config and the models, then exit.")
        boolean dryRun;

        @Option(names = "--policy", paramLabel = "FILE", required = true,
                description = "TorchScript velocity (or epsilon) model: METHOD(x, t, cond[, adapter_scale]).")
        Path policy;

        @Option(names = "--trainable", paramLabel = "REGEX", defaultValue = "lora_",
                description = "Regular expression found in the dotted names of the parameters to train; every other "
                        + "parameter is frozen. Default: ${DEFAULT-VALUE}.")
        String trainable;

        @Option(names = "--policy-method", paramLabel = "NAME", defaultValue = "forward",
                description = "The policy's method. Default: ${DEFAULT-VALUE}.")
        String policyMethod;

        @Option(names = "--time-scale", paramLabel = "X",
                description = "Multiplies the sampler's time (sigma in [0, 1]) before the policy call, e.g. 1000 for a "
                        + "model trained on t = 1000 sigma (SD3). Default: 1.")
        Double timeScale;

        @Option(names = "--adapter-scale",
                description = "Pass adapter_scale (1.0; 0.0 for an adapters-disabled reference) as the policy's fourth argument.")
        boolean adapterScale;

        @Option(names = "--reference", paramLabel = "MODE", defaultValue = "auto", converter = ReferenceModeConverter.class,
                description = "KL reference when beta > 0: auto (adapters-disabled with --adapter-scale, else "
                        + "frozen-copy), adapters-disabled or frozen-copy. Default: ${DEFAULT-VALUE}.")
        ReferenceMode reference;

        @Option(names = "--decoder", paramLabel = "FILE", required = true,
                description = "TorchScript latent decoder: METHOD(latents) -> images [B, 3, H, W] in [0, 1].")
        Path decoder;

        @Option(names = "--decode-method", paramLabel = "NAME", defaultValue = "forward",
                description = "The decoder's method. Default: ${DEFAULT-VALUE}.")
        String decodeMethod;

        @Option(names = "--scorer", paramLabel = "FILE", required = true,
                description = "TorchScript reward model: METHOD(images [N, 3, H, W], token_ids [N, L] int64) -> [N].")
        Path scorer;

        @Option(names = "--score-method", paramLabel = "NAME", defaultValue = "forward",
                description = "The reward model's method. Default: ${DEFAULT-VALUE}.")
        String scoreMethod;

        @Option(names = "--reward-name", paramLabel = "NAME", defaultValue = "torchscript",
                description = "Name the reward's metrics are reported under. Default: ${DEFAULT-VALUE}.")
        String rewardName;

        @Option(names = "--latent-shape", paramLabel = "C,H,W", required = true,
                description = "One sample's latent shape, three positive integers, e.g. 4,64,64 (a VAE with 8x "
                        + "downsampling at 512 px).")
        String latentShape;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            TorchScriptModels models;
            try {
                models = models();
            } catch (IllegalArgumentException e) {
                err.println("error: " + e.getMessage());
                return EXIT_USAGE;
            }
            return withConfig(spec, () -> {
                TrainConfig c = cfg.resolve(null);
                JobCheck.torchScriptJob(c);
                LaunchEnvironment.check(c, environment(), true);
                return c;
            }, c -> {
                if (dryRun) {
                    PrintWriter out = spec.commandLine().getOut();
                    out.print(Jobs.describe(c));
                    out.print(describe(models));
                    out.flush();
                    return 0;
                }
                Commands impl = commands(err);
                if (impl == null) return EXIT_FAILURE;
                try {
                    return impl.trainTorchScript(c, models, resume);
                } catch (UnsupportedOperationException e) {
                    err.println("error: " + e.getMessage());
                    return EXIT_FAILURE;
                }
            });
        }

        /** The options as models, or an IllegalArgumentException whose one-line message names the option and value. */
        TorchScriptModels models() {
            existingFile("--policy", policy);
            existingFile("--decoder", decoder);
            existingFile("--scorer", scorer);
            if (trainable.isEmpty()) {
                throw new IllegalArgumentException("--trainable '': expected a regular expression such as lora_");
            }
            try {
                Pattern.compile(trainable);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("--trainable '" + trainable + "' is not a regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
            }
            name("--policy-method", policyMethod);
            name("--decode-method", decodeMethod);
            name("--score-method", scoreMethod);
            name("--reward-name", rewardName);
            double scale = timeScale == null ? TorchScriptVelocityModel.Options.DEFAULTS.timeScale() : timeScale;
            if (!(scale > 0) || Double.isInfinite(scale)) {
                throw new IllegalArgumentException("--time-scale " + timeScale + ": expected a finite number > 0");
            }
            if (reference == ReferenceMode.ADAPTERS_DISABLED && !adapterScale) {
                throw new IllegalArgumentException("--reference adapters-disabled needs --adapter-scale (the reference is "
                        + "the policy called with adapter_scale 0.0); use frozen-copy for a module without that argument");
            }
            TorchScriptVelocityModel.Options options = new TorchScriptVelocityModel.Options(policyMethod, scale, adapterScale);
            return new TorchScriptModels(policy, trainable, options, reference, decoder, decodeMethod, scorer, scoreMethod,
                    rewardName, parseLatentShape(latentShape));
        }

        private static void existingFile(String option, Path file) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(option + " " + file + ": no such file"
                        + (Files.isDirectory(file) ? " (it is a directory)" : ""));
            }
        }

        private static void name(String option, String value) {
            if (value.isBlank()) throw new IllegalArgumentException(option + " '" + value + "': expected a name");
        }

        static String describe(TorchScriptModels m) {
            TorchScriptVelocityModel.Options o = m.policyOptions();
            return String.format(Locale.ROOT, "TorchScript models%n"
                            + "  policy        %s %s(x, t * %s, cond%s)%n"
                            + "  trainable     parameters whose name contains a match of '%s'%n"
                            + "  reference     %s (built when beta > 0)%n"
                            + "  decoder       %s %s(latents)%n"
                            + "  scorer        %s %s(images, token_ids), reported as '%s'%n"
                            + "  latent shape  %s%n"
                            + "  prompts       the embedded world, token ids from its Tokenizer%n",
                    m.policy(), o.method(), o.timeScale(), o.passAdapterScale() ? ", adapter_scale" : "", m.trainablePattern(),
                    m.referenceMode().name().toLowerCase(Locale.ROOT).replace('_', '-'), m.decoder(), m.decodeMethod(),
                    m.scorer(), m.scoreMethod(), m.rewardName(), Arrays.toString(m.latentShape()));
        }
    }

    /**
     * Parses {@code --latent-shape C,H,W}: three positive integers.
     *
     * @throws IllegalArgumentException naming the option and the value
     */
    static long[] parseLatentShape(String s) {
        String[] parts = s.split(",", -1);
        long[] shape = new long[parts.length];
        boolean ok = parts.length == 3;
        for (int i = 0; ok && i < parts.length; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].strip());
                ok = shape[i] > 0;
            } catch (NumberFormatException e) {
                ok = false;
            }
        }
        if (!ok) {
            throw new IllegalArgumentException("--latent-shape '" + s + "': expected three positive integers C,H,W such as 4,64,64");
        }
        return shape;
    }

    /** {@code auto}, {@code adapters-disabled} or {@code frozen-copy} (underscores and any case accepted too). */
    static final class ReferenceModeConverter implements CommandLine.ITypeConverter<ReferenceMode> {
        @Override
        public ReferenceMode convert(String value) {
            String v = value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
            for (ReferenceMode m : ReferenceMode.values()) {
                if (m.name().equals(v)) return m;
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not auto, adapters-disabled or frozen-copy");
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

        @Override
        public Integer call() {
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
