package io.progrpo.app.study;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One finished training run as {@code progrpo gains} reads it back: its seed and method (from the resolved
 * {@code config.json}, in the run directory or its {@code checkpoint/}) and its held-out evaluations by epoch, of the
 * trained parameters ({@link Weights#RAW}: the {@code eval_reward} of the lines of {@code metrics.jsonl}) or of their
 * moving average ({@link Weights#EMA}: {@code eval_ema.reward}, written by runs with {@code emaDecay > 0}); epoch -1 is
 * the base model before training.
 *
 * @param dir    the run directory
 * @param method the method the run trained
 * @param seed   the run's seed (the config's {@code seed})
 * @param evals  eval reward by epoch, epoch -1 included; never empty
 * @param nfeSampling network evaluations of sampling over all epochs (the sum of the lines' {@code nfe_sampling})
 * @param nfeTraining network evaluations of training over all epochs (the sum of {@code nfe_training}: forwards with
 *                    gradients, reference forwards included)
 */
public record SeedRun(Path dir, String method, long seed, NavigableMap<Integer, Double> evals, long nfeSampling, long nfeTraining) {
    /** The epoch of the base model's evaluation, before the first update. */
    public static final int BASE_EPOCH = -1;

    public SeedRun {
        evals = Collections.unmodifiableNavigableMap(new TreeMap<>(evals));
    }

    /** Which parameters' evaluations a run is read with. */
    public enum Weights {
        /** The trained parameters themselves ({@code eval_reward}). */
        RAW,
        /**
         * The exponential moving average of the trained parameters ({@code eval_ema.reward}, runs with
         * {@code emaDecay > 0}). The average starts at the base model, so its base evaluation is the run's epoch -1
         * {@code eval_reward}.
         */
        EMA;

        /** The weights named {@code name} (raw or ema, any case). */
        public static Weights of(String name) {
            for (Weights w : values()) if (w.name().equalsIgnoreCase(name)) return w;
            throw new IllegalArgumentException("weights must be raw or ema, got '" + name + "'");
        }
    }

    /** The base model's eval reward (epoch -1). */
    public double base() {
        return evals.get(BASE_EPOCH);
    }

    /** The last epoch that has an evaluation. */
    public int lastEvalEpoch() {
        return evals.lastKey();
    }

    /** Eval reward at {@code epoch} minus the base's. */
    public double gainAt(int epoch) {
        Double v = evals.get(epoch);
        if (v == null) {
            throw new IllegalArgumentException("run " + dir + " has no evaluation at epoch " + epoch + "; it has " + evals.keySet());
        }
        return v - base();
    }

    /**
     * The runs under {@code dir}: the directory itself when it holds a {@code metrics.jsonl}; else its subdirectories
     * that hold one (a method's runs of a study); else those of {@code dir/runs} (a demo's output). Sorted by name.
     *
     * @throws IOException when the directory does not exist, holds no run, or a run cannot be read
     */
    public static List<SeedRun> find(Path dir) throws IOException {
        return find(dir, Weights.RAW);
    }

    /** As {@link #find(Path)}, each run read with {@code weights}. */
    public static List<SeedRun> find(Path dir, Weights weights) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + " is not a directory");
        if (Files.isRegularFile(dir.resolve("metrics.jsonl"))) return List.of(read(dir, weights));
        List<Path> runDirs = runDirectories(dir);
        if (runDirs.isEmpty() && Files.isDirectory(dir.resolve("runs"))) runDirs = runDirectories(dir.resolve("runs"));
        if (runDirs.isEmpty()) {
            throw new IOException(dir + " holds no run: expected a run directory (with metrics.jsonl), a directory of runs, "
                    + "or a demo's output (runs/*/metrics.jsonl)");
        }
        List<SeedRun> out = new ArrayList<>();
        for (Path r : runDirs) out.add(read(r, weights));
        return out;
    }

    private static List<Path> runDirectories(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("metrics.jsonl"))).sorted().toList();
        }
    }

    /**
     * A run's {@code metrics.jsonl}: one map per non-blank line, in order (the one reader of that file; the demo reads
     * its children's histories with it too).
     *
     * @throws IOException when the file does not exist or a line is not a JSON object (the message names the line)
     */
    public static List<Map<String, Object>> readMetrics(Path metrics) throws IOException {
        if (!Files.isRegularFile(metrics)) throw new IOException("the run wrote no " + metrics);
        ObjectMapper json = new ObjectMapper();
        List<Map<String, Object>> rows = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) continue;
            try {
                rows.add(json.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() { }));
            } catch (IOException e) {
                throw new IOException(metrics + " line " + n + " is not a JSON object: " + e.getMessage(), e);
            }
        }
        return rows;
    }

    /**
     * Reads one run directory.
     *
     * @throws IOException when the config or the metrics are missing or unreadable, the config has no integer seed,
     *                     a metrics line is not JSON, or the metrics hold no base evaluation (epoch -1)
     */
    public static SeedRun read(Path runDir) throws IOException {
        return read(runDir, Weights.RAW);
    }

    /**
     * Reads one run directory with the evaluations of {@code weights}.
     *
     * @throws IOException as {@link #read(Path)}, and for {@link Weights#EMA} when the run evaluated no moving average
     *                     (it trained with {@code emaDecay} 0) or an evaluated epoch lacks the average's reward
     */
    public static SeedRun read(Path runDir, Weights weights) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path config = runDir.resolve("config.json");
        if (!Files.isRegularFile(config)) config = runDir.resolve("checkpoint").resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new IOException(runDir + " has no config.json (nor checkpoint/config.json): the run is unfinished or not a "
                    + "training run, and its seed cannot be known");
        }
        JsonNode cfg;
        try {
            cfg = json.readTree(config.toFile());
        } catch (IOException e) {
            throw new IOException(config + " is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode seed = cfg == null ? null : cfg.get("seed");
        if (seed == null || !seed.canConvertToLong() || !seed.isIntegralNumber()) {
            throw new IOException(config + " has no integer 'seed' (got " + seed + ")");
        }
        String method = cfg.hasNonNull("method") ? cfg.get("method").asText() : "?";
        Path metrics = runDir.resolve("metrics.jsonl");
        NavigableMap<Integer, Double> evals = new TreeMap<>();
        long nfeSampling = 0;
        long nfeTraining = 0;
        boolean sawEma = false;
        for (Map<String, Object> row : readMetrics(metrics)) {
            if (row.get("nfe_sampling") instanceof Number ns) nfeSampling += ns.longValue();
            if (row.get("nfe_training") instanceof Number nt) nfeTraining += nt.longValue();
            if (!(row.get("eval_reward") instanceof Number v)) continue;
            if (!(row.get("epoch") instanceof Number epoch)) {
                throw new IOException(metrics + " has an eval_reward without an epoch: " + row);
            }
            double value = v.doubleValue();
            if (weights == Weights.EMA && epoch.intValue() != BASE_EPOCH) {
                if (!(row.get("eval_ema") instanceof Map<?, ?> ema && ema.get("reward") instanceof Number r)) {
                    throw new IOException(metrics + " has no eval_ema.reward at epoch " + epoch.intValue() + ": the run "
                            + (sawEma ? "lost its moving average's evaluation there" : "trained without a moving average "
                            + "(emaDecay 0), so it has no EMA gain; read it with the raw weights"));
                }
                sawEma = true;
                value = r.doubleValue();
            }
            evals.put(epoch.intValue(), value);
        }
        if (!evals.containsKey(BASE_EPOCH)) {
            throw new IOException(metrics + " has no evaluation of the base model (an eval_reward at epoch -1): the run was "
                    + "not evaluated during training, so it has no gain");
        }
        return new SeedRun(runDir, method, seed.asLong(), evals, nfeSampling, nfeTraining);
    }
}
