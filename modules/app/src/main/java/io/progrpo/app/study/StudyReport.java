package io.progrpo.app.study;

import io.progrpo.app.report.PairedComparison;
import io.progrpo.app.study.StudyCsv.Point;
import io.progrpo.app.study.StudyCsv.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * report.md of a study, computed from its CSV rows alone (so it can be rewritten after every run): the arms at matched
 * compute and at matched epochs with paired differences against flow-grpo, a section per claim of the paper, the
 * evaluation's measurement error, wall time, and what was cut. Verdicts come from {@link PairedComparison}: "held"
 * where the 95 % interval lies above 0, "not held" where it lies below, "inconclusive" where it contains 0, "not
 * testable" below 2 paired seeds.
 */
final class StudyReport {
    private StudyReport() {}

    /**
     * What the report says about its circumstances.
     *
     * @param machine   the machine in words (OS, cores, libtorch and its threads)
     * @param command   the command line that runs this study
     * @param writtenUtc when the report was written
     * @param base      the base model's evaluation, or null
     */
    record Context(String machine, String command, String writtenUtc, StudyEvaluation base) {}

    private static final ToDoubleFunction<Row> MC = r -> r.matchedCompute().eval();
    private static final ToDoubleFunction<Row> ME = r -> r.matchedEpochs().eval();

    static String markdown(StudyPlan plan, List<Row> rows, Context ctx) {
        StringBuilder s = new StringBuilder();
        s.append("# progrpo study: the paper's claims on the ").append(plan.world()).append(" world")
                .append(plan.diffusion() ? ", diffusion setting" : "").append(plan.quick() ? " (quick)" : "")
                .append("\n\n");
        int planned = plan.arms().stream().mapToInt(StudyArm::seeds).sum();
        String first = rows.stream().map(Row::finishedUtc).min(String::compareTo).orElse("–");
        String last = rows.stream().map(Row::finishedUtc).max(String::compareTo).orElse("–");
        s.append("- Machine: ").append(ctx.machine()).append('\n');
        s.append("- Written: ").append(ctx.writtenUtc()).append("; runs finished from ").append(first).append(" to ").append(last).append('\n');
        s.append("- Command: `").append(ctx.command()).append("`\n");
        s.append(String.format(Locale.ROOT, "- Plan: [plan.md](plan.md) (pre-registered): E = %d epoch(s), %d optimizer step(s) per epoch, %d "
                        + "samples per held-out prompt per evaluation; %d of %d planned runs finished.%n", plan.epochs(),
                Math.max(1, groupsPerEpoch(plan) / plan.groupsPerStep()), plan.evalSamplesPerPrompt(), rows.size(), planned));
        if (ctx.base() != null) {
            StudyStats.Measurement b = ctx.base().measurement();
            s.append(String.format(Locale.ROOT, "- Base model (before training, the same for every run): eval reward %.4f (se noise %.4f, se prompts %.4f)%s%n",
                    b.mean(), b.seNoise(), b.sePrompts(), Double.isNaN(ctx.base().overall()) ? ""
                            : String.format(Locale.ROOT, ", evaluator overall %.3f", ctx.base().overall())));
        }
        s.append("\n").append(StudyNotes.matchedCompute(plan)).append("\n\n");
        s.append("## Arms at matched compute (the headline contrasts)\n\n").append(table(plan, rows, true)).append('\n');
        s.append("## Arms at matched epochs (E = ").append(plan.epochs()).append(", the paper's protocol)\n\n").append(table(plan, rows, false)).append('\n');
        s.append("## The paper's claims\n\n").append(claims(plan, rows)).append('\n');
        s.append("## The evaluation's own measurement error\n\n").append(measurementError(plan, rows)).append('\n');
        s.append("## What was cut\n\n");
        for (String c : StudyNotes.cut(plan)) s.append("- ").append(c).append('\n');
        List<String> missing = new ArrayList<>();
        for (StudyArm a : plan.arms()) {
            int have = (int) rows.stream().filter(r -> r.arm().equals(a.name())).count();
            if (have < a.seeds()) missing.add(a.name() + " " + have + " of " + a.seeds());
        }
        if (!missing.isEmpty()) s.append("- not yet run (seeds finished of planned): ").append(String.join(", ", missing)).append('\n');
        s.append("\nEvery run's row is in [study.csv](study.csv) (`_me`: at matched epochs, `_mc`: at matched compute), its metrics "
                + "and evaluations under `runs/<arm>/seed-<s>/`.\n");
        return s.toString();
    }

    private static int groupsPerEpoch(StudyPlan plan) {
        Object g = plan.registered().get("groups_per_epoch");
        return g instanceof Number n ? n.intValue() : plan.groupsPerStep();
    }

