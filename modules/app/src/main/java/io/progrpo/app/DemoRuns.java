package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.app.profile.EpochRecorder;
import io.progrpo.app.report.ProgressListener;
import io.progrpo.app.study.SeedRun;
import io.progrpo.trainer.RunListener;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.TrainConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The demo's training runs, one per method and seed, either one after another in this JVM or several at once, each in
 * a JVM of its own with its share of the cores ({@code --jobs}). The small models of the demo's worlds use two intra-op
 * threads poorly (docs/benchmarks.md, session 9: two one-thread runs side by side train 1.8x the epochs of one
 * two-thread run), so on a CPU the demo trains as many runs at once as there are cores.
 *
 * <p>A child JVM trains exactly what the in-process path trains (the same resolved config, passed as JSON) and writes
 * the same run directory; the parent reads each run's {@code metrics.jsonl} back as its history. Every run is
 * deterministic per seed, so the results do not depend on the number of jobs beyond float rounding of threaded
 * reductions. A child that fails leaves its log beside its run directory; the runs that finished are kept.
 */
final class DemoRuns {
    /** One training run: a method's config for one seed, and the JFR file its first epoch is recorded to (or null). */
    record Unit(String method, int seed, TrainConfig config, Path recording) {
        Path outDir() {
            return Path.of(config.outDir());
        }

        /** The child's combined output: beside the run directory, so a replaced run directory does not take it. */
        Path logFile() {
            return outDir().resolveSibling(outDir().getFileName() + ".log");
        }

        String label() {
            return method + " seed " + seed;
        }
    }

    private DemoRuns() {}

    /**
     * The runs' histories by method, each method's runs in the order of {@code units} (seed index s at position s when
     * the units come seed-major).
     */
    static Map<String, List<List<Map<String, Object>>>> run(List<Unit> units, int jobs, int threadsPerJob, Consumer<String> log)
            throws Exception {
        if (jobs < 1 || threadsPerJob < 1) throw new IllegalArgumentException("jobs and threads per job must be >= 1, got " + jobs + " and " + threadsPerJob);
        Map<String, List<List<Map<String, Object>>>> histories = new LinkedHashMap<>();
        if (jobs == 1) {
            for (Unit u : units) {
                log.accept(String.format(java.util.Locale.ROOT, "=== %s, seed %d (%d epochs of %d groups) ===", u.method(), u.seed(),
                        u.config().epochs(), u.config().groupsPerEpoch()));
                histories.computeIfAbsent(u.method(), k -> new ArrayList<>()).add(trainHere(u, log, ProgressListener.forTerminal()));
            }
            return histories;
        }
        log.accept(String.format(java.util.Locale.ROOT, "training %d runs, %d at a time, each in a JVM of its own with %d intra-op thread%s "
                + "(--jobs; each run's output is also in its RUN.log)", units.size(), Math.min(jobs, units.size()), threadsPerJob, threadsPerJob == 1 ? "" : "s"));
        List<Process> live = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread reaper = new Thread(() -> live.forEach(Process::destroyForcibly), "demo-children-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, units.size()));
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (Unit u : units) done.add(pool.submit(() -> trainInChild(u, threadsPerJob, live, log)));
            List<String> failed = new ArrayList<>();
            for (int i = 0; i < units.size(); i++) {
                int status = done.get(i).get();
                if (status != 0) failed.add(units.get(i).label() + " (exit " + status + ", log " + units.get(i).logFile() + "): " + reason(units.get(i).logFile()));
            }
            if (!failed.isEmpty()) {
                throw new IllegalStateException(failed.size() + " of " + units.size() + " demo runs failed; the others' run directories are "
                        + "complete. " + String.join("\n", failed));
            }
        } finally {
            pool.shutdownNow();
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        for (Unit u : units) histories.computeIfAbsent(u.method(), k -> new ArrayList<>()).add(readHistory(u.outDir().resolve("metrics.jsonl")));
        return histories;
    }

    /** Trains one unit in this JVM, with {@code progress} as the run's listener (and its first epoch recorded when asked). */
    static List<Map<String, Object>> trainHere(Unit u, Consumer<String> log, RunListener progress) throws Exception {
        try (Jobs.Job job = Jobs.build(u.config(), log)) {
            TrainingRun run = job.run(u.outDir(), log).replaceExisting(true);
            if (u.recording() != null) run.listener(RunListener.all(List.of(progress, new EpochRecorder(u.recording()))));
            else if (progress != null) run.listener(progress);
            return run.run(false);
        }
    }

    private static int trainInChild(Unit u, int threads, List<Process> live, Consumer<String> log) throws IOException, InterruptedException {
        Files.createDirectories(u.outDir().getParent());
        Path configFile = u.outDir().resolveSibling(u.outDir().getFileName() + ".config.json");
        Files.writeString(configFile, u.config().toJson());
        List<String> cmd = new ArrayList<>(childJvm(threads));
        if (modular()) cmd.addAll(List.of("-m", DemoRuns.class.getModule().getName() + "/" + DemoUnit.class.getName()));
        else cmd.add(DemoUnit.class.getName());
        cmd.add(configFile.toString());
        if (u.recording() != null) cmd.add(u.recording().toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        log.accept("started " + u.label() + " (" + u.config().epochs() + " epochs of " + u.config().groupsPerEpoch() + " groups)");
        Process p = pb.start();
        live.add(p);
        String prefix = "  " + u.label() + " | ";
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter file = new PrintWriter(Files.newBufferedWriter(u.logFile(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                file.println(line);
                file.flush();
                log.accept(prefix + line);
            }
            return p.waitFor();
        } finally {
            live.remove(p);
            Files.deleteIfExists(configFile);
        }
    }

    /**
     * The command line that starts a JVM like this one: the same runtime and module path (or class path), the
     * {@code progrpo.*} system properties but the thread count, which is {@code threads}.
     */
    static List<String> childJvm(int threads) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        boolean modular = modular();
        cmd.add("--enable-native-access=" + (modular ? "io.progrpo.tensor" : "ALL-UNNAMED"));
        if (ModuleLayer.boot().findModule("java.desktop").isPresent()) cmd.add("--add-modules=java.desktop");
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith("progrpo.") && !k.equals("progrpo.torch.threads")) cmd.add("-D" + k + "=" + System.getProperty(k));
        }
        cmd.add("-Dprogrpo.torch.threads=" + threads);
        if (modular) cmd.addAll(List.of("-p", System.getProperty("jdk.module.path")));
        else cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
        return cmd;
    }

    /** Whether this JVM runs the app as a named module (the launchers) or from the class path (the tests). */
    static boolean modular() {
        return DemoRuns.class.getModule().isNamed() && System.getProperty("jdk.module.path") != null;
    }

    /** A run's history as {@code metrics.jsonl} holds it: one map per line, in order ({@link SeedRun#readMetrics}). */
    static List<Map<String, Object>> readHistory(Path metrics) throws IOException {
        return SeedRun.readMetrics(metrics);
    }

    /** The child's own reason ({@link DemoUnit}'s "demo run failed:" line), else the last lines of its log. */
    private static String reason(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (String l : lines) if (l.startsWith(DemoUnit.FAILED)) return l.substring(DemoUnit.FAILED.length()).strip();
            Deque<String> last = new ArrayDeque<>();
            for (String l : lines) {
                last.addLast("    " + l);
                if (last.size() > 15) last.removeFirst();
            }
            return "its last lines:\n" + String.join("\n", last);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
