package io.progrpo.app.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.app.job.JobCheck;
import io.progrpo.app.job.Jobs;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.RunLock;
import io.progrpo.trainer.config.TrainConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code progrpo study}: the pre-registered comparison of issue 18 on one world. It registers the plan ({@link
 * PlanGuard}), evaluates the base model once, then runs every (arm, seed) not yet in {@code study.csv}, seed by seed
 * (flow-grpo first in each, since the others' matched compute is its FLOPs), appending one row per finished run and
 * rewriting {@code report.md} after each. A killed study restarts where it stopped.
 */
public final class Study {
    public static final String REPORT = "report.md";
    public static final String BASE_EVAL = "base-eval.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Study() {}

    /** The plan of {@code o}: the arms it names must be the plan's. */
    public static StudyPlan plan(StudyOptions o) {
        StudyPlan plan = StudyPlan.of(o.world(), o.setting(), o.quick(), o.seeds());
        if (o.arms() != null) o.arms().forEach(plan::arm);
        return plan;
    }

    /** The arms to run now, in the plan's order; flow-grpo always (every other arm's matched compute needs its runs). */
    static List<StudyArm> selected(StudyPlan plan, List<String> names, Consumer<String> log) {
        if (names == null) return plan.arms();
        if (!names.contains(plan.baseline())) log.accept("note: running " + plan.baseline() + " too: matched compute needs its run of every seed");
        return plan.arms().stream().filter(a -> a.name().equals(plan.baseline()) || names.contains(a.name())).toList();
    }

    /** Every selected arm's config passes the job checks before anything runs (a ConfigException otherwise). */
    static void check(StudyPlan plan, List<StudyArm> arms, Path out) {
        for (StudyArm a : arms) {
            TrainConfig c = plan.config(a, 0, StudyPlan.runDir(out, a.name(), 0));
            JobCheck.embeddedJob(c, false);
        }
    }

    /** What --dry-run prints: the plan in words and its estimated compute; nothing is written. */
    public static String dryRun(StudyOptions o) {
        StudyPlan plan = plan(o);
        check(plan, selected(plan, o.arms(), s -> { }), o.outDir());
        StudyEstimate est = StudyEstimate.of(plan);
        String registered = Files.exists(o.outDir().resolve(PlanGuard.JSON_FILE))
                ? "Dry run (" + o.outDir().resolve(PlanGuard.JSON_FILE) + " registers a plan; a run checks this one against it)"
                : "Dry run, not registered";
        return PlanGuard.markdown(plan, est, o.command(), registered);
    }

    /**
     * Runs the study of {@code o}.
     *
     * @return 0 when every selected run is finished
     * @throws PlanGuard.PlanChangedException when the directory holds another plan
     * @throws IOException                    when a file of the study cannot be read or written
     */
    public static int run(StudyOptions o, Consumer<String> log) throws IOException {
        StudyPlan plan = plan(o);
        Path out = o.outDir();
        List<StudyArm> arms = selected(plan, o.arms(), log);
        check(plan, arms, out);
        StudyEstimate est = StudyEstimate.of(plan);
        Files.createDirectories(out);
        try (RunLock lock = RunLock.acquire(out)) {
            if (PlanGuard.registerOrVerify(plan, est, out, o.command(), now())) {
                log.accept("registered the plan: " + out.resolve(PlanGuard.MD_FILE));
            }
            Torch.ensureAvailable();
            log.accept("progrpo study (" + plan.world() + (plan.quick() ? ", quick" : "") + "): " + Torch.describe());
            List<StudyCsv.Row> rows = new ArrayList<>(StudyCsv.read(out));
            boolean pending = arms.stream().anyMatch(a -> {
                for (int s = 0; s < a.seeds(); s++) if (StudyCsv.find(rows, a.name(), s) == null) return true;
                return false;
            });
            StudyEvaluation base = baseEvaluation(plan, out, pending, log);
            writeReport(plan, rows, out, o, base);
            for (int s = 0; s < plan.maxSeeds(); s++) {
                for (StudyArm a : arms) {
                    if (s >= a.seeds()) continue;
                    ArmRun run = new ArmRun(plan, a, s, out, log);
                    if (StudyCsv.find(rows, a.name(), s) != null) {
                        run.cleanUp();
                        continue;
                    }
                    double target = Double.NaN;
                    if (!a.name().equals(plan.baseline())) {
                        StudyCsv.Row f = StudyCsv.find(rows, plan.baseline(), s);
                        if (f == null) throw new IllegalStateException(plan.baseline() + " seed index " + s + " must finish before " + a.name());
                        target = f.matchedEpochs().gflop() * 1e9;
                    }
                    log.accept(String.format(Locale.ROOT, "=== %s, seed index %d (seed %d) ===", a.name(), s, plan.seed(s)));
                    StudyCsv.Row row = run.run(target);
                    StudyCsv.append(out, row);
                    run.cleanUp();
                    rows.add(row);
                    writeReport(plan, rows, out, o, base);
                    log.accept(String.format(Locale.ROOT, "%s seed index %d done: eval %.4f at E, %.4f at matched compute (%d epochs, %.2fx); %d of %d rows",
                            a.name(), s, row.matchedEpochs().eval(), row.matchedCompute().eval(), row.matchedCompute().epochs(),
                            row.matchedCompute().computeRatio(), rows.size(), plan.arms().stream().mapToInt(StudyArm::seeds).sum()));
                }
            }
            log.accept("wrote " + out.resolve(REPORT) + " and " + out.resolve(StudyCsv.FILE));
            return 0;
        }
    }

    /**
     * A resumed study whose base model is not the one it started with: another pretraining recipe, or another CPU
     * that pretrained the same recipe to other weights. Its new runs would not be comparable with its finished ones.
     */
    public static final class BaseModelChangedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        BaseModelChangedException(String message) {
            super(message);
        }
    }

    /** How far the base model's eval reward may move between two evaluations of the same weights (thread counts, rounding). */
    static final double BASE_EVAL_TOLERANCE = 1e-3;

    /**
     * The base model's evaluation (base-eval.json), computed once per study. When the file exists and {@code verify}
     * (runs are still to be done), the base model is evaluated again and must give the recorded eval reward.
     *
     * @throws BaseModelChangedException when it does not
     */
    static StudyEvaluation baseEvaluation(StudyPlan plan, Path out, boolean verify, Consumer<String> log) throws IOException {
        Path file = out.resolve(BASE_EVAL);
        if (Files.exists(file)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = JSON.readValue(Files.readString(file, StandardCharsets.UTF_8), Map.class);
            StudyEvaluation recorded = StudyEvaluation.fromRow(m);
            if (!verify) return recorded;
            double was = recorded.measurement().mean(), now = evaluateBase(plan, out, log).measurement().mean();
            if (!(Math.abs(now - was) <= BASE_EVAL_TOLERANCE)) {
                throw new BaseModelChangedException(String.format(Locale.ROOT, "the base model is not the one this study started with: "
                        + "%s records its eval reward %.6f, the base model loaded now gives %.6f (more than %.0e apart). The world's "
                        + "pretraining changed (its recipe, or another CPU pretrained it), so new runs would not be comparable with the "
                        + "finished ones; resume with the models the study started with (their cache directory, -Dprogrpo.cache), "
                        + "or start a new study with another --out", file, was, now, BASE_EVAL_TOLERANCE));
            }
            log.accept(String.format(Locale.ROOT, "base model checked: eval reward %.6f as recorded", now));
            return recorded;
        }
        StudyEvaluation ev = evaluateBase(plan, out, log);
        log.accept(String.format(Locale.ROOT, "base model: eval reward %.4f (se noise %.4f, se prompts %.4f)", ev.measurement().mean(),
                ev.measurement().seNoise(), ev.measurement().sePrompts()));
        StudyCsv.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(ev.toRow(0)) + "\n");
        return ev;
    }

    private static StudyEvaluation evaluateBase(StudyPlan plan, Path out, Consumer<String> log) {
        try (Jobs.Job job = Jobs.build(plan.baselineConfig(out), log)) {
            return StudyEvaluation.of(job, plan.evalSamplesPerPrompt());
        }
    }

    private static void writeReport(StudyPlan plan, List<StudyCsv.Row> rows, Path out, StudyOptions o, StudyEvaluation base) throws IOException {
        String md = StudyReport.markdown(plan, rows, new StudyReport.Context(machine(), o.command(), now(), base));
        StudyCsv.writeAtomically(out.resolve(REPORT), md);
    }

    /** The machine in words: OS, architecture, cores, libtorch and its threads. */
    static String machine() {
        return String.format(Locale.ROOT, "%s %s (%s), %d cores visible to the JVM, Java %s; %s", System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), Torch.describe().replace('\n', ' '));
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
