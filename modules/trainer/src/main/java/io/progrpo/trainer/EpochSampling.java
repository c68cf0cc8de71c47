package io.progrpo.trainer;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.reward.RewardFunction;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The SAMPLING phase of an epoch: this rank's prompt groups cut into sampling batches by the {@link GroupSeeding},
 * each batch one run of the {@link ExpandAndPruneDriver} (G_max initial latents per group, sampler steps, previews,
 * proxy rewards and OVF at the checkpoints, the final rewards of the survivors).
 */
final class EpochSampling {
    /** One driver run: its global prompt groups, in order, and the seeds of its generator and of its subset draws. */
    record Batch(int[] groups, long noiseSeed, long subsetSeed) {}

    /** A sampled batch: the driver's result and the conditioning rows of its survivors; closing frees both. */
    record Sampled(Batch batch, ExpandAndPruneDriver.Result result, Tensor survivorCond) implements AutoCloseable {
        @Override
        public void close() {
            try (ExpandAndPruneDriver.Result r = result) {
                survivorCond.close();
            }
        }
    }

    /**
     * The batches of an epoch: EPOCH_STREAM one of all {@code localGroups} from the epoch's streams (seed, epoch, 2)
     * and (seed, epoch, 3); PER_GROUP one per group from that group's streams.
     */
    static List<Batch> batches(GroupSeeding seeding, int[] localGroups, long seed, int epoch) {
        return switch (seeding) {
            case EPOCH_STREAM -> List.of(new Batch(localGroups.clone(), Seeds.mix(seed, epoch, 2), Seeds.mix(seed, epoch, 3)));
            case PER_GROUP -> Arrays.stream(localGroups)
                    .mapToObj(g -> new Batch(new int[] {g}, Seeds.group(seed, epoch, g, 2), Seeds.group(seed, epoch, g, 3)))
                    .toList();
        };
    }

    private final GrpoTrainer.Plan plan;
    private final PromptWorld world;
    private final Module module;
    private final Function<Tensor, VelocityModel> guided;
    private final RewardFunction reward;
    private final Decoder decoder;
    private final Device device;
    private final io.progrpo.sampler.Trajectory.Layout layout;
    /** Hears the steps and prunes of the training batches (not of shadow groups). */
    private io.progrpo.pruning.DriverListener listener = io.progrpo.pruning.DriverListener.NONE;

    /**
     * {@code guided} wraps the policy for an unconditional row (classifier-free guidance, or the policy itself);
     * {@code module}, put in eval mode before each run, may be null (a policy that is no module); {@code layout} is what
     * the training batches' trajectories store (shadow groups, never trained, keep the default).
     */
    EpochSampling(GrpoTrainer.Plan plan, PromptWorld world, Module module, Function<Tensor, VelocityModel> guided,
                  RewardFunction reward, Decoder decoder, Device device, io.progrpo.sampler.Trajectory.Layout layout) {
        this.plan = plan;
        this.layout = layout;
        this.world = world;
        this.module = module;
        this.guided = guided;
        this.reward = reward;
        this.decoder = decoder;
        this.device = device;
    }

    /**
     * Samples every batch, in order, with the epoch's funnel {@code schedule} (the plan's, or the adaptive method's
     * choice) and {@code prompts} (indexed by global group); adds each run's sampling and reward time to the phases.
     * The caller closes what is returned; on a failure nothing stays open.
     */
    List<Sampled> run(PruneSchedule schedule, List<Batch> batches, List<String> prompts, Phases phases) {
        List<Sampled> out = new ArrayList<>(batches.size());
        try {
            for (Batch b : batches) {
                Sampled s = sample(schedule, b, prompts);
                out.add(s);
                phases.add(Phases.SAMPLING, s.result().samplingNanos());
                phases.add(Phases.REWARD, s.result().rewardNanos());
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(Sampled::close);
            throw e;
        }
    }

    /** The sampler of this epoch's driver runs: the plan's, or the epoch's position of a sliding SDE window. */
    private io.progrpo.sampler.Sampler sampler;

    /** Samples this epoch with {@code s} (null: the plan's sampler). */
    void sampler(io.progrpo.sampler.Sampler s) {
        this.sampler = s;
    }

    /** The listener of the training batches' driver runs (null: none). */
    void listener(io.progrpo.pruning.DriverListener l) {
        this.listener = l == null ? io.progrpo.pruning.DriverListener.NONE : l;
    }

    /** One driver run over the batch's groups, G_max rows each (rows group by group). */
    private Sampled sample(PruneSchedule schedule, Batch b, List<String> prompts) {
        List<String> groupPrompts = new ArrayList<>(b.groups().length);
        for (int g : b.groups()) groupPrompts.add(prompts.get(g));
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(schedule, plan.strategy(), decoder,
                new SplittableRandom(b.subsetSeed())).withTrajectoryLayout(layout).withListener(listener);
        return drive(driver, groupPrompts, b.noiseSeed(), (result, cond) -> {
            try {
                return new Sampled(b, result, cond.indexSelect(0, toLongs(result.originalRow())).unscoped());
            } catch (RuntimeException | Error e) {
                result.close();
                throw e;
            }
        });
    }

    /**
     * Shadow groups: G_max rows for each of {@code groupPrompts}, never pruned (the schedule's G_max and T, no
     * checkpoint), the previews of every row scored with the reward after each of {@code previewSteps}; the same
     * noise, conditioning, guidance and driver as the epoch's groups, from the generator seeded with
     * {@code noiseSeed}. Nothing is trained on it; the caller closes the result.
     */
    ExpandAndPruneDriver.Result shadow(List<String> groupPrompts, long noiseSeed, int[] previewSteps) {
        PruneSchedule s = plan.schedule();
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(PruneSchedule.none(s.initialGroupSize(), s.totalSteps()),
                plan.strategy(), decoder, new SplittableRandom(noiseSeed)).recordingPreviews(previewSteps);
        return drive(driver, groupPrompts, noiseSeed, (result, cond) -> result);
    }

    /**
     * One run of {@code driver} over {@code groupPrompts}, G_max rows each, noise from a generator seeded with
     * {@code noiseSeed}; {@code finish} turns the result and the rows' conditioning (closed after it returns) into
     * what is kept.
     */
    private <T> T drive(ExpandAndPruneDriver driver, List<String> groupPrompts, long noiseSeed,
                        BiFunction<ExpandAndPruneDriver.Result, Tensor, T> finish) {
        int gMax = driver.schedule().initialGroupSize();
        int groups = groupPrompts.size();
        try (Generator gen = Generator.create(noiseSeed, device); Scope s = Scope.open()) {
            long[] shape = world.latentShape();
            // initialNoise (DanceGRPO's, or Flow-GRPO's same_latent): one initial noise per prompt group, shared by its rows
            Tensor noise = plan.sharedGroupNoise()
                    ? Tensor.randn(gen, DType.FLOAT32, device, concat(groups, shape)).repeatInterleave(gMax, 0)
                    : Tensor.randn(gen, DType.FLOAT32, device, concat((long) groups * gMax, shape));
            List<String> rowPrompts = new ArrayList<>(groups * gMax);
            for (String p : groupPrompts) for (int i = 0; i < gMax; i++) rowPrompts.add(p);
            Tensor cond = world.conditioning(rowPrompts, device);
            Tensor uncond = world.unconditional(device);
            if (module != null) module.eval();
            ExpandAndPruneDriver.Result result = driver.run(sampler != null ? sampler : plan.sampler(), guided.apply(uncond), groupPrompts, noise, cond,
                    reward, reward, gen);
            return finish.apply(result, cond);
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
}
