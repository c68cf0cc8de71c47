package io.progrpo.trainer;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.Trajectory;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.tensor.optim.AdamW;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * One GRPO training run over a policy model: the epoch loop with its visible phases, as the spec's "one epoch, as
 * data" reads:
 * <pre>
 * SAMPLING  prompts -> conditioning -> G_max initial latents -> sampler steps over the active rows
 *           -> checkpoints: x0 preview -> decode -> proxy reward -> OVF -> keep rows -> ... -> final decode
 * REWARD    final rewards of the survivors (timed separately inside the driver)
 * TRAINING  advantages over the survivors -> log-probs recomputed with gradient -> clipped surrogate (+ beta KL)
 *           -> gradient-norm clip -> AdamW step (one per prompt group)
 * EVAL      held-out prompts, deterministic sampler (ODE / DDIM eta=0), mean reward
 * </pre>
 * Every random stream of an epoch is derived from (seed, epoch), so a run resumed from a checkpoint draws exactly what
 * an uninterrupted run draws.
 */
public final class GrpoTrainer implements AutoCloseable {
    /** Conditioning and prompts of the world the policy is trained in. */
    public interface PromptWorld {
        List<String> trainPrompts();

        List<String> evalPrompts();

        /** Conditioning rows for the prompts, e.g. token ids [N, L] int64. */
        Tensor conditioning(List<String> prompts, Device device);

        /** The unconditional conditioning row [1, ...] for classifier-free guidance. */
        Tensor unconditional(Device device);

        /** Latent shape of one sample, e.g. {3, 16, 16}. */
        long[] latentShape();
    }

    /** The method's parts: sampler, schedule and subset strategy. */
    public record Plan(Method method, Sampler sampler, Sampler evalSampler, PruneSchedule schedule, SubsetStrategy strategy,
                       boolean sharedGroupNoise) {}

    /**
     * Synchronizes gradients across data-parallel ranks before each optimizer step (Flow-GRPO's all-reduce). It
     * receives the number of this rank's prompt groups that contributed a gradient since the last step and returns
     * the number over all ranks; when that is 0 every rank skips the step, as one process skips an empty group.
     */
    @FunctionalInterface
    public interface GradientSync {
        int sync(List<Tensor> parameters, int contributingGroups);
    }

    /** Gathers a vector from every rank, in rank order (global reward statistics, counters). */
    @FunctionalInterface
    public interface RewardGather {
        List<double[]> gather(double[] local);
    }

    /**
     * Data parallelism as Flow-GRPO does it, with whole prompt groups per rank. Each optimizer step averages the
     * gradients of {@code groupsPerStep} prompt groups over all ranks, each rank computing {@code groupsPerStep /
     * worldSize} of them, so the updates do not depend on the world size: a run on any number of ranks that divides
     * groupsPerStep (one included) trains the same parameters, up to float rounding. Every group's noise is seeded by
     * (seed, epoch, group), never by the rank.
     */
    public record DataParallel(int rank, int worldSize, int groupsPerStep, GradientSync gradientSync, RewardGather rewardGather) {
        public DataParallel {
            if (worldSize < 1) throw new IllegalArgumentException("worldSize must be >= 1, got " + worldSize);
            if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("rank must be in [0, " + worldSize + "), got " + rank);
            if (groupsPerStep < 1 || groupsPerStep % worldSize != 0) {
                throw new IllegalArgumentException("groupsPerStep must be a positive multiple of the world size " + worldSize + ", got " + groupsPerStep);
            }
        }

        /** The size of a data-parallel job: its ranks and the prompt groups per optimizer step over all of them. */
        public record Shape(int worldSize, int groupsPerStep) {}

        /** One process with the data-parallel group seeding and step grouping (the reference of a multi-rank run). */
        public static DataParallel single(int groupsPerStep) {
            return new DataParallel(0, 1, groupsPerStep, (params, n) -> n, v -> List.of(v));
        }

        public int localGroupsPerStep() {
            return groupsPerStep / worldSize;
        }

