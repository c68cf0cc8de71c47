package io.progrpo.trainer;

import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.Trajectory;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.tensor.optim.AdamW;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * The TRAINING phase: over the stored transitions of the survivors, log-probs recomputed with gradient in
 * micro-batches, the clipped surrogate (+ beta KL against the frozen reference), gradients accumulated over
 * {@code groupsPerStep} prompt groups, the gradient sync of a data-parallel job, the gradient-norm clip and one AdamW
 * step.
 */
final class PolicyUpdate {
    /** One prompt group's training rows: its trajectory (possibly shared with other groups) and the rows to train. */
    record Unit(Trajectory traj, Tensor cond, double[] adv, List<Integer> rows, int skipped) {}

    /** What the phase did, for the metrics (means over micro-batches and optimizer steps). */
    record Stats(int trainedSteps, int trainedRows, int skippedZeroAdvantage, int optimizerSteps, double loss, double kl,
                 double clipFraction, double ratioMean, double gradNorm, long nfeTraining) {}

    private final GrpoTrainer.Settings cfg;
    private final GrpoTrainer.Plan plan;
    private final Module module;
    private final PromptWorld world;
    private final AdamW optimizer;
    private final GrpoObjective objective;
    private final Function<Tensor, VelocityModel[]> guided;
    private final Device device;
    /** Updated after every optimizer step; null without EMA. */
    private final EmaWeights ema;

    /**
     * @param guided for an unconditional row, the guided policy and the guided reference (null without a reference)
     * @param ema    the parameter average to update after each optimizer step, or null
     */
    PolicyUpdate(GrpoTrainer.Settings cfg, GrpoTrainer.Plan plan, Module module, PromptWorld world, AdamW optimizer,
                 Function<Tensor, VelocityModel[]> guided, EmaWeights ema) {
        this.ema = ema;
        this.cfg = cfg;
        this.plan = plan;
        this.module = module;
        this.world = world;
        this.optimizer = optimizer;
        this.objective = new GrpoObjective(cfg.clipRange(), cfg.beta());
        this.guided = guided;
        this.device = cfg.device();
    }

