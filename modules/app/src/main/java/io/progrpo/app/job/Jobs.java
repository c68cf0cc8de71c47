package io.progrpo.app.job;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.reward.MultiReward;
import io.progrpo.reward.RewardFunction;
import io.progrpo.sampler.BetaSchedule;
import io.progrpo.sampler.DdimSampler;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.SamplerRegistry;
import io.progrpo.sampler.SamplerSettings;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.nn.Module;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.HeldOutEvaluation;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.Tokenizer;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.model.BaseModels;
import io.progrpo.world.model.Parameterization;
import io.progrpo.world.model.PretrainOptions;
import io.progrpo.world.model.WorldModel;
import io.progrpo.world.model.WorldModelConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Builds every part of a training job from a {@link TrainConfig}: the world, the (cached) base model, the method's
 * sampler, schedule and strategy, the reward, and the trainer. One place builds each thing.
 */
public final class Jobs {
    private Jobs() {}

    /**
     * The parts of one job; closing it frees the optimizer, the models and what else the job owns (the latent world's
     * models, its learned reward), in reverse order of building.
     *
     * @param heldOut the held-out judge of every evaluation (the latent world's rule-based evaluator), or null
     * @param owned   what closes with the job besides trainer, policy and reference, closed last to first
     */
    public record Job(TrainConfig config, PromptWorld world, Module policy, Module reference, GrpoTrainer trainer,
                      RewardFunction reward, HeldOutEvaluation heldOut, List<AutoCloseable> owned) implements AutoCloseable {
        public Job {
            owned = List.copyOf(owned);
        }

        public TrainingRun run(Path out, Consumer<String> log) {
            return new TrainingRun(config, trainer, reward, out, log).heldOut(heldOut)
                    .listener(io.progrpo.app.report.ProgressListener.forTerminal());
        }

        /** The model-FLOP accounting of this job's epochs: the policy's forward per row, the world's decoder per image. */
        public io.progrpo.app.report.ModelFlops flops() {
            long f;
            if (policy instanceof io.progrpo.world.latent.LatentPolicy lp) {
                f = lp.forwardMacsPerRow();
            } else if (policy instanceof WorldModel wm) {
                f = WorldModel.forwardMacs(wm.config().imageSize(), wm.config().width(), wm.config().tokens());
            } else {
                throw new IllegalStateException("no FLOP count for a policy of " + policy.getClass().getName());
            }
            long d = world instanceof LatentWorld lw ? lw.decoderMacsPerImage() : 0;
            return new io.progrpo.app.report.ModelFlops(f, d, config.guidanceScale() != 1, config.detachUncond());
        }

        /** The world's decoder: the latent world's autoencoder, or the pixel world's clamp to [0, 1]. */
        public Decoder decoder() {
            return world instanceof LatentWorld lw ? lw.decoder() : Jobs.decoder();
        }

        /** The side in pixels of the world's square images. */
        public int imageSize() {
            return world instanceof LatentWorld lw ? lw.scenes().imageSize() : config.imageSize();
        }

        @Override
        public void close() {
            trainer.close();
            if (reference != null) reference.close();
            policy.close();
            closeAll(owned);
        }
    }