        /** This rank's global group indices: within step s, the block rank * local .. (rank + 1) * local - 1. */
        public int[] localGroups(int groupsPerEpoch) {
            if (groupsPerEpoch % groupsPerStep != 0) {
                throw new IllegalArgumentException("groupsPerEpoch must be a multiple of groupsPerStep " + groupsPerStep + ", got " + groupsPerEpoch);
            }
            int local = localGroupsPerStep();
            int[] out = new int[groupsPerEpoch / worldSize];
            int k = 0;
            for (int step = 0; step < groupsPerEpoch / groupsPerStep; step++) {
                for (int j = 0; j < local; j++) out[k++] = step * groupsPerStep + rank * local + j;
            }
            return out;
        }
    }

    private DataParallel dataParallel;

    private final Settings cfg;
    private final Plan plan;
    private final Module module;
    private final VelocityModel model;
    private final Module reference;
    private final PromptWorld world;
    private final RewardFunction reward;
    private final ExpandAndPruneDriver.Decoder decoder;
    private final AdamW optimizer;
    private final GrpoObjective objective;
    private final Device device;

    /**
     * The numeric settings the loop needs (a view of the trainer config, so this class does not depend on how the
     * config is parsed).
     */
    public record Settings(long seed, int groupsPerEpoch, double guidanceScale, boolean detachUncond, double trainStepFraction,
                           double clipRange, double advClip, GroupAdvantages.StdMode stdMode, double beta, double lr,
                           double beta1, double beta2, double weightDecay, double gradClip, int microBatch,
                           int evalPrompts, Device device) {
        public Settings {
            if (groupsPerEpoch < 1) throw new IllegalArgumentException("groupsPerEpoch must be >= 1, got " + groupsPerEpoch);
            if (!(trainStepFraction > 0 && trainStepFraction <= 1)) {
                throw new IllegalArgumentException("trainStepFraction must be in (0, 1], got " + trainStepFraction);
            }
            if (microBatch < 1) throw new IllegalArgumentException("microBatch must be >= 1, got " + microBatch);
            if (!(guidanceScale >= 1)) throw new IllegalArgumentException("guidanceScale must be >= 1 (1 = no guidance), got " + guidanceScale);
        }
    }

    public GrpoTrainer(Settings cfg, Plan plan, Module policy, Module reference, PromptWorld world, RewardFunction reward,
                       ExpandAndPruneDriver.Decoder decoder) {
        if (!(policy instanceof VelocityModel)) throw new IllegalArgumentException("the policy module must implement VelocityModel");
        if (cfg.beta() > 0 && reference == null) throw new IllegalArgumentException("beta > 0 needs a reference policy");
        this.cfg = cfg;
        this.plan = plan;
        this.module = policy;
        this.model = (VelocityModel) policy;
        this.reference = cfg.beta() > 0 ? reference : null;
        if (this.reference != null) this.reference.requiresGrad(false).eval();
        this.world = world;
        this.reward = reward;
        this.decoder = decoder;
        this.device = cfg.device();
        this.objective = new GrpoObjective(cfg.clipRange(), cfg.beta());
        this.optimizer = new AdamW(policy.parameters(), new AdamW.Options(cfg.lr(), cfg.beta1(), cfg.beta2(), 1e-8, cfg.weightDecay()));
    }

    /**
     * Switches to data-parallel epochs (see {@link DataParallel}); null switches back. Checks now that the epoch's
     * groups split into whole steps.
     */
    public void dataParallel(DataParallel dp) {
        if (dp != null) dp.localGroups(cfg.groupsPerEpoch());
        this.dataParallel = dp;
    }

    /**
     * Prompt groups whose gradients one optimizer step averages: the data-parallel setting, else every group of the
     * epoch (one step per epoch).
     */
    public int groupsPerStep() {
        return dataParallel != null ? dataParallel.groupsPerStep() : cfg.groupsPerEpoch();
    }

