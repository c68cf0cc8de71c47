package io.progrpo.app.study;

import io.progrpo.app.report.ModelFlops;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The compute a plan will cost, predicted from its configs alone ({@link StudyFlops#predictedEpoch}): per arm the FLOP
 * ratio to flow-grpo at E epochs, the epochs the matched-compute rule will train ({@link MatchedCompute}), the
 * evaluations, and a wall-time estimate that scales a measured flow-grpo epoch of the world by FLOPs (in the diffusion
 * setting too, whose baseline is dance-grpo).
 *
 * @param arms                 one line per arm
 * @param baselineEpochSeconds the measured wall time of one flow-grpo epoch this estimate scales (NaN: no time estimate)
 * @param source               where that figure was measured
 */
public record StudyEstimate(List<Arm> arms, double baselineEpochSeconds, String source) {
    /** Seconds a run costs beyond its epochs and evaluations: building the job, loading the cached models. */
    public static final double RUN_OVERHEAD_SECONDS = 3;

    /**
     * One arm's prediction (per run).
     *
     * @param ratio           its FLOPs at E epochs / flow-grpo's
     * @param epochsTrained   epochs it will train (E, or more to reach flow-grpo's compute)
     * @param epochsMatched   the epoch of its matched-compute evaluation
     * @param evaluations     evaluations per run (1 when matched epochs and matched compute coincide)
     * @param gflopPerRun     model GFLOPs of a run: training and evaluations
     * @param secondsPerRun   estimated wall seconds of a run (NaN without a measured reference)
     */
    public record Arm(StudyArm arm, double ratio, int epochsTrained, int epochsMatched, int evaluations, double gflopPerRun,
                      double secondsPerRun) {}

    /**
     * The estimate of {@code plan}. The reference epoch: the pixel world's flow-grpo demo epoch (3.04 s, 8 groups x 24,
     * quiet 2-core machine, 2026-11-22) and the latent world's (8.44 s at load 3.4 to 6.8, 2026-12-02), both in
     * docs/benchmarks.md; none for --quick.
     */
    public static StudyEstimate of(StudyPlan plan) {
        double ref = plan.quick() ? Double.NaN : plan.world().equals("pixel") ? 3.04 : 8.44;
        String source = plan.quick() ? "no measured reference for the quick sizes"
                : plan.world().equals("pixel") ? "flow-grpo's demo epoch on the pixel world, 3.04 s (docs/benchmarks.md, quiet machine)"
                : "flow-grpo's demo epoch on the latent world, 8.44 s (docs/benchmarks.md, session 4, load 3.4 to 6.8)";
        Path dir = Path.of("estimate");
        TrainConfig base = plan.config(plan.arms().get(0), 0, dir);
        ModelFlops f = StudyFlops.of(base);
        int e = plan.epochs();
        double target = StudyFlops.predictedTotal(base, f, e);
        // the measured reference is a flow-grpo epoch of the world; the diffusion setting's baseline is scaled to it by FLOPs
        TrainConfig flow = plan.diffusion() ? TrainConfig.resolve("flow-grpo+" + plan.overlay(), null, List.of()) : base;
        double baseEpoch = plan.diffusion() ? StudyFlops.predictedEpoch(flow, StudyFlops.of(flow), 1) : target / e;
        int rows = evalRows(plan, base);
        double evalFlops = StudyFlops.evaluation(base, f, rows);
        List<Arm> out = new ArrayList<>();
        for (StudyArm a : plan.arms()) {
            TrainConfig c = plan.config(a, 0, dir);
            boolean baseline = a.name().equals(plan.baseline());
            double t = baseline ? Double.NaN : target;
            List<Double> cum = new ArrayList<>();
            while (true) {
                double[] sofar = cum.stream().mapToDouble(Double::doubleValue).toArray();
                int to = MatchedCompute.trainTo(sofar, e, t);
                if (to == sofar.length) break;
                for (int k = sofar.length; k < to; k++) {
                    cum.add((k == 0 ? 0 : cum.get(k - 1)) + StudyFlops.predictedEpoch(c, f, k));
                }
            }
            double[] cumulative = cum.stream().mapToDouble(Double::doubleValue).toArray();
            int matched = MatchedCompute.choose(cumulative, e, t, MatchedCompute.snapshotFrom(e));
            int evals = matched == e ? 1 : 2;
            double flops = cumulative[cumulative.length - 1] + evals * evalFlops;
            double seconds = flops / baseEpoch * ref + RUN_OVERHEAD_SECONDS;
            out.add(new Arm(a, cumulative[e - 1] / target, cumulative.length, matched, evals, flops / 1e9, seconds));
        }
        return new StudyEstimate(out, ref, source);
    }

    /** The rows of one evaluation: the held-out prompts evaluated times the samples per prompt. */
    static int evalRows(StudyPlan plan, TrainConfig c) {
        int all = c.latentWorld() ? new io.progrpo.world.latent.SceneWorldScenes().heldOutPrompts().size()
                : new io.progrpo.world.EmbeddedWorld(c.imageSize()).evalPrompts().size();
        int p = c.evalPrompts() == 0 ? all : Math.min(all, c.evalPrompts());
        return p * plan.evalSamplesPerPrompt();
    }

    /** Runs in the whole plan. */
    public int runs() {
        return arms.stream().mapToInt(a -> a.arm().seeds()).sum();
    }

    /** Estimated wall seconds of the whole plan (NaN without a reference). */
    public double totalSeconds() {
        return arms.stream().mapToDouble(a -> a.arm().seeds() * a.secondsPerRun()).sum();
    }

    /** Model GFLOPs of the whole plan. */
    public double totalGflop() {
        return arms.stream().mapToDouble(a -> a.arm().seeds() * a.gflopPerRun()).sum();
    }

    /** A markdown table of the arms and a total line. */
    public String markdown() {
        String baseline = arms.isEmpty() ? StudyPlan.BASELINE : arms.get(0).arm().name();
        StringBuilder s = new StringBuilder("| arm | role | seeds | FLOPs vs " + baseline + " at E | epochs trained | matched-compute epoch | evaluations | GFLOP / run | est. s / run |\n");
        s.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Arm a : arms) {
            s.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2fx | %d | %d | %d | %.1f | %s |%n", a.arm().name(), a.arm().role().key(),
                    a.arm().seeds(), a.ratio(), a.epochsTrained(), a.epochsMatched(), a.evaluations(), a.gflopPerRun(),
                    Double.isNaN(a.secondsPerRun()) ? "–" : String.format(Locale.ROOT, "%.0f", a.secondsPerRun())));
        }
        String time = Double.isNaN(totalSeconds()) ? "no wall-time estimate (" + source + ")"
                : String.format(Locale.ROOT, "estimated wall time %.2f h (scaling %s by FLOPs, plus %.0f s per run)", totalSeconds() / 3600,
                source, RUN_OVERHEAD_SECONDS);
        s.append(String.format(Locale.ROOT, "%nTotal: %d runs, %.0f model GFLOP, %s.%n", runs(), totalGflop(), time));
        return s.toString();
    }
}
