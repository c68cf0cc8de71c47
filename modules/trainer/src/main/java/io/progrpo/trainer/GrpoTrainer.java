package io.progrpo.trainer;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.SamplingLoop;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.tensor.optim.AdamW;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One GRPO training run over a policy model. An epoch is one path for one process and for a rank of a data-parallel
 * job (one process is a job of one rank), as the spec's "one epoch, as data" reads:
 * <pre>
 * prompts   the epoch's groupsPerEpoch train prompts; this rank's groups
 * SAMPLING  sampling batches (one of all local groups, or one per group: {@link GroupSeeding}) -> driver runs:
 *           G_max initial latents -> sampler steps -> checkpoints: x0 preview -> decode -> proxy reward -> OVF
 *           -> keep rows -> ... -> final decode
 * REWARD    the survivors' final rewards (timed inside the driver), gathered over ranks in global group order
 *           -> reward statistics -> advantages over the survivors
 * TRAINING  training units -> log-probs recomputed with gradient -> clipped surrogate (+ beta KL) -> gradient sync
 *           -> gradient-norm clip -> AdamW step, every groupsPerStep prompt groups ({@link PolicyUpdate})
 * metrics   one line ({@link EpochMetrics})
 * SHADOW    (pruning methods, every shadowEvery epochs, before SAMPLING) one untrained group of G_max run unpruned:
 *           the previews' within-group agreement with the final rewards ({@link ShadowGroup})
 * SCHEDULE  (pro-grpo-adaptive, before SAMPLING) the shadow group's agreement per step joins the estimate, and the
 *           epoch's funnel is chosen from it ({@link AdaptiveSchedule}, {@link ScheduleChooser})
 * EVAL      (the run's) held-out prompts, deterministic sampler (ODE / DDIM eta=0), mean reward: {@link #evaluate}
 * </pre>
 * Every random stream of an epoch is derived from (seed, epoch) ({@link Seeds}), so a run resumed from a checkpoint
 * draws exactly what an uninterrupted run draws.
 */
public final class GrpoTrainer implements AutoCloseable {
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
     * (seed, epoch, group), never by the rank ({@link GroupSeeding#PER_GROUP}).
     */
    public record DataParallel(int rank, int worldSize, int groupsPerStep, GradientSync gradientSync, RewardGather rewardGather) {
        public DataParallel {
            if (worldSize < 1) throw new IllegalArgumentException("worldSize must be >= 1, got " + worldSize);
            if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("rank must be in [0, " + worldSize + "), got " + rank);
            if (groupsPerStep < 1 || groupsPerStep % worldSize != 0) {
                throw new IllegalArgumentException("groupsPerStep must be a positive multiple of the world size " + worldSize + ", got " + groupsPerStep);
            }
            if (gradientSync == null || rewardGather == null) throw new IllegalArgumentException("gradientSync and rewardGather must not be null");
        }

        /** The size of a data-parallel job: its ranks and the prompt groups per optimizer step over all of them. */
        public record Shape(int worldSize, int groupsPerStep) {}

        /** One process: no gradient to exchange, the gather is the identity (the reference of a multi-rank run). */
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

    /**
     * The numeric settings the loop needs (a view of the trainer config, so this class does not depend on how the
     * config is parsed). {@code shadowEvery}: a shadow group every this many epochs for the pruning methods (0 = never,
     * ignored by the others; {@link ShadowGroup}). {@code promptSeed}: the seed of the epoch prompt draws (the run's
     * {@code seed} unless the config's {@code promptSeed} says otherwise). {@code adamEps}: AdamW's epsilon.
     * {@code samplingRows}: the most rows of one forward without gradient (sampling, evaluation; 0 = the whole batch).
     */
    public record Settings(long seed, int groupsPerEpoch, double guidanceScale, boolean detachUncond, double trainStepFraction,
                           double clipRange, double advClip, GroupAdvantages.StdMode stdMode, double beta, double lr,
                           double beta1, double beta2, double weightDecay, double gradClip, int microBatch,
                           int evalPrompts, Device device, int shadowEvery, GrpoObjective.KlForm klForm,
                           double adaptiveThreshold, double computeBudget, double emaDecay,
                           GrpoObjective.RatioNorm ratioNorm, DType trajectoryDtype, long promptSeed, double adamEps,
                           int samplingRows) {
        /** The settings whose epoch prompts are drawn from {@code seed}, with AdamW's default epsilon (1e-8). */
        public Settings(long seed, int groupsPerEpoch, double guidanceScale, boolean detachUncond, double trainStepFraction,
                        double clipRange, double advClip, GroupAdvantages.StdMode stdMode, double beta, double lr,
                        double beta1, double beta2, double weightDecay, double gradClip, int microBatch,
                        int evalPrompts, Device device, int shadowEvery, GrpoObjective.KlForm klForm,
                        double adaptiveThreshold, double computeBudget, double emaDecay,
                        GrpoObjective.RatioNorm ratioNorm, DType trajectoryDtype) {
            this(seed, groupsPerEpoch, guidanceScale, detachUncond, trainStepFraction, clipRange, advClip, stdMode, beta, lr,
                    beta1, beta2, weightDecay, gradClip, microBatch, evalPrompts, device, shadowEvery, klForm,
                    adaptiveThreshold, computeBudget, emaDecay, ratioNorm, trajectoryDtype, seed, AdamW.Options.DEFAULTS.eps(), 0);
        }

        /** The settings without EMA, with the plain ratio and float32 trajectories. */
        public Settings(long seed, int groupsPerEpoch, double guidanceScale, boolean detachUncond, double trainStepFraction,
                        double clipRange, double advClip, GroupAdvantages.StdMode stdMode, double beta, double lr,
                        double beta1, double beta2, double weightDecay, double gradClip, int microBatch,
                        int evalPrompts, Device device, int shadowEvery, GrpoObjective.KlForm klForm,
                        double adaptiveThreshold, double computeBudget) {
            this(seed, groupsPerEpoch, guidanceScale, detachUncond, trainStepFraction, clipRange, advClip, stdMode, beta, lr,
                    beta1, beta2, weightDecay, gradClip, microBatch, evalPrompts, device, shadowEvery, klForm,
                    adaptiveThreshold, computeBudget, 0.0, GrpoObjective.RatioNorm.NONE, DType.FLOAT32);
        }

        /** The settings with the KL in Flow-GRPO's code form and the adaptive method's defaults (0.75, 1.0). */
        public Settings(long seed, int groupsPerEpoch, double guidanceScale, boolean detachUncond, double trainStepFraction,
                        double clipRange, double advClip, GroupAdvantages.StdMode stdMode, double beta, double lr,
                        double beta1, double beta2, double weightDecay, double gradClip, int microBatch,
                        int evalPrompts, Device device, int shadowEvery) {
            this(seed, groupsPerEpoch, guidanceScale, detachUncond, trainStepFraction, clipRange, advClip, stdMode, beta, lr,
                    beta1, beta2, weightDecay, gradClip, microBatch, evalPrompts, device, shadowEvery, GrpoObjective.KlForm.CODE,
                    0.75, 1.0);
        }

        /** The settings without shadow groups. */
        public Settings(long seed, int groupsPerEpoch, double guidanceScale, boolean detachUncond, double trainStepFraction,
                        double clipRange, double advClip, GroupAdvantages.StdMode stdMode, double beta, double lr,
                        double beta1, double beta2, double weightDecay, double gradClip, int microBatch,
                        int evalPrompts, Device device) {
            this(seed, groupsPerEpoch, guidanceScale, detachUncond, trainStepFraction, clipRange, advClip, stdMode, beta, lr,
                    beta1, beta2, weightDecay, gradClip, microBatch, evalPrompts, device, 0);
        }

        public Settings {
            if (!(adamEps > 0 && Double.isFinite(adamEps))) throw new IllegalArgumentException("adamEps must be finite and > 0, got " + adamEps);
            if (samplingRows < 0) throw new IllegalArgumentException("samplingRows must be >= 0 (0 = the whole batch at once), got " + samplingRows);
            if (klForm == null) throw new IllegalArgumentException("klForm must be CODE or POLICY, got null");
            if (ratioNorm == null) throw new IllegalArgumentException("ratioNorm must be NONE or GRPO_GUARD, got null");
            if (!(emaDecay >= 0 && emaDecay < 1)) throw new IllegalArgumentException("emaDecay must be in [0, 1) (0 = no EMA), got " + emaDecay);
            new io.progrpo.sampler.Trajectory.Layout(false, trajectoryDtype); // checks the dtype
            if (shadowEvery < 0) throw new IllegalArgumentException("shadowEvery must be >= 0 (0 = never), got " + shadowEvery);
            if (groupsPerEpoch < 1) throw new IllegalArgumentException("groupsPerEpoch must be >= 1, got " + groupsPerEpoch);
            if (!(trainStepFraction > 0 && trainStepFraction <= 1)) {
                throw new IllegalArgumentException("trainStepFraction must be in (0, 1], got " + trainStepFraction);
            }
            if (microBatch < 1) throw new IllegalArgumentException("microBatch must be >= 1, got " + microBatch);
            if (!(guidanceScale >= 1)) throw new IllegalArgumentException("guidanceScale must be >= 1 (1 = no guidance), got " + guidanceScale);
        }

        /** The loop's view of a resolved config: the one place a {@link TrainConfig} becomes settings. */
        public static Settings of(TrainConfig c) {
            return new Settings(c.seed(), c.groupsPerEpoch(), c.guidanceScale(), c.detachUncond(), c.trainStepFraction(),
                    c.clipRange(), c.advClip(), c.stdMode().equals("global") ? GroupAdvantages.StdMode.GLOBAL : GroupAdvantages.StdMode.GROUP,
                    c.beta(), c.lr(), c.beta1(), c.beta2(), c.weightDecay(), c.gradClip(), c.microBatch(), c.evalPrompts(),
                    Device.parse(c.device()), c.shadowEvery(), GrpoObjective.KlForm.of(c.klForm()), c.adaptiveThreshold(),
                    c.computeBudget(), c.emaDecay(), GrpoObjective.RatioNorm.of(c.ratioNorm()),
                    io.progrpo.sampler.Trajectory.Layout.of(false, c.trajectoryDtype()).latentDtype(), c.promptDrawSeed(), c.adamEps(),
                    c.samplingRows());
        }

        /**
         * The layout of the survivors' trajectories: the sampling-time means kept only for GRPO-Guard's ratio, the
         * latents in {@code trajectoryDtype}.
         */
        public io.progrpo.sampler.Trajectory.Layout trajectoryLayout() {
            return new io.progrpo.sampler.Trajectory.Layout(ratioNorm == GrpoObjective.RatioNorm.GRPO_GUARD, trajectoryDtype);
        }
    }

    private final Settings cfg;
    private final Plan plan;
    private final Module module;
    private final VelocityModel model;
    private final Module reference;
    private final PromptWorld world;
    private final Decoder decoder;
    private final AdamW optimizer;
    private final Device device;
    private final EpochSampling sampling;
    private final PolicyUpdate update;
    /** The adaptive method's estimate and choice; null for the other methods. */
    private final AdaptiveSchedule adaptive;
    /** The average of the trained parameters ({@code emaDecay > 0}); null without. */
    private final EmaWeights ema;
    private DataParallel parallel;
    private GroupSeeding seeding = GroupSeeding.EPOCH_STREAM;

    public GrpoTrainer(Settings cfg, Plan plan, Module policy, Module reference, PromptWorld world, RewardFunction reward,
                       Decoder decoder) {
        if (!(policy instanceof VelocityModel)) throw new IllegalArgumentException("the policy module must implement VelocityModel");
        if (cfg.beta() > 0 && reference == null) throw new IllegalArgumentException("beta > 0 needs a reference policy");
        this.cfg = cfg;
        this.plan = plan;
        // before anything native is made: a bad adaptive setting leaks nothing
        this.adaptive = plan.method().adaptsSchedule() ? new AdaptiveSchedule(cfg, plan.schedule(),
                PolicyUpdate.trainedStepCount(plan.sampler(), cfg.trainStepFraction(),
                        plan.sampler() instanceof io.progrpo.sampler.SdeWindowSampler w ? w.length() : plan.schedule().totalSteps())) : null;
        this.module = policy;
        this.model = (VelocityModel) policy;
        this.reference = cfg.beta() > 0 ? reference : null;
        if (this.reference != null) this.reference.requiresGrad(false).eval();
        this.world = world;
        this.decoder = cfg.samplingRows() > 0 ? Decoder.rowChunked(decoder, cfg.samplingRows()) : decoder;
        this.device = cfg.device();
        this.optimizer = new AdamW(policy.parameters(), new AdamW.Options(cfg.lr(), cfg.beta1(), cfg.beta2(), cfg.adamEps(), cfg.weightDecay()));
        this.parallel = DataParallel.single(cfg.groupsPerEpoch());
        this.sampling = new EpochSampling(plan, world, module, uncond -> forSampling(guided(model, uncond)), reward, this.decoder, device,
                cfg.trajectoryLayout());
        this.ema = cfg.emaDecay() > 0 ? new EmaWeights(policy, cfg.emaDecay()) : null;
        this.update = new PolicyUpdate(cfg, plan, module, world, optimizer, uncond -> new VelocityModel[] {guided(model, uncond),
                this.reference == null ? null : guided((VelocityModel) this.reference, uncond)}, ema);
    }

    /**
     * Tells {@code l} of every sampler step and prune checkpoint of the epochs' training batches (shadow groups are
     * measurement and stay silent); null: none.
     */
    public void driverListener(io.progrpo.pruning.DriverListener l) {
        sampling.listener(l);
    }

    /** The exponential moving average of the trained parameters, updated after every optimizer step; null without. */
    EmaWeights ema() {
        return ema;
    }

    /**
     * Makes this trainer a rank of a data-parallel job ({@link DataParallel}) with {@link GroupSeeding#PER_GROUP} seeding;
     * null: one process again, one optimizer step per epoch, {@link GroupSeeding#EPOCH_STREAM}. Checks the group split now.
     */
    public void dataParallel(DataParallel dp) {
        if (dp != null) dp.localGroups(cfg.groupsPerEpoch());
        this.parallel = dp != null ? dp : DataParallel.single(cfg.groupsPerEpoch());
        this.seeding = dp != null ? GroupSeeding.PER_GROUP : GroupSeeding.EPOCH_STREAM;
    }

    /** The job this trainer is a rank of: {@code DataParallel.single(groupsPerEpoch)} unless set. */
    public DataParallel dataParallel() {
        return parallel;
    }

    /** Chooses the prompt groups' seeding (after {@link #dataParallel(DataParallel)}, which sets its default; EPOCH_STREAM: one rank). */
    public void groupSeeding(GroupSeeding s) {
        if (s == null) throw new IllegalArgumentException("group seeding must be EPOCH_STREAM or PER_GROUP, got null");
        if (s == GroupSeeding.EPOCH_STREAM && parallel.worldSize() > 1) {
            throw new IllegalArgumentException("EPOCH_STREAM seeding samples every group from one stream and needs one rank, "
                    + "this job has " + parallel.worldSize() + " (use PER_GROUP)");
        }
        this.seeding = s;
    }

    public GroupSeeding groupSeeding() {
        return seeding;
    }

    /** Prompt groups whose gradients one optimizer step averages (every group of the epoch unless set). */
    public int groupsPerStep() {
        return parallel.groupsPerStep();
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

    /** {@code m} for forwards without gradient: in chunks of at most {@code samplingRows} rows (0: the whole batch). */
    private VelocityModel forSampling(VelocityModel m) {
        return cfg.samplingRows() > 0 ? VelocityModel.rowChunked(m, cfg.samplingRows()) : m;
    }

    /**
     * Runs one epoch and returns its metrics (one JSON line's worth). Reward and count metrics cover all ranks,
     * training metrics (loss, kl, ...) are this rank's.
     */
    public Map<String, Object> runEpoch(int epoch, Phases phases) {
        try {
            return epoch(epoch, phases);
        } finally {
            phases.end(); // the last phase of the epoch ends with it (its memory recorded, its listeners told)
        }
    }

    /** The sampler of epoch {@code epoch}: the plan's, at the epoch's position when it is a sliding SDE window. */
    Sampler samplerOf(int epoch) {
        return plan.sampler() instanceof io.progrpo.sampler.SdeWindowSampler w ? w.forEpoch(epoch) : plan.sampler();
    }

    private Map<String, Object> epoch(int epoch, Phases phases) {
        sampling.sampler(samplerOf(epoch));
        // first, so that the epoch's memory peaks and counters do not include it; the policy is the one SAMPLING uses
        ShadowGroup.Sampled shadow = shadowGroup(epoch, phases);
        PruneSchedule schedule = plan.schedule();
        ScheduleChooser.Decision decision = null;
        if (adaptive != null) {
            // this epoch's shadow group joins the estimate before the epoch's funnel is chosen from it
            if (shadowDue(epoch)) adaptive.observe(shadow, parallel.rewardGather());
            decision = adaptive.decide();
            schedule = decision.schedule();
        }
        EpochMetrics metrics = new EpochMetrics(epoch, plan.method(), device);
        if (decision != null) metrics.schedule(decision, adaptive.agreementMetrics(), adaptive.shadowGroups());
        if (shadow != null) {
            // the figures at the checkpoints of the funnel this epoch uses, on the strategy's own draws (seed, epoch, 7)
            metrics.shadow(shadow.measure(schedule, plan.strategy(), new java.util.SplittableRandom(Seeds.mix(cfg.seed(), epoch, 7))),
                    adaptive == null ? null : shadow.curveMetrics());
        }
        List<String> prompts = EpochSampling.epochPrompts(world.trainPrompts(), cfg.groupsPerEpoch(), new Random(Seeds.mix(cfg.promptSeed(), epoch, 1)));
        List<EpochSampling.Batch> batches = EpochSampling.batches(seeding, parallel.localGroups(cfg.groupsPerEpoch()), cfg.seed(), epoch);

        phases.begin(Phases.SAMPLING);
        List<EpochSampling.Sampled> sampled = sampling.run(schedule, batches, prompts, phases);
        try {
            phases.begin(Phases.REWARD);
            EpochRewards rewards = EpochRewards.gather(sampled, parallel.rewardGather(), cfg.groupsPerEpoch(),
                    schedule.initialGroupSize(), cfg.guidanceScale() == 1 ? 1 : 2);
            metrics.rewards(rewards, parallel);

            phases.begin(Phases.TRAINING);
            long t0 = System.nanoTime();
            double[] adv = GroupAdvantages.compute(rewards.scores, rewards.groupOf, cfg.stdMode(), cfg.advClip(), 1e-4);
            List<PolicyUpdate.Unit> units = new ArrayList<>();
            for (EpochSampling.Sampled s : sampled) {
                units.addAll(PolicyUpdate.units(s.result().trajectory(), s.survivorCond(), rewards.batchAdvantages(adv, s.batch()),
                        s.result().groupOf()));
            }
            // one optimizer step per groupsPerStep groups (by default all of the epoch's, as Flow-GRPO accumulates
            // over its batch): under Adam a step from a single group of one prompt is mostly noise (measured: the
            // eval reward fell with per-group steps)
            metrics.training(update.train(units, parallel.localGroupsPerStep(), parallel.gradientSync(), epoch));
            phases.add(Phases.TRAINING, System.nanoTime() - t0);
        } finally {
            sampled.forEach(EpochSampling.Sampled::close);
        }
        return metrics.finish(phases);
    }

    /**
     * The epoch's shadow group ({@link ShadowGroup}) when one is due, on rank 0 only, else null: its previews scored
     * after every step 1..T-1 for the adaptive method, after the schedule's checkpoints for the others. Its random
     * streams are its own: the prompt (a train prompt) from (seed, epoch, 5), the initial and SDE noise from
     * (seed, epoch, 6), so the epoch's own draws, and its training, are those of a run without shadow groups. Timed as
     * its own phase, outside the epoch's sampling, reward and training time.
     */
    private ShadowGroup.Sampled shadowGroup(int epoch, Phases phases) {
        if (!shadowDue(epoch) || parallel.rank() != 0) return null;
        phases.begin(Phases.SHADOW);
        long t0 = System.nanoTime();
        List<String> pool = world.trainPrompts();
        String prompt = pool.get(new Random(Seeds.mix(cfg.seed(), epoch, 5)).nextInt(pool.size()));
        int[] steps = adaptive != null ? adaptive.previewSteps() : plan.schedule().checkpoints();
        try (ExpandAndPruneDriver.Result r = sampling.shadow(List.of(prompt), Seeds.mix(cfg.seed(), epoch, 6), steps)) {
            double[][] proxies = r.previews().stream().map(ExpandAndPruneDriver.Preview::proxy).toArray(double[][]::new);
            long nfe = r.counts().modelForwardRows() * (cfg.guidanceScale() == 1 ? 1 : 2);
            return new ShadowGroup.Sampled(prompt, steps, proxies, r.finalReward().scores(), nfe);
        } finally {
            phases.add(Phases.SHADOW, System.nanoTime() - t0);
        }
    }

    private boolean shadowDue(int epoch) {
        return ShadowGroup.due(plan.method().prunesDuringSampling(), cfg.shadowEvery(), epoch);
    }

    /** The adaptive method's estimate as a checkpoint keeps it; null for the other methods. */
    Map<String, Object> scheduleAgreementState() {
        return adaptive == null ? null : adaptive.state();
    }

    /** Continues the adaptive method's estimate from a checkpoint's state (ignored by the others); a bad state names its field. */
    void restoreScheduleAgreement(com.fasterxml.jackson.databind.JsonNode state) {
        if (adaptive != null) adaptive.restore(state);
    }

    /** Whether this trainer chooses its funnel per epoch (pro-grpo-adaptive). */
    boolean adaptsSchedule() {
        return adaptive != null;
    }

    /** Mean reward of deterministic samples (ODE / DDIM eta = 0) of the held-out prompts, from the run-independent noise seed. */
    public double evaluate(RewardFunction evalReward, int samplesPerPrompt) {
        return evaluate(evalReward, null, samplesPerPrompt).reward();
    }

    /**
     * The evaluation reward's mean and, when {@code heldOut} is not null, its figures, over one set of deterministic
     * samples of the held-out prompts (the first {@code evalPrompts} of them, {@code samplesPerPrompt} each).
     */
    public Evaluation evaluate(RewardFunction evalReward, HeldOutEvaluation heldOut, int samplesPerPrompt) {
        List<String> prompts = world.evalPrompts();
        if (cfg.evalPrompts() > 0 && cfg.evalPrompts() < prompts.size()) prompts = prompts.subList(0, cfg.evalPrompts());
        List<String> rowPrompts = new ArrayList<>();
        for (String p : prompts) for (int i = 0; i < samplesPerPrompt; i++) rowPrompts.add(p);
        try (Tensor images = sample(plan.evalSampler(), rowPrompts, EVAL_NOISE_SEED)) {
            // checked where it enters, as the driver checks the sampling rewards: one finite score per image
            RewardOutput out = evalReward.score(images, rowPrompts);
            if (out == null) throw new IllegalStateException("reward '" + evalReward.name() + "' (evaluation) returned null for "
                    + rowPrompts.size() + " images; expected one finite score per image");
            double mean = EpochMetrics.mean(out.check(evalReward.name(), "evaluation", rowPrompts.size()).scores());
            Map<String, Double> figures = heldOut == null ? Map.of() : heldOut.evaluate(images, List.copyOf(rowPrompts));
            if (figures == null) throw new IllegalStateException("held-out evaluation '" + heldOut.name() + "' returned null");
            return new Evaluation(mean, figures);
        }
    }

    /** The noise seed of every evaluation: the same draws for every method, seed and epoch. */
    public static final long EVAL_NOISE_SEED = 20_251_215L;

    /**
     * One evaluation: the evaluation reward's mean, and the held-out judge's figures (empty without one).
     *
     * @param reward  mean evaluation reward over the samples
     * @param heldOut the {@link HeldOutEvaluation}'s named figures, in its order
     */
    public record Evaluation(double reward, Map<String, Double> heldOut) {
        public Evaluation {
            heldOut = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(heldOut));
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
            Tensor noise = Tensor.randn(gen, DType.FLOAT32, device, EpochSampling.concat(prompts.size(), world.latentShape()));
            Tensor cond = world.conditioning(prompts, device);
            Tensor x0 = SamplingLoop.finalLatents(sampler, forSampling(guided(model, world.unconditional(device))), noise, cond, gen);
            return decoder.decode(x0).unscoped();
        } finally {
            module.train(true);
        }
    }

    @Override
    public void close() {
        optimizer.close();
        if (ema != null) ema.close();
    }
}
