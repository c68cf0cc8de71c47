package io.progrpo.app.cli;

import io.progrpo.app.distributed.LaunchEnvironment;
import io.progrpo.app.job.JobCheck;
import io.progrpo.app.job.Jobs;
import io.progrpo.app.torchscript.TorchScriptModels;
import io.progrpo.sampler.TorchScriptVelocityModel.ReferenceMode;
import io.progrpo.sampler.TorchScriptVelocityModel;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import static io.progrpo.app.cli.Main.*;

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
final class TrainTorchScriptCommand implements Callable<Integer> {
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

    @Mixin
    PluginOptions plugins = new PluginOptions();

    @Override
    public Integer call() {
        return plugins.run(spec, this::trainTorchScript);
    }

    private Integer trainTorchScript() {
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
}
