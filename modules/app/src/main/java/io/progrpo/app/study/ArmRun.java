package io.progrpo.app.study;

import io.progrpo.app.job.Jobs;
import io.progrpo.app.report.ModelFlops;
import io.progrpo.app.report.ProgressListener;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.GroupSeeding;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.RunListener;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * One (arm, seed) run of a study, resumable at every step: training in segments of {@link TrainingRun} (a checkpoint
 * after every epoch; a killed run resumes from its last one, a run that cannot resume restarts), a parameter
 * snapshot per epoch from {@link MatchedCompute#snapshotFrom} on, the evaluations at matched epochs and matched
 * compute (each recorded in {@code evals.jsonl} as it finishes), and the CSV row. Files of the run directory:
 * <pre>
 *   config.json      the resolved config (epochs = E; the segments past E change only epochs)
 *   metrics.jsonl    TrainingRun's, one line per epoch
 *   evals.jsonl      one line per evaluation: epochs, eval reward, se_noise, se_prompts, held-out figures, seconds
 *   snapshots/       epoch-N.pt, the policy after N epochs (deleted when the row is written)
 *   checkpoint/      TrainingRun's (deleted when the row is written)
 * </pre>
 */
final class ArmRun {
    static final String EVALS = "evals.jsonl";
    static final String SNAPSHOTS = "snapshots";
    private static final List<String> CHECKPOINT_DIRS = List.of("checkpoint", "checkpoint.tmp", "checkpoint.old", "checkpoint.trash");

    /** Test hook: when set, a run stops (as a kill would, before that epoch's checkpoint) after the epoch it accepts. */
    static volatile java.util.function.IntPredicate stopAfterEpoch;

    /** The exception of {@link #stopAfterEpoch}. */
    static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped(String message) {
            super(message);
        }
    }

    private final StudyPlan plan;
    private final StudyArm arm;
    private final int seedIndex;
    private final Path dir;
    private final Consumer<String> log;

    ArmRun(StudyPlan plan, StudyArm arm, int seedIndex, Path out, Consumer<String> log) {
        this.plan = plan;
        this.arm = arm;
        this.seedIndex = seedIndex;
        this.dir = StudyPlan.runDir(out, arm.name(), seedIndex);
        this.log = log;
    }

    /**
     * Trains and evaluates the run, continuing whatever an earlier, interrupted call left.
     *
     * @param targetFlops C*, flow-grpo's cumulative FLOPs after E epochs for this seed; NaN for flow-grpo itself
     */
    StudyCsv.Row run(double targetFlops) throws IOException {
        TrainConfig c = plan.config(arm, seedIndex, dir);
        Files.createDirectories(dir);
        StudyCsv.writeAtomically(dir.resolve("config.json"), c.toJson() + "\n");
        boolean resumable = CHECKPOINT_DIRS.stream().anyMatch(d -> Files.isDirectory(dir.resolve(d)));
        if (!resumable) clearProgress();
        try (Jobs.Job job = Jobs.build(c, log)) {
            GrpoTrainer trainer = job.trainer();
            // several optimizer steps per epoch, from the one batched sampling stream of a single process
            trainer.dataParallel(GrpoTrainer.DataParallel.single(plan.groupsPerStep()));
            trainer.groupSeeding(GroupSeeding.EPOCH_STREAM);
            ModelFlops flops = job.flops();
            int trained = 0;
            if (resumable) {
                try {
                    trained = segment(c, job, 0).prepare(true).epoch();
                    log.accept(String.format("%s seed %d: resuming after %d epochs", arm.name(), seedIndex, trained));
                } catch (IOException e) {
                    log.accept(arm.name() + " seed " + seedIndex + ": cannot resume (" + e.getMessage() + "); restarting the run");
                    for (String d : CHECKPOINT_DIRS) TrainingRun.deleteTree(dir.resolve(d));
                    clearProgress();
                }
            }
            while (true) {
                double[] cum = cumulative(metrics(trained), flops);
                int to = MatchedCompute.trainTo(cum, plan.epochs(), targetFlops);
                if (to == trained) break;
                if (trained >= plan.epochs()) {
                    log.accept(String.format(java.util.Locale.ROOT, "%s seed %d: %.1f of flow-grpo's %.1f GFLOP after %d epochs; training on to %d",
                            arm.name(), seedIndex, cum[trained - 1] / 1e9, targetFlops / 1e9, trained, to));
                }
                TrainingRun tr = segment(c, job, to);
                tr.run(tr.prepare(trained > 0));
                trained = to;
            }
            List<Map<String, Object>> rows = metrics(trained);
            double[] cum = cumulative(rows, flops);
            int matched = MatchedCompute.choose(cum, plan.epochs(), targetFlops, Math.min(trained, MatchedCompute.snapshotFrom(plan.epochs())));
            Map<Integer, StudyEvaluation> evals = evaluations(job, new TreeSet<>(List.of(plan.epochs(), matched)));
            double target = Double.isNaN(targetFlops) ? cum[plan.epochs() - 1] : targetFlops;
            double evalSeconds = evals.values().stream().mapToDouble(StudyEvaluation::seconds).sum();
            double runWall = rows.isEmpty() ? 0 : num(rows.get(rows.size() - 1), "wall_seconds");
            return new StudyCsv.Row(arm.name(), seedIndex, plan.seed(seedIndex), plan.world(),
                    point(plan.epochs(), evals.get(plan.epochs()), rows, cum, target),
                    point(matched, evals.get(matched), rows, cum, target), runWall + evalSeconds, schedules(c, rows),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        }
    }

    /** Deletes what a finished run no longer needs: snapshots and checkpoints (metrics, evals and config stay). */
    void cleanUp() throws IOException {
        TrainingRun.deleteTree(dir.resolve(SNAPSHOTS));
        for (String d : CHECKPOINT_DIRS) TrainingRun.deleteTree(dir.resolve(d));
    }

    private void clearProgress() throws IOException {
        Files.deleteIfExists(dir.resolve(EVALS));
        Files.deleteIfExists(dir.resolve("metrics.jsonl"));
        TrainingRun.deleteTree(dir.resolve(SNAPSHOTS));
    }

    /** A TrainingRun of this run's directory up to {@code epochs} (the config's other fields unchanged). */
    private TrainingRun segment(TrainConfig c, Jobs.Job job, int epochs) {
        TrainConfig seg = epochs > 0 ? c.withSets(List.of("epochs=" + epochs)) : c;
        return new TrainingRun(seg, job.trainer(), job.reward(), dir, log).replaceExisting(true).listener(snapshots(job));
    }

    /** The progress bar, plus a snapshot of the policy after every epoch from snapshotFrom(E) on. */
    private RunListener snapshots(Jobs.Job job) {
        RunListener bar = ProgressListener.forTerminal();
        // the baseline is evaluated after E epochs only
        int from = arm.name().equals(plan.baseline()) ? plan.epochs() : MatchedCompute.snapshotFrom(plan.epochs());
        return RunListener.all(List.of(bar, new RunListener() {
            @Override
            public void epochDone(int epoch, Map<String, Object> m) {
                if (epoch < 0) return; // the evaluation before training
                int n = epoch + 1;
                if (n >= from) {
                    Path file = dir.resolve(SNAPSHOTS).resolve("epoch-" + n + ".pt");
                    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                    try {
                        Files.createDirectories(file.getParent());
                        TensorIO.save(tmp, job.policy().stateDict());
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException("cannot write the parameter snapshot " + file, e);
                    }
                }
                var stop = stopAfterEpoch;
                if (stop != null && stop.test(epoch)) throw new Stopped("stopped after epoch " + epoch + " (test hook)");
            }
        }));
    }

    /** The metrics rows of epochs 0 .. trained - 1 (a line past the last checkpoint is not counted). */
    private List<Map<String, Object>> metrics(int trained) throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        if (!Files.exists(f) || trained == 0) return List.of();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> m : MetricsLog.read(f)) {
            int e = ((Number) m.get("epoch")).intValue();
            if (e >= 0 && e < trained) out.add(m);
        }
        if (out.size() != trained) {
            throw new IOException(dir.resolve("metrics.jsonl") + " holds " + out.size() + " epochs of the " + trained
                    + " the checkpoint has trained; delete " + dir + " to run it again");
        }
        return out;
    }

    /** F(e) for e = 1 .. rows: the cumulative model FLOPs, shadow groups included. */
    static double[] cumulative(List<Map<String, Object>> rows, ModelFlops flops) {
        double[] c = new double[rows.size()];
        double sum = 0;
        for (int i = 0; i < c.length; i++) c[i] = sum += StudyFlops.epoch(flops, rows.get(i));
        return c;
    }

    /** The evaluations at {@code points} (epoch counts), from evals.jsonl where recorded, else computed and recorded. */
    private Map<Integer, StudyEvaluation> evaluations(Jobs.Job job, TreeSet<Integer> points) throws IOException {
        Path file = dir.resolve(EVALS);
        Map<Integer, StudyEvaluation> done = new LinkedHashMap<>();
        if (Files.exists(file)) {
            for (Map<String, Object> r : MetricsLog.read(file)) done.put(((Number) r.get("epochs")).intValue(), StudyEvaluation.fromRow(r));
        }
        for (int n : points) {
            if (done.containsKey(n)) continue;
            load(job, n);
            StudyEvaluation ev = StudyEvaluation.of(job, plan.evalSamplesPerPrompt());
            log.accept(String.format(java.util.Locale.ROOT, "%s seed %d after %d epochs: eval reward %.4f (se noise %.4f, se prompts %.4f%s), %.1f s",
                    arm.name(), seedIndex, n, ev.measurement().mean(), ev.measurement().seNoise(), ev.measurement().sePrompts(),
                    Double.isNaN(ev.overall()) ? "" : String.format(java.util.Locale.ROOT, "; evaluator overall %.3f", ev.overall()), ev.seconds()));
            try (MetricsLog m = MetricsLog.open(file)) {
                m.record(ev.toRow(n));
                m.sync();
            }
            done.put(n, ev);
        }
        return done;
    }

    /** Loads the policy after {@code n} epochs: its snapshot, or the last checkpoint when that is the one. */
    private void load(Jobs.Job job, int n) throws IOException {
        Path snap = dir.resolve(SNAPSHOTS).resolve("epoch-" + n + ".pt");
        if (!Files.isRegularFile(snap)) {
            throw new IOException("no parameter snapshot " + snap + " for the evaluation after " + n + " epochs; delete " + dir
                    + " to run it again");
        }
        Map<String, Tensor> params = TensorIO.load(snap);
        try {
            job.policy().loadStateDict(params, true);
        } finally {
            params.values().forEach(Tensor::close);
        }
    }

    private StudyCsv.Point point(int n, StudyEvaluation ev, List<Map<String, Object>> rows, double[] cum, double target) {
        double wall = 0;
        for (int i = 0; i < n; i++) {
            Map<String, Object> m = rows.get(i);
            wall += num(m, "epoch_seconds") + (m.get("seconds") instanceof Map<?, ?> s && s.get("SHADOW") instanceof Number x ? x.doubleValue() : 0);
        }
        StudyStats.Measurement me = ev.measurement();
        return new StudyCsv.Point(n, me.mean(), me.seNoise(), me.sePrompts(), ev.overall(), cum[n - 1] / 1e9, wall, cum[n - 1] / target);
    }

    /**
     * The funnel(s) the run sampled with: each distinct {@code schedule} of the metrics (the adaptive method logs the
     * one it chose) with its epoch count, else the config's schedule, e.g. {@code 48>24@5>12@7 x24}.
     */
    static String schedules(TrainConfig c, List<Map<String, Object>> rows) {
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (Map<String, Object> m : rows) {
            Object s = m.get("schedule");
            String key = s == null ? spec(c) : s instanceof Map<?, ?> map && map.get("spec") != null ? map.get("spec").toString() : s.toString();
            seen.merge(key.replace(',', ';').replace('\n', ' '), 1, Integer::sum);
        }
        StringBuilder out = new StringBuilder();
        seen.forEach((k, v) -> out.append(out.isEmpty() ? "" : "; ").append(k).append(" x").append(v));
        return out.toString();
    }

    /** The config's funnel as a spec: {@code 48>24@5>12@7}, {@code 24>12@10} for a subset after sampling, {@code 24}. */
    static String spec(TrainConfig c) {
        var s = c.samplingSchedule();
        StringBuilder b = new StringBuilder().append(s.initialGroupSize());
        for (int i = 0; i < s.checkpoints().length; i++) b.append('>').append(s.survivors()[i]).append('@').append(s.checkpoints()[i]);
        return b.toString();
    }

    private static double num(Map<String, Object> m, String k) {
        return m.get(k) instanceof Number v ? v.doubleValue() : 0;
    }
}
