package io.progrpo.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.reward.RewardFunction;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.config.TrainConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A training job on disk: the epoch loop of a {@link GrpoTrainer} with metrics (one JSON line per epoch in
 * {@code metrics.jsonl}), evaluation, and full checkpoints written atomically every {@code checkpointEvery} epochs:
 * <pre>
 *   out/checkpoint/policy.pt      parameters (torch.load reads it: a dict name -> tensor)
 *   out/checkpoint/optimizer.bin  AdamW state (libtorch archive)
 *   out/checkpoint/state.json     epoch, elapsed time, prompt groups per optimizer step, counters and the config
 *   out/checkpoint/config.json    the resolved config alone (what {@code progrpo eval --checkpoint} reads)
 * </pre>
 * The random streams of an epoch derive from (seed, epoch), so {@link #run(boolean)} with resume continues exactly
 * where the checkpoint left off. A reward that returns NaN aborts the epoch before any parameter changes; the last
 * good checkpoint stays intact and the error names the reward, the index and the value.
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

    public TrainingRun(TrainConfig config, GrpoTrainer trainer, RewardFunction evalReward, Path out, Consumer<String> log) {
        this.config = config;
        this.trainer = trainer;
        this.evalReward = evalReward;
        this.out = out;
        this.log = log;
    }

    /**
     * Marks this run as a data-parallel rank other than 0: it trains and evaluates like rank 0 (the ranks stay in
     * step), reads the checkpoint on resume, but writes neither metrics nor checkpoints (rank 0 does).
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

    public List<Map<String, Object>> history() {
        return history;
    }

    public Path checkpointDir() {
        return out.resolve("checkpoint");
    }

    /** Runs the remaining epochs; returns the metrics of every epoch run by this call. */
    public List<Map<String, Object>> run(boolean resume) throws IOException {
        Files.createDirectories(out);
        Path metricsFile = out.resolve("metrics.jsonl");
        int startEpoch = 0;
        double elapsedBefore = 0;
        if (resume) {
            Map<String, Object> state = loadCheckpoint();
            startEpoch = ((Number) state.get("epoch")).intValue() + 1;
            elapsedBefore = ((Number) state.get("elapsed_seconds")).doubleValue();
            if (!replica) truncateMetrics(metricsFile, startEpoch);
            log.accept("resumed from " + checkpointDir() + " at epoch " + startEpoch);
            // not in the config (a data-parallel run takes it from PROGRPO_GROUPS_PER_STEP): a change is allowed,
            // as for any config field, but it changes the optimization, so it is said
            if (state.get("groups_per_step") instanceof Number n && n.intValue() != trainer.groupsPerStep()) {
                log.accept("warning: the checkpoint was trained with " + n.intValue() + " prompt groups per optimizer "
                        + "step, this run takes " + trainer.groupsPerStep() + " (PROGRPO_GROUPS_PER_STEP, or groupsPerEpoch)");
            }
        } else if (!replica) {
            Files.deleteIfExists(metricsFile);
        }
        long t0 = System.nanoTime();
        try (MetricsLog metrics = replica ? null : MetricsLog.open(metricsFile)) {
            if (startEpoch == 0 && config.evalEvery() > 0) {
                double r0 = trainer.evaluate(evalReward, 1);
                Map<String, Object> m0 = new LinkedHashMap<>();
                m0.put("epoch", -1);
                m0.put("method", config.method());
                m0.put("eval_reward", r0);
                m0.put("wall_seconds", elapsedBefore);
                if (metrics != null) metrics.record(m0);
                history.add(m0);
                log.accept(String.format(java.util.Locale.ROOT, "[%s] before training: eval reward %.4f", config.method(), r0));
            }
            listener.runStarted(config.method(), startEpoch, config.epochs());
            for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
                final int current = epoch;
                Phases phases = new Phases(p -> listener.phaseEntered(current, p));
                Map<String, Object> m;
                try {
                    m = trainer.runEpoch(epoch, phases);
                } catch (IllegalStateException | IllegalArgumentException e) {
                    throw new TrainingAbortedException("epoch " + epoch + " aborted, no parameter was changed: " + e.getMessage()
                            + (Files.isDirectory(checkpointDir()) ? "; the last good checkpoint in " + checkpointDir() + " is intact" : ""), e);
                }
                if (config.evalEvery() > 0 && ((epoch + 1) % config.evalEvery() == 0 || epoch == config.epochs() - 1)) {
                    long e0 = System.nanoTime();
                    m.put("eval_reward", trainer.evaluate(evalReward, 1));
                    phases.add("EVAL", System.nanoTime() - e0);
                }
                m.put("seconds", phases.secondsByPhase());
                double trainingWall = phases.seconds("SAMPLING") + phases.seconds("REWARD") + phases.seconds("TRAINING");
                m.put("epoch_seconds", trainingWall);
                m.put("wall_seconds", elapsedBefore + (System.nanoTime() - t0) / 1e9);
                if (metrics != null) metrics.record(m);
                history.add(m);
                listener.epochDone(epoch, m);
                log.accept(String.format(java.util.Locale.ROOT, "[%s] epoch %d/%d reward %.4f (within-group std %.4f) %s%.1fs",
                        config.method(), epoch + 1, config.epochs(), (Double) m.get("reward_mean"), (Double) m.get("within_group_std"),
                        m.containsKey("eval_reward") ? String.format(java.util.Locale.ROOT, "eval %.4f ", (Double) m.get("eval_reward")) : "",
                        trainingWall));
                if (!replica && config.checkpointEvery() > 0 && ((epoch + 1) % config.checkpointEvery() == 0 || epoch == config.epochs() - 1)) {
                    saveCheckpoint(epoch, elapsedBefore + (System.nanoTime() - t0) / 1e9);
                }
            }
            listener.runFinished();
        }
        return history;
    }

    /** Writes the full state into a fresh directory, then swaps it in: a crash never leaves a partial checkpoint. */
    void saveCheckpoint(int epoch, double elapsed) throws IOException {
        Path tmp = out.resolve("checkpoint.tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        TensorIO.save(tmp.resolve("policy.pt"), trainer.policy().stateDict());
        trainer.optimizer().save(tmp.resolve("optimizer.bin"));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("epoch", epoch);
        state.put("elapsed_seconds", elapsed);
        state.put("groups_per_step", trainer.groupsPerStep());
        state.put("config", JSON.readTree(config.toJson()));
        Files.writeString(tmp.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
        // The resolved config on its own, as --config reads it: `progrpo eval --checkpoint DIR` uses it by default.
        Files.writeString(tmp.resolve("config.json"), config.toJson());
        Path dst = checkpointDir();
        Path old = out.resolve("checkpoint.old");
        deleteTree(old);
        if (Files.isDirectory(dst)) Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> loadCheckpoint() throws IOException {
        Path dir = checkpointDir();
        Path state = dir.resolve("state.json");
        if (!Files.isRegularFile(state)) {
            throw new IOException("no checkpoint to resume from: " + state + " does not exist (run without --resume, or check --out)");
        }
        Map<String, Object> s;
        try {
            s = JSON.readValue(state.toFile(), Map.class);
        } catch (IOException e) {
            throw new IOException("checkpoint " + state + " is corrupt: " + e.getMessage(), e);
        }
        if (!(s.get("epoch") instanceof Number) || !(s.get("elapsed_seconds") instanceof Number)) {
            throw new IOException("checkpoint " + state + " is corrupt: 'epoch' and 'elapsed_seconds' must be numbers");
        }
        Map<String, Tensor> params = TensorIO.load(dir.resolve("policy.pt"));
        try {
            trainer.policy().loadStateDict(params, true);
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + dir.resolve("policy.pt") + " does not fit this model: " + e.getMessage(), e);
        } finally {
            params.values().forEach(Tensor::close);
        }
        trainer.optimizer().load(dir.resolve("optimizer.bin"));
        return s;
    }

    private static void truncateMetrics(Path file, int firstEpochToDrop) throws IOException {
        if (!Files.isRegularFile(file)) return;
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            Map<?, ?> row = JSON.readValue(line, Map.class);
            if (row.get("epoch") instanceof Number n && n.intValue() < firstEpochToDrop) keep.add(line);
        }
        Files.write(file, keep);
    }

    /** Deletes a directory tree, if it exists (a run directory, a stale checkpoint). */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.delete(q);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** An epoch that could not complete (NaN reward, invalid reward output); the message says what and where. */
    public static final class TrainingAbortedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public TrainingAbortedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