    /** Rows of one arm, by seed index. */
    static List<Row> of(List<Row> rows, String arm) {
        return rows.stream().filter(r -> r.arm().equals(arm)).sorted((a, b) -> Integer.compare(a.seedIndex(), b.seedIndex())).toList();
    }

    /** The paired comparison of arm {@code a} against arm {@code b} over the seeds both finished; null when none. */
    static PairedComparison paired(List<Row> rows, String a, String b, ToDoubleFunction<Row> value) {
        List<double[]> pairs = new ArrayList<>();
        for (Row ra : of(rows, a)) {
            Row rb = StudyCsv.find(rows, b, ra.seedIndex());
            if (rb == null) continue;
            double va = value.applyAsDouble(ra);
            double vb = value.applyAsDouble(rb);
            if (Double.isFinite(va) && Double.isFinite(vb)) pairs.add(new double[] {va, vb});
        }
        if (pairs.isEmpty()) return null;
        return PairedComparison.of(pairs.stream().mapToDouble(p -> p[0]).toArray(), pairs.stream().mapToDouble(p -> p[1]).toArray());
    }

    /** The study's word for a verdict: held, not held, inconclusive, not testable. */
    static String verdict(PairedComparison c) {
        if (c == null) return "not testable";
        return switch (c.verdict()) {
            case HELD -> "held";
            case REVERSED -> "not held";
            case INCONCLUSIVE -> "inconclusive";
            case NOT_TESTABLE -> "not testable";
        };
    }

    /** "held: +0.0123 ± 0.0040 (95 % CI [+0.0033, +0.0213], 10 seeds)". */
    static String describe(PairedComparison c) {
        if (c == null) return "not testable (no paired seed finished)";
        if (c.seeds() < 2) return String.format(Locale.ROOT, "not testable (%+.4f on 1 seed; a verdict needs >= 2 paired seeds)", c.mean());
        return String.format(Locale.ROOT, "%s: %+.4f ± %.4f SE (95 %% CI [%+.4f, %+.4f], %d paired seeds)", verdict(c), c.mean(), c.se(),
                c.low(), c.high(), c.seeds());
    }

