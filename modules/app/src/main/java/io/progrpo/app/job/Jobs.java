package io.progrpo.app.job;

import io.progrpo.sampler.Decoder;
import io.progrpo.trainer.GroupAdvantages;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.Method;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.MultiReward;
import io.progrpo.reward.MultiRewardOutput;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.world.Tokenizer;
import io.progrpo.sampler.BetaSchedule;
import io.progrpo.sampler.DdimSampler;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.Sampler;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.model.BaseModels;
import io.progrpo.world.model.Parameterization;
import io.progrpo.world.model.PretrainOptions;
import io.progrpo.world.model.WorldModel;
import io.progrpo.world.model.WorldModelConfig;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds every part of a training job from a {@link TrainConfig}: the world, the (cached) base model, the method's
 * sampler, schedule and strategy, the reward, and the trainer. One place builds each thing.
 */
public final class Jobs {
    private Jobs() {}

    /** The parts of one job; closing it frees the models and the optimizer. */
    public record Job(TrainConfig config, EmbeddedWorld world, WorldModel policy, WorldModel reference, GrpoTrainer trainer,
                      RewardFunction reward) implements AutoCloseable {
        public TrainingRun run(Path out, Consumer<String> log) {
            return new TrainingRun(config, trainer, reward, out, log).listener(io.progrpo.app.report.ProgressListener.forTerminal());
        }

        @Override
        public void close() {
            trainer.close();
            policy.close();
            if (reference != null) reference.close();
        }
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

    public static PretrainOptions pretrainOptions(TrainConfig c) {
        return PretrainOptions.DEFAULTS.withSteps(c.pretrainSteps()).withWarmupSteps(Math.min(100, Math.max(1, c.pretrainSteps() / 10)));
    }

    /** The base model of the method's kind, pretrained on the train prompts (cached). */
    public static WorldModel baseModel(TrainConfig c, Method m, EmbeddedWorld world, Consumer<String> log) {
        WorldModel base = BaseModels.loadOrPretrain(cacheDir(), modelConfig(c, m), pretrainOptions(c), world.split().train(), log);
        Device d = Device.parse(c.device());
        DType dt = c.modelDtype().equals("bfloat16") ? DType.BFLOAT16 : DType.FLOAT32;
        if (!d.equals(Device.CPU) || dt != DType.FLOAT32) base.to(d, dt);
        return base;
    }

    public static GrpoTrainer.Plan plan(TrainConfig c) {
        Method m = Method.byName(c.method());
        int t = c.samplerSteps();
        Sampler sampler;
        Sampler eval;
        if (m.isDiffusion()) {
            sampler = new DdimSampler(BetaSchedule.stableDiffusion(), t, c.eta());
            eval = new DdimSampler(BetaSchedule.stableDiffusion(), c.evalSteps(), 0.0);
        } else {
            sampler = new FlowSdeSampler(t, c.shift(), c.noiseLevel());
            eval = FlowSdeSampler.ode(c.evalSteps(), c.shift());
        }
        PruneSchedule schedule = switch (m) {
            case FLOW_GRPO, DANCE_GRPO -> PruneSchedule.none(c.groupSize(), t);
            case STATIC_OVF, UNIFORM_SUBSAMPLE -> PruneSchedule.staticOvf(c.groupSize(), c.subsetSize(), t);
            case PRO_GRPO, PRO_GRPO_FLASH -> parseSchedule(c.pruneSchedule(), t);
        };
        SubsetStrategy strategy = SubsetStrategy.byName(m == Method.UNIFORM_SUBSAMPLE ? "uniform" : "ovf");
        return new GrpoTrainer.Plan(m, sampler, eval, schedule, strategy, m == Method.DANCE_GRPO);
    }

    /** A preset name of {@link PruneSchedule}, or a spec "G_max>size@step>size@step..." (e.g. "48>24@5>12@7"). */
    public static PruneSchedule parseSchedule(String spec, int totalSteps) {
        String s = spec.strip();
        if (!s.contains(">")) {
            PruneSchedule p = PruneSchedule.preset(s);
            if (p.totalSteps() != totalSteps) {
                throw new IllegalArgumentException("prune schedule preset '" + s + "' is for " + p.totalSteps()
                        + " steps, but samplerSteps is " + totalSteps + "; write it as a spec such as 48>24@5>12@7");
            }
            return p;
        }
        String[] parts = s.split(">");
        try {
            int g = Integer.parseInt(parts[0].strip());
            int[] sizes = new int[parts.length - 1];
            int[] steps = new int[parts.length - 1];
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].split("@");
                if (kv.length != 2) throw new IllegalArgumentException("expected size@step, got '" + parts[i] + "'");
                sizes[i - 1] = Integer.parseInt(kv[0].strip());
                steps[i - 1] = Integer.parseInt(kv[1].strip());
            }
            return new PruneSchedule(g, steps, sizes, totalSteps, "ovf");
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("pruneSchedule '" + spec + "' is not of the form G_max>size@step>... (e.g. 48>24@5>12@7)", e);
        }
    }

    /** The configured reward (one or several, weighted) as one RewardFunction; group ids follow the prompts. */
    public static RewardFunction reward(TrainConfig c) {
        MultiReward.Aggregation agg = c.rewardAggregation().equals("advantage-sum")
                ? MultiReward.Aggregation.ADVANTAGE_SUM : MultiReward.Aggregation.WEIGHTED_SUM;
        MultiReward multi = MultiReward.parse(c.reward(), agg);
        return new RewardFunction() {
            @Override
            public String name() {
                return multi.describe();
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                // rows of one prompt group share its prompt, and an epoch samples each prompt at most once
                Map<String, Integer> ids = new HashMap<>();
                int[] groups = new int[prompts.size()];
                for (int i = 0; i < groups.length; i++) groups[i] = ids.computeIfAbsent(prompts.get(i), k -> ids.size());
                MultiRewardOutput o = multi.score(images, prompts, groups);
                Map<String, double[]> metrics = new LinkedHashMap<>();
                o.perReward().forEach((k, v) -> metrics.put(k, v.scores()));
                return new RewardOutput(o.scores(), metrics);
            }
        };
    }

    public static GrpoTrainer.Settings settings(TrainConfig c) {
        return new GrpoTrainer.Settings(c.seed(), c.groupsPerEpoch(), c.guidanceScale(), c.detachUncond(), c.trainStepFraction(),
                c.clipRange(), c.advClip(), c.stdMode().equals("global") ? GroupAdvantages.StdMode.GLOBAL : GroupAdvantages.StdMode.GROUP,
                c.beta(), c.lr(), c.beta1(), c.beta2(), c.weightDecay(), c.gradClip(), c.microBatch(), c.evalPrompts(),
                Device.parse(c.device()));
    }

    public static Job build(TrainConfig c, Consumer<String> log) {
        Method m = Method.byName(c.method());
        EmbeddedWorld world = new EmbeddedWorld(c.imageSize());
        GrpoTrainer.Plan plan = plan(c);
        RewardFunction reward = reward(c);
        WorldModel policy = baseModel(c, m, world, log);
        WorldModel reference = c.beta() > 0 ? baseModel(c, m, world, log) : null;
        GrpoTrainer trainer = new GrpoTrainer(settings(c), plan, policy, reference, world, reward, decoder());
        return new Job(c, world, policy, reference, trainer, reward);
    }

    /**
     * The config's description plus the totals only the method's schedule knows: network evaluations per epoch of
     * sampling with pruning, and the previews that replace full chains.
     */
    public static String describe(TrainConfig c) {
        PruneSchedule s = plan(c).schedule();
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