    /**
     * The groups of one sampled batch as training units, in the batch's group order (rows with zero advantage
     * skipped). {@code adv} and {@code groupOf} are per row of the batch, groups numbered from 0 within it.
     */
    static List<Unit> units(Trajectory traj, Tensor cond, double[] adv, int[] groupOf) {
        boolean[] mask = GroupAdvantages.trainMask(adv);
        int groups = Arrays.stream(groupOf).max().orElse(-1) + 1;
        List<Unit> out = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            List<Integer> rows = new ArrayList<>();
            int skipped = 0;
            for (int i = 0; i < groupOf.length; i++) if (groupOf[i] == g && mask[i]) rows.add(i);
            for (int i = 0; i < groupOf.length; i++) if (groupOf[i] == g && !mask[i]) skipped++;
            out.add(new Unit(traj, cond, adv, rows, skipped));
        }
        return out;
    }

    /** The number of stored steps trained of a trajectory of {@code stored} steps: max(1, floor(f (stored - 1))). */
    static int trainedStepCount(double fraction, int stored) {
        return Math.max(1, (int) Math.floor(fraction * Math.max(1, stored - 1) + 1e-9));
    }

    /**
     * The number of steps a trajectory of {@code sampler} trains: every step of an SDE window (only they are stored),
     * else max(1, floor(f (stored - 1))).
     */
    static int trainedStepCount(io.progrpo.sampler.Sampler sampler, double fraction, int stored) {
        return sampler instanceof io.progrpo.sampler.SdeWindowSampler ? stored : trainedStepCount(fraction, stored);
    }

    /**
     * The stored steps trained this epoch: the first floor(f (T - 1)), or for DanceGRPO a random subset of that size;
     * with an SDE window, all of the window's (the only steps stored).
     */
    private List<Integer> trainedSteps(io.progrpo.sampler.Sampler sampler, int stored, int epoch) {
        // the spec's default trains the first T - 1 steps (Flow-GRPO's timestep fraction); a fraction f trains
        // floor(f (T - 1)), the same count TrainConfig.derivedTotals() prints
        int nTrain = trainedStepCount(sampler, cfg.trainStepFraction(), stored);
        List<Integer> steps = new ArrayList<>();
        for (int k = 0; k < stored; k++) steps.add(k);
        if (plan.method().isDiffusion() && nTrain < stored) {
            // DanceGRPO trains on a random subset of the timesteps
            java.util.Collections.shuffle(steps, new Random(Seeds.mix(cfg.seed(), epoch, 4)));
        }
        steps = new ArrayList<>(steps.subList(0, Math.min(nTrain, steps.size())));
        steps.sort(null);
        return steps;
    }

    /**
     * Trains over prompt groups: gradients accumulate over {@code unitsPerStep} consecutive groups (each group's loss
     * is its mean over rows and steps, divided by unitsPerStep), then {@code sync}, the gradient-norm clip and one
     * AdamW step. A step in which no group of any rank had a row to train is skipped.
     */
    Stats train(List<Unit> units, int unitsPerStep, GrpoTrainer.GradientSync sync, int epoch) {
        module.train(true);
        List<Integer> steps = units.isEmpty() ? List.of()
                : trainedSteps(units.get(0).traj().sampler(), units.get(0).traj().stepsStored(), epoch);
        Sums sums = new Sums();
        int optimizerSteps = 0;
        int skipped = 0;
        int trainedRows = 0;
        int contributing = 0;
        int inStep = 0;
        double gradNormSum = 0;
        try (Tensor uncond = world.unconditional(device).unscoped()) {
            VelocityModel[] m = guided.apply(uncond);
            optimizer.zeroGrad();
            for (int u = 0; u < units.size(); u++) {
                Unit unit = units.get(u);
                skipped += unit.skipped();
                trainedRows += unit.rows().size();
                if (!unit.rows().isEmpty()) {
                    contributing++;
                    backwardGroup(unit, steps, unitsPerStep, m[0], m[1], sums);
                }
                if (++inStep == unitsPerStep || u == units.size() - 1) {
                    int global = sync.sync(module.parameters(), contributing);
                    if (global > 0) {
                        TrainerEvents.OptimizerStep ev = new TrainerEvents.OptimizerStep();
                        ev.begin();
                        double norm = Autograd.clipGradNorm(module.parameters(), cfg.gradClip());
                        gradNormSum += norm;
                        optimizer.step();
                        if (ema != null) ema.update();
                        optimizerSteps++;
                        if (ev.isEnabled()) {
                            ev.epoch = epoch;
                            ev.step = optimizerSteps;
                            ev.gradNorm = norm;
                            ev.groups = global;
                            ev.ledgerBytes = io.progrpo.tensor.jfr.TensorEvents.ledgerBytes();
                            ev.commit();
                        }
                    }
                    optimizer.zeroGrad();
                    contributing = 0;
                    inStep = 0;
                }
            }
        }
        int parts = sums.parts;
        return new Stats(steps.size(), trainedRows, skipped, optimizerSteps,
                parts == 0 ? 0 : sums.loss / parts, parts == 0 ? 0 : sums.kl / parts, parts == 0 ? 0 : sums.clip / parts,
                parts == 0 ? 1 : sums.ratio / parts, optimizerSteps == 0 ? 0 : gradNormSum / optimizerSteps,
                sums.nfe * (cfg.guidanceScale() == 1 ? 1 : 2));
    }

    /** Running sums over the micro-batches of the phase. */
    private static final class Sums {
        double loss;
        double kl;
        double clip;
        double ratio;
        int parts;
        long nfe;
    }

    /**
     * Accumulates one group's gradient. Micro-batches over the group's (trained step, row) pairs, step-major: one
     * forward evaluates rows of several steps (the model takes a time per row), so the number of forwards follows the
     * pairs, not steps x ceil(rows / microBatch). Each pair still weighs 1 / denom / unitsPerStep: the group's loss is
     * its mean over rows and trained steps, whatever the batching.
     */
    private void backwardGroup(Unit unit, List<Integer> steps, int unitsPerStep, VelocityModel policy, VelocityModel ref, Sums sums) {
        List<Integer> rows = unit.rows();
        Trajectory traj = unit.traj();
        boolean guard = cfg.ratioNorm() == GrpoObjective.RatioNorm.GRPO_GUARD;
        if (guard && !traj.layout().storeMeans()) {
            throw new IllegalStateException("ratioNorm=grpo-guard needs the sampling-time policy means, and this trajectory was "
                    + "stored without them (Trajectory.Layout.storeMeans false); sample with Settings.trajectoryLayout()");
        }
        double denom = (double) rows.size() * steps.size();
        int pairs = rows.size() * steps.size();
        for (int from = 0; from < pairs; from += cfg.microBatch()) {
            int n = Math.min(pairs, from + cfg.microBatch()) - from;
            long[] rowOf = new long[n];
            int[] stepIndex = new int[n];
            float[] a = new float[n];
            try (Scope s = Scope.open()) {
                List<Tensor> xs = new ArrayList<>();
                List<Tensor> xns = new ArrayList<>();
                List<Tensor> olds = new ArrayList<>();
                List<Tensor> oldMeans = guard ? new ArrayList<>() : null;
                for (int j = 0; j < n; ) {
                    // one run of pairs of the same stored step k
                    int k = steps.get((from + j) / rows.size());
                    int runStart = j;
                    while (j < n && steps.get((from + j) / rows.size()) == k) {
                        int row = rows.get((from + j) % rows.size());
                        rowOf[j] = row;
                        stepIndex[j] = traj.stepIndex(k);
                        a[j] = (float) unit.adv()[row];
                        j++;
                    }
                    long[] idx = Arrays.copyOfRange(rowOf, runStart, j);
                    xs.add(traj.latents(k).indexSelect(0, idx));
                    xns.add(traj.nextLatents(k).indexSelect(0, idx));
                    olds.add(traj.logProb(k).indexSelect(0, idx));
                    if (guard) oldMeans.add(traj.mean(k).indexSelect(0, idx));
                }
                // lean trajectories store the latents in float16 / bfloat16: the log-probs are recomputed in float32
                Tensor x = widen(xs.size() == 1 ? xs.get(0) : Tensor.cat(xs, 0));
                Tensor xn = widen(xns.size() == 1 ? xns.get(0) : Tensor.cat(xns, 0));
                Tensor old = olds.size() == 1 ? olds.get(0) : Tensor.cat(olds, 0);
                Tensor c = unit.cond().indexSelect(0, rowOf);
                Tensor at = Tensor.of(a, a.length).to(device);
                // the trajectory's own sampler: the epoch's (a sliding SDE window moves per epoch)
                LogProbResult lp = traj.sampler().logProb(policy, x, xn, c, stepIndex);
                sums.nfe += n;
                Tensor refMean = null;
                if (ref != null) {
                    try (var ng = Autograd.noGrad()) {
                        refMean = traj.sampler().logProb(ref, x, xn, c, stepIndex).mean();
                    }
                    sums.nfe += n;
                }
                Tensor klStd = refMean == null ? null : klDivisor(traj.sampler(), lp.std(), stepIndex);
                try (GrpoObjective.Parts p = guard
                        ? objective.lossOfLogRatio(GrpoObjective.guardLogRatio(lp.logProb(), old, lp.mean(),
                                oldMeans.size() == 1 ? oldMeans.get(0) : Tensor.cat(oldMeans, 0), lp.std()), at, lp.mean(), refMean, klStd)
                        : objective.loss(lp.logProb(), old, at, lp.mean(), refMean, klStd)) {
                    Tensor scaled = p.loss().mul(n / denom / unitsPerStep);
                    scaled.backward();
                    sums.loss += p.policyLoss() + cfg.beta() * p.kl();
                    sums.kl += p.kl();
                    sums.clip += p.clipFraction();
                    sums.ratio += p.meanRatio();
                    sums.parts++;
                }
            }
        }
    }

    /** {@code t} in float32: itself when it is, else a widened copy (lean trajectories). */
    private static Tensor widen(Tensor t) {
        return t.dtype() == io.progrpo.tensor.DType.FLOAT32 ? t : t.to(io.progrpo.tensor.DType.FLOAT32);
    }

    /**
     * The KL term's divisor per row: the sampler's {@code klStd} of each row's step in Flow-GRPO's code form (where the
     * sampler has one), else the policy std s_t of the log-prob.
     */
    private Tensor klDivisor(io.progrpo.sampler.Sampler sampler, Tensor policyStd, int[] stepIndex) {
        if (cfg.klForm() == GrpoObjective.KlForm.POLICY) return policyStd;
        float[] d = new float[stepIndex.length];
        for (int i = 0; i < d.length; i++) {
            double v = sampler.klStd(stepIndex[i]);
            if (Double.isNaN(v)) return policyStd;
            d[i] = (float) v;
        }
        return Tensor.of(d, d.length).to(policyStd.device());
    }
}
