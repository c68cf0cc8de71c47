package io.progrpo.app.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.progrpo.app.study.SeedGains;
import io.progrpo.app.study.SeedRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code progrpo gains}: the held-out gain of finished runs seed by seed, the mean gain over the population seed std
 * with its bootstrap interval, and against a baseline on the same seeds the paired differences ({@link SeedGains}).
 * It reads files only (no libtorch). Bad input (a missing directory, a run without a seed or a base evaluation, a
 * seed run twice, two base models, a mix of methods) is one line and status 2.
 */
@Command(name = "gains", mixinStandardHelpOptions = true,
        description = {"Held-out eval gains of finished runs over their base model, seed by seed: mean gain ± SE, the population "
                + "seed std, their ratio (issue 17's 'gain in seed standard deviations') with a bootstrap 95 %% interval over the "
                + "seeds, and the ratio after every evaluated epoch.",
                "With --baseline: the paired gain difference (arm minus baseline, same seeds) with its SE and 95 %% t interval, "
                        + "and the ratio difference with a paired bootstrap interval.",
                "A DIR is a run directory, a directory of runs (a study's runs/METHOD) or a demo's output (runs/*); several "
                        + "DIRs are pooled into one arm."})
final class GainsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--runs", paramLabel = "DIR", arity = "1..*", required = true, description = "The arm's runs (pooled).")
    List<Path> runs;

    @Option(names = "--baseline", paramLabel = "DIR", arity = "1..*", description = "The baseline's runs, paired with the arm's by seed.")
    List<Path> baseline;

    @Option(names = "--weights", paramLabel = "raw|ema", defaultValue = "raw",
            description = "The arm's evaluations: raw (the trained parameters, eval_reward; the default) or ema (their moving "
                    + "average, eval_ema, of runs trained with emaDecay > 0; its base is the run's own base evaluation).")
    String weights;

    @Option(names = "--baseline-weights", paramLabel = "raw|ema", defaultValue = "raw",
            description = "The baseline's evaluations, as --weights (default raw). The same DIR as --runs with the other weights "
                    + "pairs the average with the raw parameters of the very same runs.")
    String baselineWeights;

    @Option(names = "--method", paramLabel = "NAME", description = "Only the runs of this method (needed when the directories hold several).")
    String method;

    @Option(names = "--epoch", paramLabel = "E",
            description = "Compare the evaluation after epoch E (metrics.jsonl's 0-based epoch) with the base's, in both arms. "
                    + "Default: each arm's last evaluated epoch, which every run of the arm must share (so arms of different "
                    + "lengths compare their final models).")
    Integer epoch;

    @Option(names = "--resamples", paramLabel = "B", defaultValue = "" + SeedGains.DEFAULT_RESAMPLES,
            description = "Bootstrap resamples (default ${DEFAULT-VALUE}).")
    int resamples;

    @Option(names = "--bootstrap-seed", paramLabel = "S", defaultValue = "" + SeedGains.DEFAULT_BOOTSTRAP_SEED,
            description = "Seed of the bootstrap draws (default ${DEFAULT-VALUE}).")
    long bootstrapSeed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path jsonOut;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (resamples < 1) return usage("--resamples must be >= 1, got " + resamples);
        if (epoch != null && epoch < 0) return usage("--epoch must be >= 0 (epoch -1 is the base model itself), got " + epoch);
        SeedGains.Arm arm;
        SeedGains.Arm base = null;
        SeedGains.Paired paired = null;
        SeedRun.Weights armWeights;
        SeedRun.Weights baseWeights;
        try {
            armWeights = SeedRun.Weights.of(weights);
            baseWeights = SeedRun.Weights.of(baselineWeights);
        } catch (IllegalArgumentException e) {
            return usage("--weights / --baseline-weights: " + e.getMessage());
        }
        if (baseline == null && !"raw".equalsIgnoreCase(baselineWeights)) return usage("--baseline-weights needs --baseline");
        try {
            arm = SeedGains.arm(label(runs, armWeights), load(runs, armWeights), epoch, resamples, bootstrapSeed);
            if (baseline != null) {
                base = SeedGains.arm(label(baseline, baseWeights), load(baseline, baseWeights), epoch, resamples, bootstrapSeed);
                paired = SeedGains.paired(arm, base, resamples, bootstrapSeed);
            }
        } catch (IOException | IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        print(out, "arm", arm);
        if (base != null) {
            print(out, "baseline", base);
            print(out, paired);
        }
        out.flush();
        if (jsonOut != null) {
            try {
                Path parent = jsonOut.toAbsolutePath().getParent();
                if (parent != null) Files.createDirectories(parent);
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(jsonOut.toFile(), json(arm, base, paired));
            } catch (IOException e) {
                spec.commandLine().getErr().println("error: cannot write " + jsonOut + ": " + e.getMessage());
                spec.commandLine().getErr().flush();
                return Main.EXIT_FAILURE;
            }
        }
        return 0;
    }

    private List<SeedRun> load(List<Path> dirs, SeedRun.Weights w) throws IOException {
        List<SeedRun> all = new ArrayList<>();
        for (Path d : dirs) all.addAll(SeedRun.find(d, w));
        if (method == null) return all;
        List<SeedRun> kept = all.stream().filter(r -> r.method().equals(method)).toList();
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("no run of method " + method + " in " + label(dirs) + " (methods there: "
                    + all.stream().map(SeedRun::method).collect(Collectors.toCollection(TreeSet::new)) + ")");
        }
        return kept;
    }

    private static String label(List<Path> dirs) {
        return dirs.stream().map(Path::toString).collect(Collectors.joining(" + "));
    }

    private static String label(List<Path> dirs, SeedRun.Weights w) {
        return label(dirs) + (w == SeedRun.Weights.EMA ? " (EMA weights)" : "");
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    private static void print(PrintWriter out, String role, SeedGains.Arm a) {
        out.println(f("%s: %s (%d runs, method %s, base eval reward %.4f, epoch %d = after %d updates)", role, a.label(), a.runs().size(),
                a.runs().getFirst().method(), a.base(), a.epoch(), a.epoch() + 1));
        out.println("  seed        final      gain   run");
        for (int i = 0; i < a.runs().size(); i++) {
            SeedRun r = a.runs().get(i);
            out.println(f("  %-8d %9.4f %+9.4f   %s", r.seed(), r.evals().get(a.epoch()), a.gains()[i], r.dir()));
        }
        var g = a.gain();
        if (a.runs().size() < 2) {
            out.println(f("  gain %+.4f from one seed: no SE, seed std or ratio (they need at least two seeds)", g.mean()));
        } else {
            out.println(f("  mean gain %+.4f ± %.4f SE (95 %% t [%+.4f, %+.4f]); seed std %.4f population, %.4f sample", g.mean(), g.se(),
                    g.low(), g.high(), a.populationStd(), g.sd()));
            out.println(f("  gain / population seed std %.2f, bootstrap 95 %% %s", a.ratio(), interval(a.ratioInterval())));
            out.println("  ratio by epoch: " + a.ratioByEpoch().entrySet().stream()
                    .map(e -> f("%d: %.2f", e.getKey(), e.getValue())).collect(Collectors.joining(", ")));
        }
        out.println(f("  compute: %,.0f network evaluations per run (sampling %,.0f + training %,.0f), mean over the runs",
                meanNfe(a, true) + meanNfe(a, false), meanNfe(a, true), meanNfe(a, false)));
    }

    private static double meanNfe(SeedGains.Arm a, boolean sampling) {
        return a.runs().stream().mapToLong(r -> sampling ? r.nfeSampling() : r.nfeTraining()).average().orElse(0);
    }

    private static void print(PrintWriter out, SeedGains.Paired p) {
        if (p.seeds().length < 2) {
            out.println(f("paired (arm minus baseline, one seed, %d): gain difference %+.4f; no SE or ratio difference (they need at "
                    + "least two seeds)", p.seeds()[0], p.gain().mean()));
        } else {
            out.println(f("paired (arm minus baseline, %d seeds): gain difference %s", p.seeds().length, p.gain().describe()));
            out.println(f("  ratio difference %+.2f, paired bootstrap 95 %% %s", p.ratioDifference(), interval(p.ratioDifferenceInterval())));
        }
        if (!p.armOnly().isEmpty()) out.println("  left out, only in the arm: seeds " + p.armOnly());
        if (!p.baselineOnly().isEmpty()) out.println("  left out, only in the baseline: seeds " + p.baselineOnly());
    }

    private static String interval(SeedGains.Interval i) {
        String s = f("[%.2f, %.2f] (%d resamples", i.low(), i.high(), i.resamples());
        return s + (i.used() < i.resamples() ? f(", %d without a ratio left out)", i.resamples() - i.used()) : ")");
    }

    private static Map<String, Object> json(SeedGains.Arm arm, SeedGains.Arm base, SeedGains.Paired p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arm", json(arm));
        if (base != null) {
            m.put("baseline", json(base));
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("seeds", p.seeds());
            pm.put("gain_difference_mean", p.gain().mean());
            pm.put("gain_difference_se", p.gain().se());
            pm.put("gain_difference_ci95", List.of(p.gain().low(), p.gain().high()));
            pm.put("verdict", p.gain().verdict().toString());
            pm.put("ratio_difference", p.ratioDifference());
            pm.put("ratio_difference_bootstrap95", List.of(p.ratioDifferenceInterval().low(), p.ratioDifferenceInterval().high()));
            pm.put("arm_only_seeds", p.armOnly());
            pm.put("baseline_only_seeds", p.baselineOnly());
            m.put("paired", pm);
        }
        return m;
    }

    private static Map<String, Object> json(SeedGains.Arm a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", a.label());
        m.put("method", a.runs().getFirst().method());
        m.put("epoch", a.epoch());
        m.put("base_eval_reward", a.base());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < a.runs().size(); i++) {
            SeedRun r = a.runs().get(i);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("seed", r.seed());
            row.put("run", r.dir().toString());
            row.put("gain", a.gains()[i]);
            rows.add(row);
        }
        m.put("runs", rows);
        m.put("mean_gain", a.gain().mean());
        m.put("se", a.gain().se());
        m.put("population_std", a.populationStd());
        m.put("sample_std", a.gain().sd());
        m.put("ratio", a.ratio());
        m.put("ratio_bootstrap95", List.of(a.ratioInterval().low(), a.ratioInterval().high()));
        m.put("bootstrap_resamples", a.ratioInterval().resamples());
        Map<String, Double> byEpoch = new LinkedHashMap<>();
        a.ratioByEpoch().forEach((e, v) -> byEpoch.put(Integer.toString(e), v));
        m.put("ratio_by_epoch", byEpoch);
        m.put("nfe_sampling_per_run", meanNfe(a, true));
        m.put("nfe_training_per_run", meanNfe(a, false));
        return m;
    }

    private int usage(String message) {
        spec.commandLine().getErr().println("error: " + message);
        spec.commandLine().getErr().flush();
        return Main.EXIT_USAGE;
    }
}
