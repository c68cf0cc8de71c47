package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.app.report.HeldOutTables;
import io.progrpo.app.report.MethodResult;
import io.progrpo.app.report.ModelFlops;
import io.progrpo.app.report.PairedComparison;
import io.progrpo.app.report.Plots;
import io.progrpo.app.report.ReportWriter;
import io.progrpo.app.study.SeedGains;
import io.progrpo.pruning.OptimalVarianceFilter;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.RewardFunction;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.Phases;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * The main job (scripts/demo): every flow method from the same base model, with the same seeds and epoch budget, on
 * the embedded world; then report.md, the figures and every run's metrics.jsonl under {@code --out}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Pro-GRPO against its baselines on the embedded world; writes report.md, figures and metrics.")
public final class Demo implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", description = "output directory (default: ${DEFAULT-VALUE})", defaultValue = "demo-out")
    Path out;

    @Option(names = "--quick", description = "smoke-test size: a few minutes in all")
    boolean quick;

    @Option(names = "--seeds", description = "seeds per method (default: 3, or 1 with --quick)")
    Integer seeds;

    @Option(names = "--first-seed", description = "seed of seed index 0; index s trains with seed first-seed + s in every "
            + "method (default: ${DEFAULT-VALUE}; a fresh range replicates a result on seeds it was not found on)",
            defaultValue = "1000")
    long firstSeed;

    @Option(names = "--epochs", description = "epochs per run (default: the demo or quick preset's)")
    Integer epochs;

    @Option(names = "--methods", split = ",", description = "methods to compare (default: flow-grpo,pro-grpo,pro-grpo-flash"
            + ",pro-grpo-adaptive on the latent world; flow-grpo,static-ovf,uniform-subsample,pro-grpo,pro-grpo-flash,pro-grpo-adaptive "
            + "on the pixel world)")
    List<String> methods;

    /** The latent world's default arms: the paper's Table 1 (the subset baselines are the study's, issue 18). */
    static final List<String> LATENT_METHODS = List.of("flow-grpo", "pro-grpo", "pro-grpo-flash", "pro-grpo-adaptive");
    static final List<String> PIXEL_METHODS = List.of("flow-grpo", "static-ovf", "uniform-subsample", "pro-grpo", "pro-grpo-flash",
            "pro-grpo-adaptive");

    @Option(names = "--world", description = "the world: latent (32x32 scenes in latent space, a learned reward, a held-out "
            + "evaluator) or pixel (the 16x16 pixel world, fast) (default: ${DEFAULT-VALUE})", defaultValue = "latent")
    String world;

    @Option(names = "--jobs", description = "runs trained at once, each in a JVM of its own with an equal share of the cores' "
            + "intra-op threads (default: as many as cores on a CPU device, 1 on a GPU; 1 = one after another in this JVM)")
    Integer jobs;

    @Option(names = "--set", description = "config override key=value applied to every run (repeatable)")
    List<String> sets = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new Demo()).execute(args));
    }

    private static void log(String s) {
        System.out.println(s);
        System.out.flush();
    }

    @Override
    public Integer call() throws Exception {
        // the options first, before libtorch is loaded or anything is written; the errors go to the caller's stderr
        int nSeeds = seeds != null ? seeds : quick ? 1 : 3;
        if (nSeeds < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--seeds must be >= 1, got " + nSeeds);
        if (firstSeed < 0 || firstSeed > Long.MAX_VALUE - nSeeds) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--first-seed must be >= 0 and leave room for "
                    + nSeeds + " seeds, got " + firstSeed);
        }
        if (!world.equals("latent") && !world.equals("pixel")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--world must be latent or pixel, got '" + world + "'");
        }
        if (jobs != null && jobs < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--jobs must be >= 1, got " + jobs);
        Torch.ensureAvailable();
        log("progrpo demo: " + Torch.describe());
        if (Torch.isReferenceBlas()) log("WARNING: reference BLAS active; install libopenblas0-pthread for realistic timings");
        Files.createDirectories(out);
        boolean latent = world.equals("latent");
        // the latent overlay after the budget's: its reward and evaluation steps win; --quick pretrains for seconds
        String overlay = (quick ? "quick" : "demo") + (latent ? "+latent" : "");
        if (latent && quick) sets.add(0, "world=latent-quick");
        // every held-out prompt of the scene world (40, every category) unless --set says otherwise
        if (latent && !quick) sets.add(0, "evalPrompts=0");
        if (methods == null) methods = latent ? LATENT_METHODS : PIXEL_METHODS;
        List<DemoRuns.Unit> units = new ArrayList<>();
        for (int s = 0; s < nSeeds; s++) {
            for (String method : methods) {
                Method.byName(method); // fail fast on a typo
                List<String> runSets = new ArrayList<>(sets);
                runSets.add("seed=" + (firstSeed + s));
                runSets.add("outDir=" + out.resolve("runs").resolve(method + "-seed" + s));
                if (epochs != null) runSets.add("epochs=" + epochs);
                TrainConfig c = TrainConfig.resolve(method + "+" + overlay, null, runSets);
                // the first epoch of seed 0 of these methods is recorded for the memory timelines
                units.add(new DemoRuns.Unit(method, s, c, s == 0 && TIMELINE_METHODS.contains(method) ? timelineRecording(out, method) : null));
            }
        }
        TrainConfig first = units.get(0).config();
        int cores = Runtime.getRuntime().availableProcessors();
        int nJobs = jobs != null ? jobs : first.device().startsWith("cpu") ? Math.min(units.size(), cores) : 1;
        log(Jobs.describe(first));
        ModelFlops flops;
        ParallelPretraining.run(first, cores, Demo::log);
        if (nJobs == 1) {
            warmUp(overlay);
        }
        // pretrains the world's models into the cache before any child JVM looks for them, and gives the FLOP counts
        try (Jobs.Job job = Jobs.build(first, Demo::log)) {
            flops = job.flops();
        }
        long t0 = System.nanoTime();
        Map<String, List<List<Map<String, Object>>>> histories = DemoRuns.run(units, nJobs, Math.max(1, cores / nJobs), Demo::log);
        log(String.format(Locale.ROOT, "training done in %.1f s; writing the report", (System.nanoTime() - t0) / 1e9));
        // A figure that cannot be drawn (no fonts on a minimal system, ...) costs that figure, not the report.
        List<ReportWriter.Figure> figures = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        TrainConfig firstConfig = first;
        figure(figures, missing, "Figure 1", () -> figure1(firstConfig, out));
        figure(figures, missing, "the eval curves", () -> evalCurves(histories, out));
        ModelFlops costs = flops;
        figure(figures, missing, "the eval curves against FLOPs", () -> evalCurvesFlops(histories, costs, out));
        for (String m : TIMELINE_METHODS) {
            if (!histories.containsKey(m)) continue;
            figure(figures, missing, "the memory timeline of " + m, () -> memoryTimeline(out, m));
        }
        figure(figures, missing, "the sample grid",
                () -> sampleGrid(firstConfig, out, List.copyOf(histories.keySet())));
        List<MethodResult> results = new ArrayList<>();
        for (var e : histories.entrySet()) results.add(summarize(e.getKey(), e.getValue(), flops));
        String findings = DemoFindings.findings(results, DemoFindings.finalEvalRewards(histories)) + " "
                + DemoFindings.wallTimeOrdering(histories) + " " + DemoFindings.baseComparison(histories) + " "
                + DemoFindings.evaluationNote(firstConfig.evalSamples())
                + (missing.isEmpty() ? "" : " Not drawn: " + String.join("; ", missing) + ".")
                + String.format(Locale.ROOT, " Seeds %d to %d (seed index s trains with seed %d + s in every method).",
                        firstSeed, firstSeed + nSeeds - 1, firstSeed);
        ReportWriter.write(out.resolve("report.md"), new ReportWriter.Report(
                "progrpo demo: Pro-GRPO against Flow-GRPO on the " + (latent ? "latent scene" : "pixel") + " world" + (quick ? " (quick)" : ""),
                results, histories.containsKey("flow-grpo") ? "flow-grpo" : results.get(0).method(), figures, findings + "\n\n"
                + (nJobs == 1 ? "Memory ledger of the whole demo process at its end (every run, the figures and the warm-up together; the "
                + "table's peak memory is instead each run's largest epoch peak, which the process-wide peak below can exceed):  \n"
                : "The runs trained in child JVMs (" + nJobs + " at a time); the table's peak memory is each run's largest epoch peak. "
                + "Memory ledger of the demo's own process at its end (the figures and the report):  \n")
                + MemoryLedger.report().replace("\n", "  \n"),
                sections(histories, latent ? HeldOutTables.cellSizes(io.progrpo.app.job.LatentJobs.heldOutImagesPerCategory(first)) : "")));
        log("wrote " + out.resolve("report.md"));
        return 0;
    }

    /** The held-out evaluator's table (GenEval's layout, the paper's Table 2) when the runs have one. */
    static List<ReportWriter.Section> sections(Map<String, List<List<Map<String, Object>>>> histories, String cellSizes) {
        String table = HeldOutTables.markdown(histories, "eval_geneval");
        if (table.isEmpty()) return List.of();
        StringBuilder s = new StringBuilder("The rule-based evaluator (`scene_eval`, never trained on) on the same held-out samples "
                + "as the eval reward: mean success per GenEval category, `overall` = their mean, `score` = the mean continuous "
                + "score; each method's last evaluation, mean ± std over seeds.\n\n").append(table).append('\n');
        if (!cellSizes.isEmpty()) s.append(cellSizes).append("\n\n");
        Map<String, double[]> overall = HeldOutTables.finals(histories, "eval_geneval", "overall");
        double[] fg = overall.get("flow-grpo");
        if (fg != null) {
            overall.forEach((m, v) -> {
                if (!m.equals("flow-grpo")) s.append("- ").append(m).append(" vs flow-grpo, evaluator overall: ")
                        .append(PairedComparison.of(v, fg).describe()).append('\n');
            });
        }
        return List.of(new ReportWriter.Section("Held-out evaluator (GenEval layout, the paper's Table 2)", s.toString()));
    }

    /**
     * One short throw-away epoch before anything is timed, so the first method does not pay the JIT's and libtorch's
     * start-up cost in its epoch times.
     */
    private void warmUp(String overlay) throws Exception {
        Path dir = Files.createTempDirectory("progrpo-warmup");
        List<String> w = new ArrayList<>(sets);
        w.addAll(DemoUnit.warmUpSets(dir));
        TrainConfig c = TrainConfig.resolve("pro-grpo+" + overlay, null, w);
        log("warm-up epoch (not timed) ...");
        try (Jobs.Job job = Jobs.build(c, Demo::log)) {
            job.trainer().runEpoch(0, new Phases(p -> { }));
        }
        TrainingRun.deleteTree(dir);
    }

    /** Final eval reward (mean and std over seeds) and per-epoch means of the other columns. */
    static MethodResult summarize(String method, List<List<Map<String, Object>>> runs) {
        return summarize(method, runs, null);
    }

    /** {@link #summarize(String, List)} with the mean model FLOPs per epoch when {@code flops} is given. */
    static MethodResult summarize(String method, List<List<Map<String, Object>>> runs, ModelFlops flops) {
        double[] finals = new double[runs.size()];
        double wgs = 0;
        double nfe = 0;
        double wall = 0;
        double sample = 0;
        double reward = 0;
        double train = 0;
        double modelFlops = 0;
        long peak = 0;
        int n = 0;
        for (int r = 0; r < runs.size(); r++) {
            double last = Double.NaN;
            for (Map<String, Object> m : runs.get(r)) {
                if (m.get("eval_reward") instanceof Number v) last = v.doubleValue();
                if (((Number) m.get("epoch")).intValue() < 0) continue;
                wgs += DemoFindings.num(m, "within_group_std");
                nfe += DemoFindings.num(m, "nfe_sampling") + DemoFindings.num(m, "nfe_training");
                wall += DemoFindings.num(m, "epoch_seconds");
                if (flops != null) modelFlops += flops.epoch(m);
                @SuppressWarnings("unchecked")
                Map<String, Object> sec = (Map<String, Object>) m.get("seconds");
                sample += DemoFindings.num(sec, "sampling");
                reward += DemoFindings.num(sec, "reward");
                train += DemoFindings.num(sec, "training");
                peak = Math.max(peak, (long) DemoFindings.num(m, "peak_bytes"));
                n++;
            }
            finals[r] = last;
        }
        double mean = Arrays.stream(finals).average().orElse(Double.NaN);
        double sd = SeedGains.populationStd(finals);
        return new MethodResult(method, runs.size(), mean, sd, wgs / n, Math.round(nfe / n), wall / n, sample / n, reward / n,
                train / n, peak, flops == null ? -1 : modelFlops / n);
    }

    /** Adds the figure {@code draw} makes, or logs why it could not and notes that under {@code missing}. */
    static void figure(List<ReportWriter.Figure> figures, List<String> missing, String name,
                       java.util.concurrent.Callable<ReportWriter.Figure> draw) {
        try {
            figures.add(draw.call());
        } catch (java.io.IOException e) {
            log("warning: not drawn: " + name + ": " + e.getMessage());
            missing.add(name + " (" + e.getMessage() + ")");
        } catch (Exception e) {
            throw e instanceof RuntimeException re ? re : new IllegalStateException(name + " failed", e);
        }
    }

    /** Figure 1: the reward histogram of one full group of the base model against a uniform and an OVF subset. */
    static ReportWriter.Figure figure1(TrainConfig base, Path out) throws Exception {
        TrainConfig c = base.withSets(List.of("method=flow-grpo", "groupSize=24", "pruneSchedule=none"));
        List<Double> full = new ArrayList<>();
        List<Double> uni = new ArrayList<>();
        List<Double> ovf = new ArrayList<>();
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            RewardFunction reward = job.reward();
            SplittableRandom rng = new SplittableRandom(5);
            List<String> prompts = job.world().trainPrompts();
            for (int g = 0; g < 4; g++) {
                String p = prompts.get(g * 7 % prompts.size());
                var rows = java.util.Collections.nCopies(24, p);
                try (Tensor img = job.trainer().samplesSde(rows, 100 + g)) {
                    double[] r = reward.score(img, rows).scores();
                    // deviation from the group's mean: the clustering the paper's Figure 1 shows is within a group
                    double mu = Arrays.stream(r).average().orElse(0);
                    for (double v : r) full.add(v - mu);
                    for (int i : SubsetStrategy.byName("uniform").select(r, 12, rng)) uni.add(r[i] - mu);
                    for (int i : OptimalVarianceFilter.select(r, 12)) ovf.add(r[i] - mu);
                }
            }
        }
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("full group (G=24)", full.stream().mapToDouble(Double::doubleValue).toArray());
        series.put("uniform subset (k=12)", uni.stream().mapToDouble(Double::doubleValue).toArray());
        series.put("OVF subset (k=12)", ovf.stream().mapToDouble(Double::doubleValue).toArray());
        Path png = out.resolve("fig1-reward-histogram.png");
        Plots.histogram(png, "Reward minus its group mean, 4 groups of 24 base-model samples: full vs uniform vs OVF subsets", series, 20);
        return new ReportWriter.Figure("Reward clustering (paper's Figure 1): rewards relative to their group mean; most samples sit near it, the OVF subset keeps the tails", png);
    }

    /** The methods whose first epoch (seed 0) the demo records for a memory timeline, side by side in the report. */
    static final List<String> TIMELINE_METHODS = List.of("flow-grpo", "pro-grpo");

    static Path timelineRecording(Path out, String method) {
        return out.resolve("runs").resolve(method + "-seed0").resolve("epoch0.jfr");
    }

    /** The memory timeline of {@code method}'s recorded first epoch (seed 0), with its peaks in the caption. */
    static ReportWriter.Figure memoryTimeline(Path out, String method) throws Exception {
        io.progrpo.app.profile.MemoryTimeline t = io.progrpo.app.profile.MemoryTimeline.read(timelineRecording(out, method));
        Path png = out.resolve("memory-timeline-" + method + ".png");
        t.plot(png, "Memory of epoch 0 of " + method + " (seed 0): ledger, RSS, phases, prunes");
        long peak = t.phases().stream().mapToLong(io.progrpo.app.profile.MemoryTimeline.Phase::ledgerPeak).max().orElse(0);
        long released = t.prunes().stream().mapToLong(io.progrpo.app.profile.MemoryTimeline.Prune::bytesReleased).sum();
        return new ReportWriter.Figure(String.format(Locale.ROOT, "Memory timeline of one %s epoch: ledger peak %.1f MiB%s "
                + "(`progrpo profile %s`)", method, peak / 1048576.0, t.prunes().isEmpty() ? ", no prune"
                : String.format(Locale.ROOT, ", %d prunes released %.1f MiB", t.prunes().size(), released / 1048576.0),
                out.relativize(timelineRecording(out, method))), png);
    }

    /** Figure 5: eval reward against cumulative wall time, per method (first seed). */
    static ReportWriter.Figure evalCurves(Map<String, List<List<Map<String, Object>>>> histories, Path out) throws Exception {
        Map<String, double[][]> series = new LinkedHashMap<>();
        for (var e : histories.entrySet()) {
            List<double[]> pts = new ArrayList<>();
            double wall = 0;
            for (Map<String, Object> m : e.getValue().get(0)) {
                if (((Number) m.get("epoch")).intValue() >= 0) wall += DemoFindings.num(m, "epoch_seconds");
                if (m.get("eval_reward") instanceof Number v) pts.add(new double[] {wall, v.doubleValue()});
            }
            series.put(e.getKey(), pts.toArray(double[][]::new));
        }
        Path png = out.resolve("fig5-eval-reward-vs-wall-time.png");
        Plots.lines(png, "Held-out eval reward against training wall time (seed 0)", "training wall time (s)", "eval reward", series);
        return new ReportWriter.Figure("Eval reward against wall time (paper's Figure 5)", png);
    }

    /** Eval reward against cumulative model FLOPs of training, per method (first seed): the paper's compute axis. */
    static ReportWriter.Figure evalCurvesFlops(Map<String, List<List<Map<String, Object>>>> histories, ModelFlops flops, Path out)
            throws Exception {
        Map<String, double[][]> series = new LinkedHashMap<>();
        for (var e : histories.entrySet()) {
            List<double[]> pts = new ArrayList<>();
            double total = 0;
            for (Map<String, Object> m : e.getValue().get(0)) {
                if (((Number) m.get("epoch")).intValue() >= 0) total += flops.epoch(m);
                if (m.get("eval_reward") instanceof Number v) pts.add(new double[] {total / 1e12, v.doubleValue()});
            }
            series.put(e.getKey(), pts.toArray(double[][]::new));
        }
        Path png = out.resolve("fig-eval-reward-vs-model-flops.png");
        Plots.lines(png, "Held-out eval reward against training compute (seed 0)", "model TFLOPs (generator forward + backward, decoder)",
                "eval reward", series);
        return new ReportWriter.Figure("Eval reward against model FLOPs (the paper's compute axis)", png);
    }

    /**
     * The sample grid a reader looks at: one row for the base model and one per method (its first seed's last
     * checkpoint), the same held-out prompts and noise in every row, each prompt written under its column.
     */
    static ReportWriter.Figure sampleGrid(TrainConfig base, Path out, List<String> methods) throws Exception {
        List<float[]> images = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        int size;
        List<String> prompts;
        try (Jobs.Job job = Jobs.build(base.withSets(List.of("method=flow-grpo", "groupSize=24", "pruneSchedule=none")), s -> { })) {
            size = job.imageSize();
            prompts = job.world().evalPrompts().subList(0, Math.min(6, job.world().evalPrompts().size()));
            try (Tensor img = job.trainer().samples(prompts, 77)) {
                split(img, images, size);
            }
            labels.add("base");
            for (String method : methods) {
                Path ckpt = out.resolve("runs").resolve(method + "-seed0").resolve("checkpoint").resolve("policy.pt");
                if (!Files.isRegularFile(ckpt)) continue;
                Map<String, Tensor> params = io.progrpo.tensor.TensorIO.load(ckpt);
                try {
                    job.policy().loadStateDict(params, true);
                } finally {
                    params.values().forEach(Tensor::close);
                }
                try (Tensor img = job.trainer().samples(prompts, 77)) {
                    split(img, images, size);
                }
                labels.add(method);
            }
        }
        Path png = out.resolve("samples-every-method.png");
        Plots.imageGrid(png, images, size, size, prompts.size(), labels, prompts, 6);
        return new ReportWriter.Figure("Held-out prompts (under each column), the same noise in every row; rows: "
                + String.join(", ", labels) + " (each method's first seed)", png);
    }

    private static void split(Tensor img, List<float[]> images, int size) {
        float[] all = img.toFloatArray();
        int per = 3 * size * size;
        for (int i = 0; i < all.length / per; i++) images.add(Arrays.copyOfRange(all, i * per, (i + 1) * per));
    }
}