    private static String table(StudyPlan plan, List<Row> rows, boolean matchedCompute) {
        ToDoubleFunction<Row> v = matchedCompute ? MC : ME;
        String b = plan.baseline();
        StringBuilder s = new StringBuilder("| arm | seeds | eval reward (mean ± SE over seeds) | vs " + b + " (paired) | 95 % CI | verdict "
                + "| compute vs " + b + " | epochs | train wall s | evaluator overall |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n");
        for (StudyArm a : plan.arms()) {
            List<Row> rs = of(rows, a.name());
            if (rs.isEmpty()) {
                s.append("| ").append(a.name()).append(" | 0 | not run | | | | | | | |\n");
                continue;
            }
            List<Point> pts = rs.stream().map(r -> matchedCompute ? r.matchedCompute() : r.matchedEpochs()).toList();
            StudyStats.Summary eval = StudyStats.summary(rs.stream().mapToDouble(v).toArray());
            StudyStats.Summary ratio = StudyStats.summary(pts.stream().mapToDouble(Point::computeRatio).toArray());
            StudyStats.Summary epochs = StudyStats.summary(pts.stream().mapToDouble(Point::epochs).toArray());
            StudyStats.Summary wall = StudyStats.summary(pts.stream().mapToDouble(Point::wallSeconds).toArray());
            double[] ov = pts.stream().mapToDouble(Point::overall).filter(Double::isFinite).toArray();
            String diff = "";
            String ci = "";
            String verdict = "";
            if (!a.name().equals(plan.baseline())) {
                PairedComparison c = paired(rows, a.name(), plan.baseline(), v);
                verdict = verdict(c);
                if (c != null) {
                    diff = c.seeds() < 2 ? String.format(Locale.ROOT, "%+.4f", c.mean()) : String.format(Locale.ROOT, "%+.4f ± %.4f", c.mean(), c.se());
                    ci = c.seeds() < 2 ? "" : String.format(Locale.ROOT, "[%+.4f, %+.4f]", c.low(), c.high());
                }
            }
            s.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %.2fx | %s | %.1f | %s |%n", a.name(), rs.size(), eval.meanSe(4),
                    diff, ci, verdict, ratio.mean(), epochs.n() == 0 ? "" : String.format(Locale.ROOT, "%.1f", epochs.mean()), wall.mean(),
                    ov.length == 0 ? "–" : StudyStats.summary(ov).meanSe(3)));
        }
        return s.toString();
    }

    private static String claims(StudyPlan plan, List<Row> rows) {
        StringBuilder s = new StringBuilder();
        s.append("Each line: arm A against arm B, paired over the seeds both finished, at matched epochs (ME) and at matched "
                + "compute (MC). The claim holds where the difference's 95 % interval lies above 0.\n\n");
        if (plan.diffusion()) return diffusionClaims(plan, rows, s);
        s.append("### 1. A high-variance (OVF) subset beats the full group\n\n");
        claim(s, rows, "static-ovf", "flow-grpo", "OVF 12 of 24 > the full group of 24");
        claim(s, rows, "static-ovf", "uniform-subsample", "OVF 12 of 24 > a uniform 12 of 24");
        claim(s, rows, "oracle-ovf-48", "flow-grpo", "oracle OVF 12 of 48 > the full group of 24");
        s.append("\n### 2. Expand-and-prune beats Flow-GRPO at lower cost\n\n");
        claim(s, rows, "pro-grpo", "flow-grpo", "pro-grpo 48 -> 24 @5 -> 12 @7 > flow-grpo");
        cost(plan, s, rows, "pro-grpo");
        s.append("\n### 3. Pro-GRPO Flash beats Flow-GRPO at lower cost\n\n");
        claim(s, rows, "pro-grpo-flash", "flow-grpo", "pro-grpo-flash 24 -> 16 @5 -> 12 @7 > flow-grpo");
        cost(plan, s, rows, "pro-grpo-flash");
        s.append("\n### 4. A larger G_max helps, with diminishing returns (k = 12 fixed)\n\n");
        claim(s, rows, "pro-grpo", "pro-grpo-gmax32", "G_max 48 > 32");
        claim(s, rows, "pro-grpo-gmax64", "pro-grpo", "G_max 64 > 48");
        for (boolean mc : new boolean[] {false, true}) {
            PairedComparison d = diminishing(rows, "pro-grpo-gmax32", "pro-grpo", "pro-grpo-gmax64", mc ? MC : ME);
            s.append("- diminishing returns, (48 - 32) > (64 - 48) per seed, ").append(mc ? "MC" : "ME").append(": ").append(describe(d)).append('\n');
        }
        s.append("\n### 5. Late checkpoints beat early ones\n\n");
        if (plan.names().contains("pro-grpo-late")) claim(s, rows, "pro-grpo-late", "pro-grpo-early", "late 48 -> 12 @9 > early 48 -> 24 @3 -> 12 @5");
        claim(s, rows, "pro-grpo", "pro-grpo-early", "the paper's 5 / 7 > early 3 / 5");
        if (plan.names().contains("pro-grpo-late")) claim(s, rows, "pro-grpo-late", "pro-grpo", "late 48 -> 12 @9 > the paper's 5 / 7");
        s.append("\n### 6. The adaptive method\n\n");
        claim(s, rows, "pro-grpo-adaptive", "flow-grpo", "pro-grpo-adaptive > flow-grpo");
        String best = bestFixed(plan, rows);
        if (best != null) {
            claim(s, rows, "pro-grpo-adaptive", best, "pro-grpo-adaptive > the best fixed schedule (" + best
                    + ", chosen after the fact by its mean at matched compute, which favours it)");
        }
        List<String> sched = of(rows, "pro-grpo-adaptive").stream().map(r -> "seed " + r.seedIndex() + ": " + r.schedule()).toList();
        if (!sched.isEmpty()) s.append("- schedules the adaptive runs used: ").append(String.join("; ", sched)).append('\n');
        return s.toString();
    }

    /** The diffusion setting's claims: expand-and-prune against DanceGRPO, the G_max ablation, late against early. */
    private static String diffusionClaims(StudyPlan plan, List<Row> rows, StringBuilder s) {
        s.append("### 1. Expand-and-prune beats DanceGRPO (the paper's diffusion setting)\n\n");
        claim(s, rows, "pro-grpo-dance", plan.baseline(), "pro-grpo-dance 48 -> 32 @30 -> 8 @40 > dance-grpo G = 16");
        cost(plan, s, rows, "pro-grpo-dance");
        s.append("\n### 2. A larger G_max helps, with diminishing returns (k = 8 fixed; the paper: 0.386 / 0.391 / 0.393)\n\n");
        claim(s, rows, "pro-grpo-dance", "pro-grpo-dance-gmax32", "G_max 48 > 32");
        claim(s, rows, "pro-grpo-dance-gmax64", "pro-grpo-dance", "G_max 64 > 48");
        for (boolean mc : new boolean[] {false, true}) {
            PairedComparison d = diminishing(rows, "pro-grpo-dance-gmax32", "pro-grpo-dance", "pro-grpo-dance-gmax64", mc ? MC : ME);
            s.append("- diminishing returns, (48 - 32) > (64 - 48) per seed, ").append(mc ? "MC" : "ME").append(": ").append(describe(d)).append('\n');
        }
        s.append("\n### 3. Late checkpoints beat early ones\n\n");
        claim(s, rows, "pro-grpo-dance", "pro-grpo-dance-early", "the paper's @30 / @40 > early @10 / @20");
        return s.toString();
    }

    private static void claim(StringBuilder s, List<Row> rows, String a, String b, String text) {
        s.append("- ").append(text).append(": ME ").append(describe(paired(rows, a, b, ME))).append("; MC ")
                .append(describe(paired(rows, a, b, MC))).append('\n');
    }

    private static void cost(StudyPlan plan, StringBuilder s, List<Row> rows, String arm) {
        List<Row> rs = of(rows, arm);
        if (rs.isEmpty()) return;
        StudyStats.Summary r = StudyStats.summary(rs.stream().mapToDouble(x -> x.matchedEpochs().computeRatio()).toArray());
        StudyStats.Summary w = StudyStats.summary(rs.stream().mapToDouble(x -> {
            Row f = StudyCsv.find(rows, plan.baseline(), x.seedIndex());
            return f == null || f.matchedEpochs().wallSeconds() <= 0 ? Double.NaN : x.matchedEpochs().wallSeconds() / f.matchedEpochs().wallSeconds();
        }).filter(Double::isFinite).toArray());
        String paper = plan.diffusion() ? "the paper reports no FLOP ratio for this setting"
                : "the paper: 1/1.26 = 0.79 for the standard, 1/1.41 = 0.71 for flash";
        s.append(String.format(Locale.ROOT, "- its cost at matched epochs: %.2fx %s's model FLOPs (%s), %s its training wall time (paired by seed)%n",
                r.mean(), plan.baseline(), paper,
                w.n() == 0 ? "–" : String.format(Locale.ROOT, "%.2fx", w.mean())));
    }

    /** Per seed: (G48 - G32) against (G64 - G48) of the three arms named; held = the first gain is larger. */
    static PairedComparison diminishing(List<Row> rows, String arm32, String arm48, String arm64, ToDoubleFunction<Row> v) {
        List<double[]> d = new ArrayList<>();
        for (Row g32 : of(rows, arm32)) {
            Row g48 = StudyCsv.find(rows, arm48, g32.seedIndex());
            Row g64 = StudyCsv.find(rows, arm64, g32.seedIndex());
            if (g48 == null || g64 == null) continue;
            d.add(new double[] {v.applyAsDouble(g48) - v.applyAsDouble(g32), v.applyAsDouble(g64) - v.applyAsDouble(g48)});
        }
        if (d.isEmpty()) return null;
        return PairedComparison.of(d.stream().mapToDouble(x -> x[0]).toArray(), d.stream().mapToDouble(x -> x[1]).toArray());
    }

    /** The fixed-schedule pruning arm with the highest mean eval reward at matched compute, or null. */
    static String bestFixed(StudyPlan plan, List<Row> rows) {
        String best = null;
        double bestMean = Double.NEGATIVE_INFINITY;
        for (StudyArm a : plan.arms()) {
            if (!a.preset().startsWith("pro-grpo") || a.name().equals("pro-grpo-adaptive")) continue;
            double[] v = of(rows, a.name()).stream().mapToDouble(MC).toArray();
            if (v.length == 0) continue;
            double m = StudyStats.summary(v).mean();
            if (m > bestMean) {
                bestMean = m;
                best = a.name();
            }
        }
        return best;
    }

    private static String measurementError(StudyPlan plan, List<Row> rows) {
        if (rows.isEmpty()) return "No run finished yet.\n";
        StudyStats.Summary noise = StudyStats.summary(rows.stream().mapToDouble(r -> r.matchedEpochs().seNoise()).filter(Double::isFinite).toArray());
        StudyStats.Summary prompts = StudyStats.summary(rows.stream().mapToDouble(r -> r.matchedEpochs().sePrompts()).filter(Double::isFinite).toArray());
        StudyStats.Summary seeds = StudyStats.summary(of(rows, plan.baseline()).stream().mapToDouble(ME).toArray());
        return String.format(Locale.ROOT, "Over every finished run, at matched epochs: the standard error of one evaluation over its noise "
                        + "draws (prompts fixed, %d samples per prompt) is %.4f on average, over prompts %.4f; %s's eval reward "
                        + "varies over seeds with a standard deviation of %s. The noise figure is the measurement error of one run's "
                        + "value; the prompt figure is shared by every arm (the same prompts and noise), so it cancels in the paired "
                        + "differences.%n", plan.evalSamplesPerPrompt(), noise.mean(), prompts.mean(), plan.baseline(),
                seeds.n() < 2 ? "– (fewer than 2 seeds)" : String.format(Locale.ROOT, "%.4f", seeds.sd()));
    }
}
