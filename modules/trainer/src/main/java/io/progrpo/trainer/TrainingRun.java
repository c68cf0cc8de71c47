package io.progrpo.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.reward.RewardFunction;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.config.TrainConfig;

import io.progrpo.trainer.internal.DurableFiles;
import io.progrpo.trainer.internal.FaultPoints;
import io.progrpo.trainer.RunLock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A training job on disk: the epoch loop of a {@link GrpoTrainer} with metrics (one JSON line per epoch in
 * {@code metrics.jsonl}), evaluation, and full checkpoints written atomically every {@code checkpointEvery} epochs:
 * <pre>
 *   out/checkpoint/policy.pt         parameters (torch.load reads it: a dict name -> tensor)
 *   out/checkpoint/optimizer.bin     AdamW state (libtorch archive)
 *   out/checkpoint/state.json        epoch, elapsed time, prompt groups per optimizer step, the adaptive method's
 *                                    agreement estimate (schedule_agreement), and the config
 *   out/checkpoint/config.json       the resolved config alone (what {@code progrpo eval --checkpoint} reads)
 *   out/checkpoint/manifest.sha256   the SHA-256 of the four, written last ({@code sha256sum -c} reads it)
 *   out/run.lock                     held (an OS file lock) while a run writes into out
 * </pre>
 * How a checkpoint moves into place, and how a resume finds the newest whole one whatever step a crash interrupted,
 * is in {@link Checkpoints}. The random streams of an epoch derive from (seed, epoch), so {@link #run(boolean)} with
 * resume continues exactly where the checkpoint left off. A fresh run into a directory that holds a checkpoint stops
 * and says so, unless {@link #replaceExisting(boolean)} allows it. A reward that returns NaN aborts the epoch before
 * any parameter changes; the last good checkpoint stays intact and the error names the reward, the index and the value.
 */
public final class TrainingRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainConfig config;
    private final GrpoTrainer trainer;
    private final RewardFunction evalReward;
    private final Path out;
    private final Consumer<String> log;
    private final List<Map<String, Object>> history = new ArrayList<>();
    private boolean replica;
    private RunListener listener = RunListener.NONE;
    private boolean replaceExisting;
    private HeldOutEvaluation heldOut;

    /**
     * Where a run starts, as {@link #prepare(boolean)} found it: data-parallel ranks compare theirs before the first step.
     *
     * @param resume        whether it continues a checkpoint
     * @param epoch         the first epoch it runs
     * @param elapsedBefore wall seconds of the run before it
     * @param groupsPerStep prompt groups per optimizer step of the checkpoint (null: fresh, or not recorded)
     * @param checkpoint    the checkpoint directory it loads (null: fresh)
     * @param checkpointId  the SHA-256 of that checkpoint's manifest (null: fresh)
     */
    public record Start(boolean resume, int epoch, double elapsedBefore, Integer groupsPerStep, Path checkpoint, String checkpointId) {
        static Start fresh() {
            return new Start(false, 0, 0, null, null, null);
        }

        /** One line naming where this run starts; equal lines mean the same start. */
        public String describe() {
            return resume ? "resume at epoch " + epoch + " from checkpoint " + checkpointId : "fresh start at epoch 0";
        }
    }

    public TrainingRun(TrainConfig config, GrpoTrainer trainer, RewardFunction evalReward, Path out, Consumer<String> log) {
        this.config = config;
        this.trainer = trainer;
        this.evalReward = evalReward;
        this.out = out;
        this.log = log;
    }

    /**
     * Marks this run as a data-parallel rank other than 0: it trains and evaluates like rank 0 (the ranks stay in
     * step), reads the checkpoint on resume, but writes neither metrics nor checkpoints (rank 0 does) and takes no lock.
     */
    public TrainingRun replica(boolean on) {
        this.replica = on;
        return this;
    }

    /** Receives the run's progress (epochs, phases, metrics rows); {@link RunListener#NONE} by default. */
    public TrainingRun listener(RunListener l) {
        this.listener = l == null ? RunListener.NONE : l;
        return this;
    }

    /**
     * Lets a fresh run replace the checkpoint of an earlier run in its directory (with a log line) instead of stopping.
     * For callers that own the directory, such as the demo; off by default.
     */
    public TrainingRun replaceExisting(boolean on) {
        this.replaceExisting = on;
        return this;
    }

    /**
     * Judges every evaluation's samples a second time with {@code h} (null: none, the default): the metrics row of an
     * evaluation gets its figures under {@code eval_<name>} beside {@code eval_reward}.
     */
    public TrainingRun heldOut(HeldOutEvaluation h) {
        this.heldOut = h;
        return this;
    }

    public List<Map<String, Object>> history() {
        return history;
    }

    public Path checkpointDir() {
        return out.resolve(Checkpoints.CURRENT);
    }

    /** Runs the remaining epochs; returns the metrics of every epoch run by this call. */
    public List<Map<String, Object>> run(boolean resume) throws IOException {
        try (RunLock lock = lock()) {
            return run(prepare(resume));
        }
    }

    /**
     * Finds where the run starts, touching no parameter. Resume: the newest whole checkpoint, its files verified
     * against their manifest, and on rank 0 an interrupted checkpoint swap completed. Fresh: stops when the directory
     * holds a checkpoint (see {@link #replaceExisting(boolean)}).
     *
     * @throws IOException when there is nothing to resume, a file is damaged (naming it, both digests and the ways
     *                     out), state.json holds an invalid value (naming the field), or the directory is locked
     */
    public Start prepare(boolean resume) throws IOException {
        Files.createDirectories(out);
        try (RunLock lock = lock()) {
            Checkpoints slots = new Checkpoints(out, log);
            if (!resume) {
                if (!replica) slots.prepareFresh(replaceExisting);
                return Start.fresh();
            }
            Checkpoints.Found f = replica ? slots.newest() : slots.recover();
            if (f == null) {
                throw new IOException("no checkpoint to resume from in " + out + ": none of " + Checkpoints.CURRENT + "/, "
                        + Checkpoints.TMP + "/, " + Checkpoints.OLD + "/ holds a whole one (run without --resume to start afresh, or check --out)");
            }
            CheckpointState s = f.state();
            return new Start(true, s.epoch() + 1, s.elapsedSeconds(), s.groupsPerStep(), f.dir(), f.id());
        }
    }

    /** Runs the remaining epochs from {@code start} (of {@link #prepare(boolean)}); returns the metrics of each. */
    public List<Map<String, Object>> run(Start start) throws IOException {
        Files.createDirectories(out);
        try (RunLock lock = lock()) {
            return runLocked(start);
        }
    }

    private RunLock lock() throws IOException {
        return replica ? null : RunLock.acquire(out);
    }

    private List<Map<String, Object>> runLocked(Start start) throws IOException {
        Path metricsFile = out.resolve("metrics.jsonl");
        int startEpoch = start.epoch();
        double elapsedBefore = start.elapsedBefore();
        if (start.resume()) {
            loadCheckpoint(start.checkpoint());
            if (!replica) MetricsLog.keepEpochsBefore(metricsFile, startEpoch);
            log.accept("resumed from " + start.checkpoint() + " at epoch " + startEpoch);
            // not in the config (a data-parallel run takes it from PROGRPO_GROUPS_PER_STEP): a change is allowed,
            // as for any config field, but it changes the optimization, so it is said
            if (start.groupsPerStep() != null && start.groupsPerStep() != trainer.groupsPerStep()) {
                log.accept("warning: the checkpoint was trained with " + start.groupsPerStep() + " prompt groups per optimizer "
                        + "step, this run takes " + trainer.groupsPerStep() + " (PROGRPO_GROUPS_PER_STEP, or groupsPerEpoch)");
            }
        } else if (!replica) {
            Files.deleteIfExists(metricsFile);
        }
        long t0 = System.nanoTime();
        try (MetricsLog metrics = replica ? null : MetricsLog.open(metricsFile)) {
            // the metrics log is the first listener: a row is on disk before any other listener hears of it
            RunListeners.PruneBytes prunes = new RunListeners.PruneBytes();
            RunListener all = RunListener.all(List.of(prunes, RunListeners.metricsWriter(metrics), listener));
            trainer.driverListener(all);
            all.runStarted(config.method(), startEpoch, config.epochs());
            if (startEpoch == 0 && config.evalEvery() > 0) {
                GrpoTrainer.Evaluation r0 = evaluate(-1);
                Map<String, Object> m0 = new LinkedHashMap<>();
                m0.put("epoch", -1);
                m0.put("method", config.method());
                putEvaluation(m0, r0);
                m0.put("wall_seconds", elapsedBefore);
                epochDone(all, -1, m0);
                history.add(m0);
                log.accept(String.format(java.util.Locale.ROOT, "[%s] before training: eval reward %.4f%s", config.method(), r0.reward(),
                        heldOutNote(r0)));
            }
            for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
                final int current = epoch;
                prunes.clear();
                Phases phases = new Phases(current, p -> all.phaseEntered(current, p), p -> all.phaseLeft(current, p));
                Map<String, Object> m;
                GrpoTrainer.Evaluation ev = null;
                try {
                    m = trainer.runEpoch(epoch, phases);
                } catch (IllegalStateException | IllegalArgumentException e) {
                    throw new TrainingAbortedException("epoch " + epoch + " aborted, no parameter was changed: " + e.getMessage()
                            + (Files.isDirectory(checkpointDir()) ? "; the last good checkpoint in " + checkpointDir() + " is intact" : ""), e);
                } finally {
                    phases.end();
                }
                if (config.evalEvery() > 0 && ((epoch + 1) % config.evalEvery() == 0 || epoch == config.epochs() - 1)) {
                    long e0 = System.nanoTime();
                    phases.begin(Phases.EVAL);
                    try {
                        ev = evaluate(epoch);
                        putEvaluation(m, ev);
                        putEmaEvaluation(m, epoch);
                    } finally {
                        phases.end();
                    }
                    phases.add("EVAL", System.nanoTime() - e0);
                }
                if (m.containsKey("schedule_decision")) log.accept(describeSchedule(config.method(), epoch, m));
                m.put("seconds", phases.secondsByPhase());
                Map<String, Object> memory = new LinkedHashMap<>(phases.memoryByPhase());
                if (!prunes.isEmpty()) memory.put("prunes", prunes.rows());
                m.put("memory", memory);
                double trainingWall = phases.seconds("SAMPLING") + phases.seconds("REWARD") + phases.seconds("TRAINING");
                m.put("epoch_seconds", trainingWall);
                m.put("wall_seconds", elapsedBefore + (System.nanoTime() - t0) / 1e9);
                epochDone(all, epoch, m);
                history.add(m);
                log.accept(String.format(java.util.Locale.ROOT, "[%s] epoch %d/%d reward %.4f (within-group std %.4f) %s%.1fs",
                        config.method(), epoch + 1, config.epochs(), (Double) m.get("reward_mean"), (Double) m.get("within_group_std"),
                        m.containsKey("eval_reward") ? String.format(java.util.Locale.ROOT, "eval %.4f%s%s ", (Double) m.get("eval_reward"),
                                ev == null ? "" : heldOutNote(ev), emaNote(m)) : "",
                        trainingWall));
                if (!replica && config.checkpointEvery() > 0 && ((epoch + 1) % config.checkpointEvery() == 0 || epoch == config.epochs() - 1)) {
                    metrics.sync();  // the lines a checkpoint counts on reach the device before it
                    saveCheckpoint(epoch, elapsedBefore + (System.nanoTime() - t0) / 1e9);
                }
            }
            all.runFinished();
        } finally {
            trainer.driverListener(null);
        }
        return history;
    }

    private void putEvaluation(Map<String, Object> row, GrpoTrainer.Evaluation e) {
        row.put("eval_reward", e.reward());
        if (heldOut != null) {
            Map<String, Object> figures = new LinkedHashMap<>();
            // JSON has no NaN: a figure without images (an empty category) is written as null
            e.heldOut().forEach((k, v) -> figures.put(k, v == null || !Double.isFinite(v) ? null : v));
            row.put("eval_" + heldOut.name(), figures);
        }
    }

    /**
     * With EMA on, the same evaluation of the averaged parameters under {@code eval_ema}: {@code reward}, the held-out
     * figures under the judge's name, and {@code decay}.
     */
    private void putEmaEvaluation(Map<String, Object> row, int epoch) {
        EmaWeights ema = trainer.ema();
        if (ema == null) return;
        GrpoTrainer.Evaluation e = ema.withAverage(() -> evaluate(epoch));
        Map<String, Object> m = new LinkedHashMap<>();
        putEvaluation(m, e);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("reward", m.get("eval_reward"));
        if (heldOut != null) out.put(heldOut.name(), m.get("eval_" + heldOut.name()));
        out.put("decay", ema.decay());
        row.put("eval_ema", out);
    }

    @SuppressWarnings("unchecked")
    private static String emaNote(Map<String, Object> row) {
        Object e = row.get("eval_ema");
        return e == null ? "" : String.format(java.util.Locale.ROOT, ", ema %.4f", ((Number) ((Map<String, Object>) e).get("reward")).doubleValue());
    }

    private String heldOutNote(GrpoTrainer.Evaluation e) {
        if (heldOut == null) return "";
        Double v = e.heldOut().get(heldOut.headline());
        return String.format(java.util.Locale.ROOT, ", held-out %s %s %.4f", heldOut.name(), heldOut.headline(), v == null ? Double.NaN : v);
    }

    /**
     * Tells the listeners (the metrics log first) of a metrics row; a failed append (a full disk) stops the run with an
     * IOException that says what is intact.
     */
    private void epochDone(RunListener all, int epoch, Map<String, Object> row) throws IOException {
        try {
            all.epochDone(epoch, row);
        } catch (RunListeners.MetricsWriteFailed e) {
            throw new IOException(e.getMessage() + "; the run stopped"
                    + (Files.isDirectory(checkpointDir()) ? ", the last checkpoint in " + checkpointDir() + " is intact (resume with --resume)" : ""),
                    e.getCause());
        }
    }

    /** Writes the full state into checkpoint.tmp/, then swaps it in: a crash never leaves a partial checkpoint. */
    void saveCheckpoint(int epoch, double elapsed) throws IOException {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("epoch", epoch);
        state.put("elapsed_seconds", elapsed);
        state.put("groups_per_step", trainer.groupsPerStep());
        // the adaptive method's estimate: a resumed run chooses the funnels an uninterrupted one chooses
        Map<String, Object> agreement = trainer.scheduleAgreementState();
        if (agreement != null) state.put("schedule_agreement", agreement);
        state.put("config", JSON.readTree(config.toJson()));
        byte[] stateJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
        TrainerEvents.CheckpointWrite ev = new TrainerEvents.CheckpointWrite();
        ev.begin();
        ev.epoch = epoch;
        ev.directory = out.toString();
        try {
            writeCheckpoint(stateJson);
        } finally {
            ev.commit();
        }
    }

    private void writeCheckpoint(byte[] stateJson) throws IOException {
        new Checkpoints(out, log).save(dir -> {
            TensorIO.save(dir.resolve("policy.pt"), trainer.policy().stateDict());
            FaultPoints.reach("checkpoint.policy-written");
            trainer.optimizer().save(dir.resolve("optimizer.bin"));
            FaultPoints.reach("checkpoint.optimizer-written");
            if (trainer.ema() != null) TensorIO.save(dir.resolve("ema.pt"), trainer.ema().state());
            DurableFiles.write(dir.resolve("state.json"), stateJson);
            FaultPoints.reach("checkpoint.state-written");
            // The resolved config on its own, as --config reads it: `progrpo eval --checkpoint DIR` uses it by default.
            DurableFiles.write(dir.resolve("config.json"), config.toJson().getBytes(StandardCharsets.UTF_8));
            FaultPoints.reach("checkpoint.config-written");
        });
    }

    /** Loads the parameters and the optimizer state of a checkpoint that {@link #prepare(boolean)} verified. */
    private void loadCheckpoint(Path dir) throws IOException {
        if (trainer.adaptsSchedule()) restoreScheduleAgreement(dir.resolve("state.json"));
        Map<String, Tensor> params = TensorIO.load(dir.resolve("policy.pt"));
        try {
            trainer.policy().loadStateDict(params, true);
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + dir.resolve("policy.pt") + " does not fit this model: " + e.getMessage(), e);
        } finally {
            params.values().forEach(Tensor::close);
        }
        trainer.optimizer().load(dir.resolve("optimizer.bin"));
        loadEma(dir.resolve("ema.pt"));
    }

    /** The parameter average of a checkpoint, when this run keeps one (a checkpoint without: it restarts, with a warning). */
    private void loadEma(Path file) throws IOException {
        EmaWeights ema = trainer.ema();
        if (ema == null) return;
        if (!Files.exists(file)) {
            log.accept("warning: the checkpoint has no " + file.getFileName() + " (written without emaDecay): the EMA starts "
                    + "afresh from the checkpoint's parameters, so it differs from an uninterrupted run's");
            ema.reset();
            return;
        }
        Map<String, Tensor> avg = TensorIO.load(file);
        try {
            ema.load(avg);
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + file + " does not fit this model's trained parameters: " + e.getMessage(), e);
        } finally {
            avg.values().forEach(Tensor::close);
        }
    }

    /** The adaptive method's agreement estimate from a checkpoint's state.json (verified by {@link #prepare}). */
    private void restoreScheduleAgreement(Path stateFile) throws IOException {
        CheckpointState st = CheckpointState.parse(stateFile, Files.readString(stateFile, StandardCharsets.UTF_8));
        if (st.scheduleAgreement() == null) {
            log.accept("warning: the checkpoint's " + stateFile.getFileName() + " holds no schedule_agreement (written by another method "
                    + "or an earlier progrpo): the adaptive method's estimate starts afresh, so its funnels may differ from an uninterrupted run's");
            return;
        }
        try {
            trainer.restoreScheduleAgreement(st.scheduleAgreement());
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + stateFile + " is invalid: " + e.getMessage(), e);
        }
    }

    /** One log line for the adaptive method's choice of the epoch's funnel (the row's {@code schedule_decision}). */
    @SuppressWarnings("unchecked")
    static String describeSchedule(String method, int epoch, Map<String, Object> row) {
        Map<String, Object> d = (Map<String, Object>) row.get("schedule_decision");
        StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT, "[%s] epoch %d funnel %s: %s%s, cost %.3f x flow-grpo "
                + "(budget %s), agreement", method, epoch + 1, row.get("schedule"), d.get("reason"),
                Boolean.TRUE.equals(d.get("within_budget")) ? "" : " (over budget)", ((Number) d.get("cost_ratio")).doubleValue(),
                d.get("budget")));
        for (Map<String, Object> a : (List<Map<String, Object>>) d.get("agreement")) {
            Object v = a.get("spearman");
            sb.append(' ').append(v == null ? "none" : String.format(java.util.Locale.ROOT, "%.3f", ((Number) v).doubleValue()))
                    .append(" @").append(a.get("step"));
        }
        return sb.append(" (tau ").append(d.get("tau")).append(", ").append(d.get("shadow_groups")).append(" shadow groups)").toString();
    }

    /**
     * Checks a checkpoint directory's files against its manifest before something loads them ({@code progrpo eval}).
     * A directory without a manifest (an earlier progrpo's) passes unverified.
     *
     * @throws IOException naming the file, the expected and the actual SHA-256, when one differs or is missing
     */
    public static void verifyCheckpoint(Path dir) throws IOException {
        Path manifest = dir.resolve(Checkpoints.MANIFEST);
        if (!Files.exists(manifest)) return;
        io.progrpo.tensor.files.Manifest.Mismatch m =
                io.progrpo.tensor.files.Manifest.verify(dir, io.progrpo.tensor.files.Manifest.read(manifest));
        if (m != null) {
            throw new IOException("checkpoint file " + m.describe() + " (the file, or the manifest, changed after the checkpoint was "
                    + "written): restore it from a copy, or record deliberate edits with `cd " + dir + " && sha256sum "
                    + String.join(" ", Checkpoints.FILES) + " > " + Checkpoints.MANIFEST + "`");
        }
    }

    /**
     * The held-out evaluation after {@code epoch} (-1: before training). A reward that fails its checks there (NaN, a
     * wrong count) ends the run like a failed epoch: that epoch's metrics and checkpoint are not written, so a resume
     * from the last checkpoint runs it again.
     */
    private GrpoTrainer.Evaluation evaluate(int epoch) {
        try {
            return trainer.evaluate(evalReward, heldOut, config.evalSamples());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new TrainingAbortedException((epoch < 0 ? "the evaluation before training" : "the evaluation after epoch " + epoch)
                    + " failed, nothing of " + (epoch < 0 ? "the run" : "that epoch") + " was recorded: " + e.getMessage()
                    + (Files.isDirectory(checkpointDir()) ? "; the last good checkpoint in " + checkpointDir() + " is intact" : ""), e);
        }
    }

    /** Deletes a directory tree, if it exists (a run directory, a stale checkpoint). */
    public static void deleteTree(Path p) throws IOException {
        DurableFiles.deleteTree(p);
    }

    /** An epoch that could not complete (NaN reward, invalid reward output); the message says what and where. */
    public static final class TrainingAbortedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public TrainingAbortedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