    public DataParallel dataParallel() {
        return dataParallel;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public Module policy() {
        return module;
    }

    public Plan plan() {
        return plan;
    }

    private VelocityModel guided(VelocityModel m, Tensor uncond) {
        return cfg.guidanceScale() == 1 ? m : new ClassifierFreeGuidance(m, cfg.guidanceScale(), uncond, cfg.detachUncond());
    }

    static long mix(long seed, long epoch, long stream) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + stream * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Runs one epoch and returns its metrics (one JSON line's worth). */
    public Map<String, Object> runEpoch(int epoch, Phases phases) {
        if (dataParallel != null) return runEpochDataParallel(epoch, phases, dataParallel);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("method", plan.method().configName());
        Random rng = new Random(mix(cfg.seed(), epoch, 1));
        List<String> pool = world.trainPrompts();
        List<String> prompts = new ArrayList<>();
        prompts.addAll(epochPrompts(pool, cfg.groupsPerEpoch(), rng));
        int gMax = plan.schedule().initialGroupSize();
        int rows = prompts.size() * gMax;
        MemoryLedger.resetPeaks();
        long bytesBefore = MemoryLedger.bytes(device);

        // ---- SAMPLING (and the REWARD calls it makes, timed apart) ------------------------------------------------
        phases.begin("SAMPLING");
        ExpandAndPruneDriver.Result result;
        Tensor condSurvivors;
        try (Generator gen = Generator.create(mix(cfg.seed(), epoch, 2), device);
             Scope s = Scope.open()) {
            long[] shape = world.latentShape();
            Tensor noise;
            if (plan.sharedGroupNoise()) {
                long[] gshape = concat(prompts.size(), shape);
                noise = Tensor.randn(gen, DType.FLOAT32, device, gshape).repeatInterleave(gMax, 0);
            } else {
                noise = Tensor.randn(gen, DType.FLOAT32, device, concat(rows, shape));
            }
            List<String> rowPrompts = new ArrayList<>(rows);
            for (String p : prompts) for (int i = 0; i < gMax; i++) rowPrompts.add(p);
            Tensor cond = world.conditioning(rowPrompts, device);
            Tensor uncond = world.unconditional(device);
            module.eval();
            ExpandAndPruneDriver driver = new ExpandAndPruneDriver(plan.schedule(), plan.strategy(), decoder,
                    new SplittableRandom(mix(cfg.seed(), epoch, 3)));
            result = driver.run(plan.sampler(), guided(model, uncond), prompts, noise, cond, reward, reward, gen);
            condSurvivors = cond.indexSelect(0, toLongs(result.originalRow())).unscoped();
        }
        phases.add("SAMPLING", result.samplingNanos());
        phases.add("REWARD", result.rewardNanos());
        try (result; condSurvivors) {
            double[] r = result.finalReward().scores();
            int[] groupOf = result.groupOf();
            putRewardStats(m, r, groupOf);
            result.finalReward().metrics().forEach((k, v) -> {
                if (v.length == r.length) {
                    m.put("reward_" + k + "_mean", mean(v));
                    m.put("reward_" + k + "_std", std(v));
                }
            });
            List<Map<String, Object>> cps = new ArrayList<>();
            for (int i = 0; i < result.checkpoints().size(); i++) {
                var c = result.checkpoints().get(i);
                Map<String, Object> cm = new LinkedHashMap<>();
                cm.put("step", c.step());
                cm.put("size_before", c.sizeBefore());
                cm.put("size_after", c.sizeAfter());
                cm.put("within_group_std_before", c.withinGroupStdBefore());
                cm.put("within_group_std_after", c.withinGroupStdAfter());
                double corr = result.proxyFinalCorrelation()[i];
                cm.put("proxy_final_correlation", Double.isNaN(corr) ? null : corr);
                cps.add(cm);
            }
            m.put("checkpoints", cps);
            m.put("trajectories_sampled", rows);
            m.put("trajectories_trained", r.length);
            // model evaluations per row: classifier-free guidance evaluates the network twice
            m.put("nfe_sampling", result.counts().modelForwardRows() * (cfg.guidanceScale() == 1 ? 1 : 2));
            m.put("previews", result.counts().previews());
            m.put("reward_calls", result.counts().rewardCalls());
            m.put("rewarded_images", result.counts().rewardedImages());
            m.put("trajectory_bytes", result.trajectory().bytes());

            // ---- TRAINING ----------------------------------------------------------------------------------------
            phases.begin("TRAINING");
            long t0 = System.nanoTime();
            double[] adv = GroupAdvantages.compute(r, groupOf, cfg.stdMode(), cfg.advClip(), 1e-4);
            // one optimizer step per epoch, accumulated over every prompt group (as Flow-GRPO accumulates over its
            // batch): under Adam a step from a single group of one prompt is mostly noise (measured: the eval reward
            // fell with per-group steps)
            List<Unit> us = units(result.trajectory(), condSurvivors, adv, groupOf);
            Map<String, Object> train = train(us, Math.max(1, us.size()), null, epoch);
            m.putAll(train);
            phases.add("TRAINING", System.nanoTime() - t0);
        }
        putMemory(m, bytesBefore);
        return m;
    }

    /** The final rewards' mean and std, the within-group std (the clustering signal) and the zero-std group fraction. */
    private static void putRewardStats(Map<String, Object> m, double[] r, int[] groupOf) {
        m.put("reward_mean", mean(r));
        m.put("reward_std", std(r));
        m.put("within_group_std", GroupAdvantages.withinGroupStd(r, groupOf));
        m.put("zero_std_group_fraction", GroupAdvantages.zeroStdGroupFraction(r, groupOf));
    }

    /** Peak memory of the epoch: the ledger's Java-side peak and, on CUDA, the caching allocator's peaks. */
    private void putMemory(Map<String, Object> m, long bytesBefore) {
        m.put("peak_bytes", MemoryLedger.peakBytes(device));
        m.put("bytes_before_epoch", bytesBefore);
        if (device.isCuda()) {
            var st = MemoryLedger.cudaStats(device.index());
            m.put("cuda_allocated_peak", st.allocatedPeak());
            m.put("cuda_reserved_peak", st.reservedPeak());
        }
    }

    /** One prompt group's training rows: its trajectory (possibly shared with other groups) and the rows to train. */
    private record Unit(Trajectory traj, Tensor cond, double[] adv, List<Integer> rows, int skipped) {}

    /** The groups of one trajectory as training units, in group order (rows with zero advantage skipped). */
    private static List<Unit> units(Trajectory traj, Tensor cond, double[] adv, int[] groupOf) {
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

    /**
     * The TRAINING phase over prompt groups: gradients accumulate over {@code unitsPerStep} consecutive groups (each
     * group's loss is its mean over rows and steps, divided by unitsPerStep), then {@code sync} (null: none), the
     * gradient-norm clip and one AdamW step. A step in which no group had a row to train is skipped.
     */
    private Map<String, Object> train(List<Unit> units, int unitsPerStep, GradientSync sync, int epoch) {
        module.train(true);
        int stored = units.isEmpty() ? 0 : units.get(0).traj().stepsStored();
        // the spec's default trains the first T - 1 steps (Flow-GRPO's timestep fraction); a fraction f trains
        // floor(f (T - 1)), the same count TrainConfig.derivedTotals() prints
        int nTrain = Math.max(1, (int) Math.floor(cfg.trainStepFraction() * Math.max(1, stored - 1) + 1e-9));
        List<Integer> steps = new ArrayList<>();
        for (int k = 0; k < stored; k++) steps.add(k);
        if (plan.sharedGroupNoise() && nTrain < stored) {
            // DanceGRPO trains on a random subset of the timesteps
            java.util.Collections.shuffle(steps, new Random(mix(cfg.seed(), epoch, 4)));
        }
        steps = new ArrayList<>(steps.subList(0, Math.min(nTrain, steps.size())));
        steps.sort(null);
        double lossSum = 0;
        double klSum = 0;
        double clipSum = 0;
        double ratioSum = 0;
        double gradNormSum = 0;
        int parts = 0;
        int optimizerSteps = 0;
        long nfeTrain = 0;
        int skipped = 0;
        int trainedRows = 0;
        int contributing = 0;
        int inStep = 0;
        try (Tensor uncond = world.unconditional(device).unscoped()) {
            VelocityModel policy = guided(model, uncond);
            VelocityModel ref = reference == null ? null : guided((VelocityModel) reference, uncond);
            optimizer.zeroGrad();
            for (int u = 0; u < units.size(); u++) {
                Unit unit = units.get(u);
                List<Integer> rows = unit.rows();
                Trajectory traj = unit.traj();
                skipped += unit.skipped();
                trainedRows += rows.size();
                if (!rows.isEmpty()) {
                    contributing++;
                    double denom = (double) rows.size() * steps.size();
                    // Micro-batches over the group's (trained step, row) pairs, step-major: one forward evaluates
                    // rows of several steps (the model takes a time per row), so the number of forwards follows the
                    // pairs, not steps x ceil(rows / microBatch). Each pair still weighs 1 / denom / unitsPerStep:
                    // the group's loss is its mean over rows and trained steps, whatever the batching.
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
                            }
                            Tensor x = xs.size() == 1 ? xs.get(0) : Tensor.cat(xs, 0);
                            Tensor xn = xns.size() == 1 ? xns.get(0) : Tensor.cat(xns, 0);
                            Tensor old = olds.size() == 1 ? olds.get(0) : Tensor.cat(olds, 0);
                            Tensor c = unit.cond().indexSelect(0, rowOf);
                            Tensor at = Tensor.of(a, a.length).to(device);
                            LogProbResult lp = plan.sampler().logProb(policy, x, xn, c, stepIndex);
                            nfeTrain += n;
                            Tensor refMean = null;
                            if (ref != null) {
                                try (var ng = Autograd.noGrad()) {
                                    refMean = plan.sampler().logProb(ref, x, xn, c, stepIndex).mean();
                                }
                                nfeTrain += n;
                            }
                            try (GrpoObjective.Parts p = objective.loss(lp.logProb(), old, at, lp.mean(), refMean, lp.std())) {
                                Tensor scaled = p.loss().mul(n / denom / unitsPerStep);
                                scaled.backward();
                                lossSum += p.policyLoss() + cfg.beta() * p.kl();
                                klSum += p.kl();
                                clipSum += p.clipFraction();
                                ratioSum += p.meanRatio();
                                parts++;
                            }
                        }
                    }
                }
                if (++inStep == unitsPerStep || u == units.size() - 1) {
                    int global = sync == null ? contributing : sync.sync(module.parameters(), contributing);
                    if (global > 0) {
                        gradNormSum += Autograd.clipGradNorm(module.parameters(), cfg.gradClip());
                        optimizer.step();
                        optimizerSteps++;
                    }
                    optimizer.zeroGrad();
                    contributing = 0;
                    inStep = 0;
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trained_steps", steps.size());
        m.put("trained_rows", trainedRows);
        m.put("skipped_zero_advantage", skipped);
        m.put("optimizer_steps", optimizerSteps);
        m.put("loss", parts == 0 ? 0 : lossSum / parts);
        m.put("kl", parts == 0 ? 0 : klSum / parts);
        m.put("clip_fraction", parts == 0 ? 0 : clipSum / parts);
        m.put("ratio_mean", parts == 0 ? 1 : ratioSum / parts);
        m.put("grad_norm", optimizerSteps == 0 ? 0 : gradNormSum / optimizerSteps);
        m.put("nfe_training", nfeTrain * (cfg.guidanceScale() == 1 ? 1 : 2));
        return m;
    }

    /** The seed of one prompt group's random stream: the same on every rank and for every world size. */
    static long groupSeed(long seed, int epoch, int group, long stream) {
        return mix(mix(seed, epoch, stream), group, 7);
    }

    /**
     * A data-parallel epoch: this rank samples its own whole prompt groups (each from its group-seeded noise), the
     * final rewards of all ranks are gathered so advantages and reward statistics are global, then training steps
     * over groupsPerStep groups with the gradients synchronized before each step. Training metrics (loss, kl, ...)
     * are this rank's; reward and count metrics cover all ranks.
     */
    private Map<String, Object> runEpochDataParallel(int epoch, Phases phases, DataParallel dp) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("method", plan.method().configName());
        Random rng = new Random(mix(cfg.seed(), epoch, 1));
        List<String> pool = world.trainPrompts();
        List<String> prompts = new ArrayList<>();
        prompts.addAll(epochPrompts(pool, cfg.groupsPerEpoch(), rng));
        int[] mine = dp.localGroups(cfg.groupsPerEpoch());
        int gMax = plan.schedule().initialGroupSize();
        MemoryLedger.resetPeaks();
        long bytesBefore = MemoryLedger.bytes(device);
        List<ExpandAndPruneDriver.Result> results = new ArrayList<>();
        List<Tensor> conds = new ArrayList<>();
        try {
            phases.begin("SAMPLING");
            long[] shape = world.latentShape();
            double[] counts = new double[7];
            for (int g : mine) {
                String prompt = prompts.get(g);
                ExpandAndPruneDriver.Result result;
                try (Generator gen = Generator.create(groupSeed(cfg.seed(), epoch, g, 2), device); Scope s = Scope.open()) {
                    Tensor noise = plan.sharedGroupNoise()
                            ? Tensor.randn(gen, DType.FLOAT32, device, concat(1, shape)).repeatInterleave(gMax, 0)
                            : Tensor.randn(gen, DType.FLOAT32, device, concat(gMax, shape));
                    List<String> rowPrompts = java.util.Collections.nCopies(gMax, prompt);
                    Tensor cond = world.conditioning(rowPrompts, device);
                    Tensor uncond = world.unconditional(device);
                    module.eval();
                    ExpandAndPruneDriver driver = new ExpandAndPruneDriver(plan.schedule(), plan.strategy(), decoder,
                            new SplittableRandom(groupSeed(cfg.seed(), epoch, g, 3)));
                    result = driver.run(plan.sampler(), guided(model, uncond), List.of(prompt), noise, cond, reward, reward, gen);
                    results.add(result);
                    conds.add(cond.indexSelect(0, toLongs(result.originalRow())).unscoped());
                }
                phases.add("SAMPLING", result.samplingNanos());
                phases.add("REWARD", result.rewardNanos());
                counts[0] += gMax;
                counts[1] += result.finalReward().scores().length;
                counts[2] += result.counts().modelForwardRows() * (cfg.guidanceScale() == 1 ? 1 : 2);
                counts[3] += result.counts().previews();
                counts[4] += result.counts().rewardCalls();
                counts[5] += result.counts().rewardedImages();
                counts[6] += result.trajectory().bytes();
            }

            // ---- global reward statistics: every rank's final rewards, in global group order -----------------------
            // layout: [n, (group, length) x n, rewards of those groups in order]
            double[] local = new double[1 + mine.length * 2 + results.stream().mapToInt(x -> x.finalReward().scores().length).sum()];
            int at = 0;
            local[at++] = mine.length;
            for (int i = 0; i < mine.length; i++) {
                local[at++] = mine[i];
                local[at++] = results.get(i).finalReward().scores().length;
            }
            for (var x : results) for (double v : x.finalReward().scores()) local[at++] = v;
            double[][] byGroup = new double[cfg.groupsPerEpoch()][];
            for (double[] part : dp.rewardGather().gather(local)) {
                int n = (int) part[0];
                int off = 1 + 2 * n;
                for (int i = 0; i < n; i++) {
                    int g = (int) part[1 + 2 * i];
                    int len = (int) part[2 + 2 * i];
                    byGroup[g] = Arrays.copyOfRange(part, off, off + len);
                    off += len;
                }
            }
            List<Double> flat = new ArrayList<>();
            List<Integer> flatGroup = new ArrayList<>();
            for (int g = 0; g < byGroup.length; g++) {
                if (byGroup[g] == null) throw new IllegalStateException("no rank reported rewards for prompt group " + g);
                for (double v : byGroup[g]) {
                    flat.add(v);
                    flatGroup.add(g);
                }
            }
            double[] r = flat.stream().mapToDouble(Double::doubleValue).toArray();
            int[] groupOf = flatGroup.stream().mapToInt(Integer::intValue).toArray();
            putRewardStats(m, r, groupOf);
            double[] globalCounts = new double[counts.length];
            for (double[] c : dp.rewardGather().gather(counts)) for (int i = 0; i < c.length; i++) globalCounts[i] += c[i];
            m.put("trajectories_sampled", (long) globalCounts[0]);
            m.put("trajectories_trained", (long) globalCounts[1]);
            m.put("nfe_sampling", (long) globalCounts[2]);
            m.put("previews", (long) globalCounts[3]);
            m.put("reward_calls", (long) globalCounts[4]);
            m.put("rewarded_images", (long) globalCounts[5]);
            m.put("trajectory_bytes", (long) globalCounts[6]);
            m.put("world_size", dp.worldSize());
            m.put("groups_per_step", dp.groupsPerStep());

            // ---- TRAINING: advantages over all ranks' groups, then this rank's groups --------------------------------
            phases.begin("TRAINING");
            long t0 = System.nanoTime();
            double[] adv = GroupAdvantages.compute(r, groupOf, cfg.stdMode(), cfg.advClip(), 1e-4);
            int[] start = new int[byGroup.length + 1];
            for (int g = 0; g < byGroup.length; g++) start[g + 1] = start[g] + byGroup[g].length;
            List<Unit> units = new ArrayList<>();
            for (int i = 0; i < mine.length; i++) {
                int g = mine[i];
                double[] a = Arrays.copyOfRange(adv, start[g], start[g + 1]);
                int[] zeros = new int[a.length];
                units.addAll(units(results.get(i).trajectory(), conds.get(i), a, zeros));
            }
            m.putAll(train(units, dp.localGroupsPerStep(), dp.gradientSync(), epoch));
            phases.add("TRAINING", System.nanoTime() - t0);
        } finally {
            results.forEach(ExpandAndPruneDriver.Result::close);
            conds.forEach(Tensor::close);
        }
        putMemory(m, bytesBefore);
        return m;
    }

    /**
     * Mean reward of deterministic samples (ODE / DDIM eta = 0) for the held-out prompts, from a fixed noise seed that
     * does not depend on the run's seed, so methods and seeds are compared on the same draws.
     */
    public double evaluate(RewardFunction evalReward, int samplesPerPrompt) {
        List<String> prompts = world.evalPrompts();
        if (cfg.evalPrompts() > 0 && cfg.evalPrompts() < prompts.size()) prompts = prompts.subList(0, cfg.evalPrompts());
        List<String> rowPrompts = new ArrayList<>();
        for (String p : prompts) for (int i = 0; i < samplesPerPrompt; i++) rowPrompts.add(p);
        try (Tensor images = sample(plan.evalSampler(), rowPrompts, 20_251_215L)) {
            // checked where it enters, as the driver checks the sampling rewards: one finite score per image
            RewardOutput out = evalReward.score(images, rowPrompts);
            if (out == null) throw new IllegalStateException("reward '" + evalReward.name() + "' (evaluation) returned null for "
                    + rowPrompts.size() + " images; expected one finite score per image");
            return mean(out.check(evalReward.name(), "evaluation", rowPrompts.size()).scores());
        }
    }

    /** Decoded deterministic samples for the prompts (for figures); the caller owns the result. */
    public Tensor samples(List<String> prompts, long noiseSeed) {
        return sample(plan.evalSampler(), prompts, noiseSeed);
    }

    /** Decoded samples from the training (stochastic) sampler, as a training group sees them; the caller owns them. */
    public Tensor samplesSde(List<String> prompts, long noiseSeed) {
        return sample(plan.sampler(), prompts, noiseSeed);
    }

    /** A full chain of {@code sampler} from seeded noise, in eval mode without gradient; decoded images, caller-owned. */
    private Tensor sample(Sampler sampler, List<String> prompts, long noiseSeed) {
        module.eval();
        try (var ng = Autograd.noGrad(); Scope s = Scope.open(); Generator gen = Generator.create(noiseSeed, device)) {
            Tensor x = Tensor.randn(gen, DType.FLOAT32, device, concat(prompts.size(), world.latentShape()));
            Tensor cond = world.conditioning(prompts, device);
            VelocityModel policy = guided(model, world.unconditional(device));
            for (int i = 0; i < sampler.steps(); i++) {
                StepOutput out = sampler.step(policy, x, cond, i, gen);
                Tensor next = out.next();
                for (Tensor t : new Tensor[] {out.mean(), out.std(), out.logProb(), out.x0Preview(), out.modelOutput()}) {
                    if (t != null && t != next) t.close();
                }
                x.close();
                x = next;
            }
            return decoder.decode(x).unscoped();
        } finally {
            module.train(true);
        }
    }

    /**
     * The prompts of an epoch's groups: distinct while the pool lasts (a prompt appears in one group of an epoch, so
     * per-prompt statistics are per-group statistics), drawn again only when more groups than prompts are asked for.
     */
    static List<String> epochPrompts(List<String> pool, int groups, Random rng) {
        List<String> out = new ArrayList<>(groups);
        List<String> bag = new ArrayList<>();
        while (out.size() < groups) {
            if (bag.isEmpty()) {
                bag.addAll(pool);
                java.util.Collections.shuffle(bag, rng);
            }
            out.add(bag.remove(bag.size() - 1));
        }
        return out;
    }

    static long[] concat(long first, long[] rest) {
        long[] r = new long[rest.length + 1];
        r[0] = first;
        System.arraycopy(rest, 0, r, 1, rest.length);
        return r;
    }

    static long[] toLongs(int[] v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) r[i] = v[i];
        return r;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    static double std(double[] v) {
        double mu = mean(v);
        double s = 0;
        for (double x : v) s += (x - mu) * (x - mu);
        return v.length == 0 ? Double.NaN : Math.sqrt(s / v.length);
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