    /** Closes each, last first; the first failure is thrown after every one was tried. */
    static void closeAll(List<AutoCloseable> owned) {
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) first = e instanceof RuntimeException r ? r : new IllegalStateException("closing " + owned.get(i) + " failed", e);
            }
        }
        if (first != null) throw first;
    }

    /** Where pretrained base models are cached: -Dprogrpo.cache, $PROGRPO_CACHE, else ~/.cache/progrpo. */
    public static Path cacheDir() {
        String p = System.getProperty("progrpo.cache");
        if (p == null) p = System.getenv("PROGRPO_CACHE");
        if (p != null && !p.isBlank()) return Path.of(p);
        return Path.of(System.getProperty("user.home"), ".cache", "progrpo");
    }

    public static WorldModelConfig modelConfig(TrainConfig c, Method m) {
        return new WorldModelConfig(c.imageSize(), c.modelWidth(), Tokenizer.vocabularySize(), Tokenizer.SEQUENCE_LENGTH,
                m.isDiffusion() ? Parameterization.EPSILON : Parameterization.VELOCITY);
    }

    /** The pretraining of the base model; {@code pretrainSteps} must be >= 1 here (0 skips pretraining). */
    public static PretrainOptions pretrainOptions(TrainConfig c) {
        return PretrainOptions.DEFAULTS.withSteps(c.pretrainSteps()).withWarmupSteps(Math.min(100, Math.max(1, c.pretrainSteps() / 10)));
    }

    /**
     * The base model of the method's kind, pretrained on the train prompts (cached); with {@code pretrainSteps = 0}
     * the freshly initialised model (seeded like pretraining), without pretraining or cache.
     */
    public static WorldModel baseModel(TrainConfig c, Method m, EmbeddedWorld world, Consumer<String> log) {
        WorldModel base;
        if (c.pretrainSteps() == 0) {
            base = new WorldModel(modelConfig(c, m), PretrainOptions.DEFAULTS.seed());
            if (log != null) log.accept("pretrainSteps = 0: training the freshly initialised base model (no pretraining)");
        } else {
            base = BaseModels.loadOrPretrain(cacheDir(), modelConfig(c, m), pretrainOptions(c), world.split().train(), log);
        }
        Device d = Device.parse(c.device());
        DType dt = c.modelDtype().equals("bfloat16") ? DType.BFLOAT16 : DType.FLOAT32;
        if (!d.equals(Device.CPU) || dt != DType.FLOAT32) base.to(d, dt);
        return base;
    }

    /**
     * The method's sampler, evaluation sampler, schedule and subset strategy. Pure Java (nothing native), so
     * {@link JobCheck} builds it too before a job starts.
     */
    public static GrpoTrainer.Plan plan(TrainConfig c) {
        Method m = Method.byName(c.method());
        SubsetStrategy strategy = SubsetStrategy.byName(m == Method.UNIFORM_SUBSAMPLE ? "uniform" : "ovf");
        // the schedule names the strategy its checkpoints use (the uniform subset's single checkpoint at T included)
        PruneSchedule schedule = c.samplingSchedule();
        if (schedule.checkpoints().length > 0 && !schedule.strategy().equals(strategy.name())) schedule = schedule.withStrategy(strategy.name());
        return new GrpoTrainer.Plan(m, trainSampler(c), evalSampler(c), schedule, strategy, c.sharedInitialNoise());
    }

    /**
     * The config's optimizer steps per epoch on a single-process trainer: groupsPerEpoch / optimizerStepsPerEpoch groups
     * per AdamW step (a data-parallel job or the study sets its own shape afterwards).
     */
    public static GrpoTrainer optimizerSteps(GrpoTrainer trainer, TrainConfig c) {
        if (c.optimizerStepsPerEpoch() > 1) {
            trainer.dataParallel(GrpoTrainer.DataParallel.single(c.groupsPerEpoch() / c.optimizerStepsPerEpoch()));
        }
        return trainer;
    }

    /** The diffusion methods' beta schedule (Stable Diffusion 1.x, 1000 training timesteps). */
    static BetaSchedule betaSchedule() {
        return BetaSchedule.stableDiffusion();
    }

    /**
     * The stochastic sampler of training: with {@code sampler = default}, DDIM-eta for diffusion methods and the flow
     * SDE otherwise; else the named provider's ({@link SamplerRegistry}, plug-ins of {@link Plugins#active()} included).
     */
    static Sampler trainSampler(TrainConfig c) {
        Sampler s;
        if (!c.sampler().equals(TrainConfig.METHOD_SAMPLER)) {
            s = SamplerRegistry.trainSampler(c.sampler(), samplerSettings(c), Plugins.active().loader());
        } else {
            s = Method.byName(c.method()).isDiffusion()
                    ? new DdimSampler(betaSchedule(), c.samplerSteps(), c.eta())
                    : new FlowSdeSampler(c.samplerSteps(), c.shift(), c.noiseLevel());
        }
        int[] window = c.sdeWindowParts();
        if (window == null) return s;
        if (!(s instanceof FlowSdeSampler flow)) {
            throw new IllegalArgumentException("sdeWindow=" + c.sdeWindow() + " needs a flow sampler of progrpo's (flow-sde, dance-sde, "
                    + "cps), whose Euler ODE it takes outside the window; sampler '" + c.sampler() + "' is " + s.getClass().getName());
        }
        return new io.progrpo.sampler.SdeWindowSampler(flow, window[0], window[1], window[2]);
    }

    /** The deterministic sampler of evaluation: DDIM eta = 0 or the flow ODE, else the named provider's. */
    static Sampler evalSampler(TrainConfig c) {
        if (!c.sampler().equals(TrainConfig.METHOD_SAMPLER)) {
            return SamplerRegistry.evalSampler(c.sampler(), samplerSettings(c), Plugins.active().loader());
        }
        return Method.byName(c.method()).isDiffusion()
                ? new DdimSampler(betaSchedule(), c.evalSteps(), 0.0)
                : FlowSdeSampler.ode(c.evalSteps(), c.shift());
    }

    /** What a {@link io.progrpo.sampler.SamplerProvider} builds the job's samplers from. */
    public static SamplerSettings samplerSettings(TrainConfig c) {
        return new SamplerSettings(c.samplerSteps(), c.evalSteps(), c.shift(), c.noiseLevel(), c.eta(), prediction(c), betaSchedule());
    }

    /** What the method's model predicts: epsilon for the diffusion methods, a velocity otherwise. */
    public static SamplerSettings.Prediction prediction(TrainConfig c) {
        return Method.byName(c.method()).isDiffusion() ? SamplerSettings.Prediction.EPSILON : SamplerSettings.Prediction.VELOCITY;
    }

    /**
     * The configured reward (one or several, weighted; plug-ins of {@link Plugins#active()} included): a {@link
     * MultiReward}, itself a RewardFunction. The
     * expand-and-prune driver calls it with its group ids ({@code RewardFunction.score(images, prompts, groupIds)}).
     */
    public static MultiReward reward(TrainConfig c) {
        return MultiReward.parse(c.reward(), aggregation(c), Plugins.active().loader());
    }

    /** The config's {@code rewardAggregation} as the reward module's enum. */
    static MultiReward.Aggregation aggregation(TrainConfig c) {
        return c.rewardAggregation().equals("advantage-sum") ? MultiReward.Aggregation.ADVANTAGE_SUM : MultiReward.Aggregation.WEIGHTED_SUM;
    }

    /**
     * Builds the job after {@link JobCheck#embeddedJob}: a value the job cannot take is a {@link
     * io.progrpo.trainer.config.ConfigException} before anything is built.
     */
    public static Job build(TrainConfig c, Consumer<String> log) {
        JobCheck.embeddedJob(c, false);
        if (c.latentWorld()) return LatentJobs.build(c, log);
        Method m = Method.byName(c.method());
        EmbeddedWorld world = new EmbeddedWorld(c.imageSize());
        GrpoTrainer.Plan plan = plan(c);
        RewardFunction reward = reward(c);
        WorldModel policy = baseModel(c, m, world, log);
        WorldModel reference = null;
        try {
            reference = c.beta() > 0 ? baseModel(c, m, world, log) : null;
            GrpoTrainer trainer = optimizerSteps(new GrpoTrainer(GrpoTrainer.Settings.of(c), plan, policy, reference, world, reward, decoder()), c);
            return new Job(c, world, policy, reference, trainer, reward, null, List.of());
        } catch (RuntimeException | Error e) {
            // what was built so far is freed here, not left to the leak safety net
            policy.close();
            if (reference != null) reference.close();
            throw e;
        }
    }

    /**
     * The config's description plus the totals only the method's schedule knows: network evaluations per epoch of
     * sampling with pruning, and the previews that replace full chains.
     */
    public static String describe(TrainConfig c) {
        PruneSchedule s = c.samplingSchedule();
        int cfgFactor = c.guidanceScale() == 1 ? 1 : 2;
        return c.describe().stripTrailing() + String.format(java.util.Locale.ROOT,
                "%n  sampling NFE / epoch (this schedule) %,d%n  schedule                             %s%n",
                s.nfe() * c.groupsPerEpoch() * cfgFactor, s.describe());
    }

    /** The decoder of the embedded world: pixel-space latents, images in [0, 1]. */
    public static Decoder decoder() {
        return x -> x.clamp(0, 1);
    }
}
