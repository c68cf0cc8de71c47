package io.progrpo.pruning;

import io.progrpo.reward.Correlation;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.SamplingLoop;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.Trajectory;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jfr.TensorEvents;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Pro-GRPO's expand-and-prune sampling (spec section 5). Starts every prompt group with G_max trajectories and, at
 * each checkpoint of the {@link PruneSchedule} (number of steps already taken):
 * <ol>
 *   <li>takes the one-step preview of the clean sample from that step's own model output (no extra forward),</li>
 *   <li>decodes it ({@link Decoder}: identity for pixel-space models) and scores it with the proxy reward,</li>
 *   <li>keeps, per group, the subset chosen by the {@link SubsetStrategy} (OVF: the maximum-variance subset),</li>
 *   <li>stops the other trajectories at once: no further steps, no final reward, and their stored transitions are
 *       released immediately ({@link Trajectory#keepRows(int[])}).</li>
 * </ol>
 * Survivors run to the end and get the final reward. A checkpoint at step T is static pruning: the "preview" is the
 * final sample, scored once with the final reward. A schedule without checkpoints is plain GRPO sampling.
 *
 * <p>{@link #recordingPreviews} adds preview-only steps: there every active row's preview is decoded and scored with
 * the proxy reward and recorded ({@link Result#previews()}), and nothing is pruned. A schedule without checkpoints
 * that records previews is a shadow group: every trajectory runs to the end, so each preview can be compared with the
 * final reward of the same trajectory.
 *
 * <p>The steps are {@link SamplingLoop}'s, the one sampling loop; the checkpoints are its step hook. Every reward
 * call, proxy and final, receives the group of each image ({@link RewardFunction#score(Tensor, List, int[])}); the
 * within-group std before and after a checkpoint is {@link GroupAdvantages#withinGroupStd} with
 * {@link GroupAdvantages.Centring#PLAIN} centring, what this driver computed before the statistics were merged.
 *
 * <p>Rows are laid out group by group: rows {@code g*G_max .. (g+1)*G_max-1} of {@code noise} and {@code cond} belong to
 * prompt group g. The driver runs under {@link Autograd#noGrad()}; it owns nothing it returns except the
 * {@link Result}, which the caller closes.
 */
public final class ExpandAndPruneDriver {
    /** What happened at one checkpoint. */
    public record CheckpointStats(int step, int sizeBefore, int sizeAfter, double withinGroupStdBefore,
                                  double withinGroupStdAfter, double[] survivorProxyRewards) {}

    /**
     * The proxy rewards of a preview-only step ({@link #recordingPreviews}): {@code proxy[r]} of original row r, NaN for
     * a row pruned before this step.
     */
    public record Preview(int step, double[] proxy) {}

    /** Counters of one run. */
    public record Counts(long modelForwardRows, long modelCalls, long previews, long rewardCalls, long rewardedImages) {}

    /**
     * The outcome: the survivors' trajectory (rows in group order), their group ids and original row ids, their
     * final rewards and images, the per-checkpoint statistics, the proxy reward of each final survivor at each
     * checkpoint ({@code survivorProxy[checkpoint][survivor]}, what {@code proxyFinalCorrelation} correlates with the
     * final reward; pooled over the run's groups, so it mixes prompt difficulty into preview quality), the proxy
     * rewards at the preview-only steps ({@link #recordingPreviews}, in step order), the counters and the wall time of
     * the phases.
     */
    public record Result(Trajectory trajectory, int[] groupOf, int[] originalRow, RewardOutput finalReward,
                         Tensor finalImages, List<CheckpointStats> checkpoints, double[] proxyFinalCorrelation,
                         double[][] survivorProxy, List<Preview> previews, Counts counts, long samplingNanos,
                         long rewardNanos) implements AutoCloseable {
        @Override
        public void close() {
            trajectory.close();
            finalImages.close();
        }
    }

    private final PruneSchedule schedule;
    private final SubsetStrategy strategy;
    private final Decoder decoder;
    private final RandomGenerator rng;
    private final int[] previewSteps;
    private final DriverListener listener;
    private final Trajectory.Layout layout;

    /**
     * A driver that keeps, at each checkpoint, the subset chosen by the strategy the schedule names
     * ({@link PruneSchedule#strategy()}, looked up with {@link SubsetStrategy#byName}).
     */
    public ExpandAndPruneDriver(PruneSchedule schedule, Decoder decoder, RandomGenerator rng) {
        this(schedule, schedule == null ? null : SubsetStrategy.byName(schedule.strategy()), decoder, rng);
    }

    /**
     * A driver with an explicit subset strategy: a built-in one must be the one the schedule names (a schedule that says
     * {@code ovf} never runs {@code uniform}: use {@link PruneSchedule#withStrategy} to change it), and a user's own
     * strategy (a name that is not built in) replaces the schedule's at its checkpoints.
     *
     * @throws IllegalArgumentException when a pruning schedule names another built-in strategy than {@code strategy}
     */
    public ExpandAndPruneDriver(PruneSchedule schedule, SubsetStrategy strategy, Decoder decoder, RandomGenerator rng) {
        this(schedule, strategy, decoder, rng, new int[0], DriverListener.NONE, Trajectory.Layout.TRAINING);
    }

    private ExpandAndPruneDriver(PruneSchedule schedule, SubsetStrategy strategy, Decoder decoder, RandomGenerator rng,
                                 int[] previewSteps, DriverListener listener, Trajectory.Layout layout) {
        if (schedule == null || strategy == null || decoder == null || rng == null) {
            throw new IllegalArgumentException("schedule, strategy, decoder and rng must not be null");
        }
        if (schedule.checkpoints().length > 0 && SubsetStrategy.names().contains(strategy.name())
                && !strategy.name().equals(schedule.strategy())) {
            throw new IllegalArgumentException("the prune schedule " + schedule.describe() + " names subset strategy '" + schedule.strategy()
                    + "', the driver was given '" + strategy.name() + "'; pass schedule.withStrategy(\"" + strategy.name()
                    + "\") to prune with it, or the constructor without a strategy to use the schedule's");
        }
        this.schedule = schedule;
        this.strategy = strategy;
        this.decoder = decoder;
        this.rng = rng;
        this.previewSteps = previewSteps;
        this.listener = listener == null ? DriverListener.NONE : listener;
        if (layout == null) throw new IllegalArgumentException("trajectory layout must not be null (Trajectory.Layout.TRAINING by default)");
        this.layout = layout;
    }

    /**
     * This driver, also scoring and recording the previews of every active row after {@code steps} (numbers of steps
     * taken, strictly increasing, each in [1, T]) without pruning there; at a step that is also a checkpoint the
     * checkpoint's own proxy rewards (before its prune) are recorded, with no second reward call. The preview after
     * step T is that step's x0 prediction, not the final sample.
     *
     * @throws IllegalArgumentException naming the step that is out of order or out of [1, T]
     */
    public ExpandAndPruneDriver recordingPreviews(int... steps) {
        if (steps == null) throw new IllegalArgumentException("preview steps must be an array (empty for none), got null");
        for (int i = 0; i < steps.length; i++) {
            if (steps[i] < 1 || steps[i] > schedule.totalSteps() || i > 0 && steps[i] <= steps[i - 1]) {
                throw new IllegalArgumentException("preview steps must be strictly increasing numbers of steps taken in [1, "
                        + schedule.totalSteps() + "], got " + steps[i] + " at index " + i + " of " + Arrays.toString(steps));
            }
        }
        return new ExpandAndPruneDriver(schedule, strategy, decoder, rng, steps.clone(), listener, layout);
    }

    /** This driver, telling {@code l} of every step and prune of its runs (null: none). */
    public ExpandAndPruneDriver withListener(DriverListener l) {
        return new ExpandAndPruneDriver(schedule, strategy, decoder, rng, previewSteps, l, layout);
    }

    /**
     * This driver, storing the survivors' trajectories in {@code layout}: {@link Trajectory.Layout#TRAINING} by default
     * (no sampling-time means, float32 latents); with means for an objective that needs them (GRPO-Guard's ratio), in
     * float16 or bfloat16 for lean trajectories.
     */
    public ExpandAndPruneDriver withTrajectoryLayout(Trajectory.Layout layout) {
        return new ExpandAndPruneDriver(schedule, strategy, decoder, rng, previewSteps, listener, layout);
    }

    /** The layout of the trajectories this driver's runs return. */
    public Trajectory.Layout trajectoryLayout() {
        return layout;
    }

    public PruneSchedule schedule() {
        return schedule;
    }

    /** The subset strategy this driver prunes with at the checkpoints. */
    public SubsetStrategy strategy() {
        return strategy;
    }

    /** The schedule in words with the strategy actually used, e.g. {@code 48 -> 24 @5 -> 12 @7 of 10 steps (ovf)}. */
    public String describe() {
        String d = schedule.describe();
        String named = "(" + schedule.strategy() + ")";
        return d.endsWith(named) && !strategy.name().equals(schedule.strategy())
                ? d.substring(0, d.length() - named.length()) + "(" + strategy.name() + ", the caller's own strategy)" : d;
    }

    /**
     * Samples {@code groupPrompts.size()} groups of G_max rows each and prunes them on the schedule. The steps are
     * {@link SamplingLoop}'s; the checkpoints are its step hook ({@link Pass}). Every reward call gets the group of
     * each image (its index in {@code groupPrompts}).
     *
     * @param noise  initial latents [groups * G_max, ...] (borrowed)
     * @param cond   conditioning rows [groups * G_max, ...] (may be null; borrowed)
     * @param proxy  reward for the previews at checkpoints
     * @param reward final reward of the survivors (often the same function)
     */
    public Result run(Sampler sampler, VelocityModel model, List<String> groupPrompts, Tensor noise, Tensor cond,
                      RewardFunction proxy, RewardFunction reward, Generator gen) {
        int groups = groupPrompts.size();
        int gMax = schedule.initialGroupSize();
        if (groups < 1) throw new IllegalArgumentException("need at least one prompt group");
        if (noise.size(0) != (long) groups * gMax) {
            throw new IllegalArgumentException("noise has " + noise.size(0) + " rows, expected groups x G_max = " + groups + " x " + gMax);
        }
        if (cond != null && cond.size(0) != noise.size(0)) {
            throw new IllegalArgumentException("cond has " + cond.size(0) + " rows, noise has " + noise.size(0));
        }
        if (sampler.steps() != schedule.totalSteps()) {
            throw new IllegalArgumentException("the prune schedule is for " + schedule.totalSteps() + " steps, the sampler takes " + sampler.steps());
        }
        CountingModel counted = new CountingModel(model);
        Pass pass = new Pass(sampler.steps(), groupPrompts, gMax, proxy, reward);
        pass.samplerName = sampler.getClass().getName();
        long start = System.nanoTime();
        Trajectory traj = null;
        // every tensor made here is closed on every exception path (a throwing model, decoder, reward or strategy):
        // the loop closes the trajectory it was building, this method what the checkpoints made, so nothing reaches
        // the leak safety net
        try (var ng = Autograd.noGrad()) {
            // the layout (by default no sampling-time means: GRPO recomputes them with gradient) decides what is stored
            // the active rows' conditioning is the driver's own from the start, so each prune replaces and frees it
            if (cond != null) pass.ownedCond = cond.clone_().unscoped();
            // A copy of the noise, freed after the first step. It is not needed (the trajectory copies the latents it
            // stores), but the recorded golden metrics (EpochGoldenTest: peak_bytes, bit for bit) include it: dropping
            // it lowers pro-grpo's peak by one latent batch, so drop it together with re-recording those lines.
            pass.noiseCopy = noise.clone_().unscoped();
            traj = SamplingLoop.run(sampler, counted, pass.noiseCopy, pass.ownedCond, gen, SamplingLoop.Storage.TRAINING, pass, layout);
            if (pass.finalOut == null) pass.scoreFinal(traj.finalLatents());
            long samplingNanos = System.nanoTime() - start - pass.rewardNanos;
            // correlation between each checkpoint's proxy reward and the final reward, over the final survivors
            double[] corr = new double[pass.proxyByRow.size()];
            double[][] survivorProxy = new double[pass.proxyByRow.size()][];
            for (int k = 0; k < corr.length; k++) {
                double[] p = new double[pass.original.length];
                for (int i = 0; i < pass.original.length; i++) p[i] = pass.proxyByRow.get(k)[pass.original[i]];
                survivorProxy[k] = p;
                corr[k] = Correlation.pearson(p, pass.finalOut.scores());
            }
            return new Result(traj, pass.groupOf, pass.original, pass.finalOut, pass.finalImages, pass.stats, corr,
                    survivorProxy, List.copyOf(pass.previewsTaken), new Counts(counted.rows, counted.calls, pass.previews, pass.rewardCalls, pass.rewardedImages),
                    samplingNanos, pass.rewardNanos);
        } catch (Throwable e) {
            if (traj != null) traj.close();
            if (pass.finalImages != null) pass.finalImages.close();
            throw e;
        } finally {
            if (pass.noiseCopy != null) pass.noiseCopy.close();
            if (pass.ownedCond != null) pass.ownedCond.close();
        }
    }

    /**
     * One run's checkpoints, as the sampling loop's step hook: after a checkpoint step, the step's own x0 preview (the
     * final sample at T) is decoded, scored and pruned per group; the pruned rows leave the trajectory and the
     * conditioning at once. Holds the run's bookkeeping: the rows' groups and original indices, the statistics, the
     * counters and the conditioning of the survivors, which it owns once it has pruned.
     */
    private final class Pass implements SamplingLoop.StepHook {
        final int steps;
        final List<String> groupPrompts;
        final int rowsAtStart;
        final RewardFunction proxy;
        final RewardFunction reward;
        final int[] checkpoints = schedule.checkpoints();
        final int[] survivors = schedule.survivors();
        final List<CheckpointStats> stats = new ArrayList<>();
        final List<double[]> proxyByRow = new ArrayList<>();
        final List<Preview> previewsTaken = new ArrayList<>();
        int[] groupOf;
        int[] original;
        int next;
        int nextPreview;
        long previews;
        long rewardCalls;
        long rewardedImages;
        long rewardNanos;
        String samplerName;
        Tensor noiseCopy;
        Tensor ownedCond;
        RewardOutput finalOut;
        Tensor finalImages;

        Pass(int steps, List<String> groupPrompts, int gMax, RewardFunction proxy, RewardFunction reward) {
            this.steps = steps;
            this.groupPrompts = groupPrompts;
            this.rowsAtStart = groupPrompts.size() * gMax;
            this.proxy = proxy;
            this.reward = reward;
            groupOf = new int[rowsAtStart];
            original = new int[rowsAtStart];
            for (int i = 0; i < rowsAtStart; i++) {
                groupOf[i] = i / gMax;
                original[i] = i;
            }
        }

        @Override
        public Tensor afterStep(int step, StepOutput out, Trajectory traj, Tensor cond) {
            if (step == 0) noiseCopy.close(); // the chain has moved on (the loop reads the trajectory's latents next)
            int taken = step + 1;
            boolean record = nextPreview < previewSteps.length && previewSteps[nextPreview] == taken;
            if (record) nextPreview++;
            listener.stepTaken(taken, steps, groupOf.length);
            if (next >= checkpoints.length || checkpoints[next] != taken) {
                if (record) recordPreview(taken, out);
                return cond;
            }
            // preview of the clean sample from this step's own output; at T it is the final sample itself
            long t0 = System.nanoTime();
            boolean finalStep = taken == steps;
            RewardFunction scorer = finalStep ? reward : proxy;
            String phase = finalStep ? "final, after step " + taken + " of " + steps : "proxy at step " + taken + " of " + steps;
            Tensor keptCond = cond;
            try (Tensor images = decode(finalStep ? out.next() : preview(out, taken, "checkpoint"), groupOf.length, phase)) {
                RewardOutput r = score(scorer, images, groupPrompts, groupOf, phase);
                rewardCalls++;
                rewardedImages += groupOf.length;
                if (!finalStep) previews += groupOf.length;
                int[] keep = selectPerGroup(r.scores(), groupOf, survivors[next], groupPrompts.size(), phase);
                double before = GroupAdvantages.withinGroupStd(r.scores(), groupOf, GroupAdvantages.Centring.PLAIN);
                double[] kept = pick(r.scores(), keep);
                int[] keptGroups = pickInt(groupOf, keep);
                double after = GroupAdvantages.withinGroupStd(kept, keptGroups, GroupAdvantages.Centring.PLAIN);
                stats.add(new CheckpointStats(taken, groupOf.length / groupPrompts.size(), keep.length / groupPrompts.size(),
                        before, after, kept));
                proxyByRow.add(expandToOriginal(r.scores(), original, rowsAtStart));
                if (record) previewsTaken.add(new Preview(taken, proxyByRow.getLast().clone()));
                // pruned rows stop here: their stored transitions are released at once
                long ledgerBefore = TensorEvents.ledgerBytes();
                TensorEvents.enterPhase("prune", taken);
                try {
                    traj.keepRows(keep);
                    if (cond != null) {
                        keptCond = cond.indexSelect(0, toLongs(keep)).unscoped();
                        ownedCond.close();
                        ownedCond = keptCond;
                    }
                } finally {
                    TensorEvents.leavePhase();
                }
                long ledgerAfter = TensorEvents.ledgerBytes();
                listener.checkpointPruned(stats.getLast(), ledgerBefore - ledgerAfter);
                PruneCheckpointEvent.record(stats.getLast(), steps, groupPrompts.size(), ledgerBefore - ledgerAfter, ledgerAfter);
                groupOf = keptGroups;
                original = pickInt(original, keep);
                if (finalStep) {
                    finalOut = new RewardOutput(kept, pickMetrics(r, keep));
                    finalImages = images.indexSelect(0, toLongs(keep)).unscoped();
                }
            }
            rewardNanos += System.nanoTime() - t0;
            next++;
            return keptCond;
        }

        /** The step's x0 preview, or an exception naming the sampler and the step when it returned none. */
        Tensor preview(StepOutput out, int taken, String what) {
            Tensor p = out.x0Preview();
            if (p == null) {
                throw new IllegalStateException("sampler " + samplerName + " returned no x0Preview at step " + taken + " of " + steps
                        + ", a " + what + " of " + schedule.describe() + ", which scores the step's preview of the clean sample; "
                        + "return it in StepOutput (the step's x0 prediction), or sample with a schedule without checkpoints");
            }
            return p;
        }

        /** A preview-only step: every active row's preview, decoded and scored with the proxy reward; nothing pruned. */
        void recordPreview(int taken, StepOutput out) {
            long t0 = System.nanoTime();
            String phase = "preview at step " + taken + " of " + steps;
            try (Tensor images = decode(preview(out, taken, "preview step"), groupOf.length, phase)) {
                RewardOutput r = score(proxy, images, groupPrompts, groupOf, phase);
                rewardCalls++;
                rewardedImages += groupOf.length;
                previews += groupOf.length;
                previewsTaken.add(new Preview(taken, expandToOriginal(r.scores(), original, rowsAtStart)));
            }
            rewardNanos += System.nanoTime() - t0;
        }

        /** The final reward of the survivors' last latents, when no checkpoint at T scored them. */
        void scoreFinal(Tensor latents) {
            long t0 = System.nanoTime();
            String phase = "final, after step " + steps + " of " + steps;
            finalImages = decode(latents, groupOf.length, phase).unscoped();
            finalOut = score(reward, finalImages, groupPrompts, groupOf, phase);
            rewardCalls++;
            rewardedImages += groupOf.length;
            rewardNanos += System.nanoTime() - t0;
        }
    }

    /** The decoder's images of {@code latents}: a new tensor with one image per row. */
    private Tensor decode(Tensor latents, int rows, String phase) {
        Tensor images = decoder.decode(latents);
        if (images == null) throw new IllegalStateException("decoder returned null (" + phase + "); expected " + rows + " images");
        if (images == latents) {
            throw new IllegalStateException("decoder returned its argument (" + phase + "); expected a new tensor, which the driver closes");
        }
        if (images.dim() < 1 || images.size(0) != rows) {
            String got = java.util.Arrays.toString(images.shape());
            images.close();
            throw new IllegalStateException("decoder returned images of shape " + got + " for " + rows + " latents ("
                    + phase + "); expected one image per row");
        }
        return images;
    }

    /**
     * The reward's scores of {@code images}, given each image's group (a copy, so the reward cannot change the
     * driver's), checked where they enter the driver: one finite score per image.
     */
    private static RewardOutput score(RewardFunction f, Tensor images, List<String> groupPrompts, int[] groupOf, String phase) {
        List<String> prompts = promptsOf(groupPrompts, groupOf);
        RewardOutput out = f.score(images, prompts, groupOf.clone());
        if (out == null) {
            throw new IllegalStateException("reward '" + f.name() + "' (" + phase + ") returned null for " + prompts.size()
                    + " images; expected one finite score per image");
        }
        return out.check(f.name(), phase, prompts.size());
    }

    private int[] selectPerGroup(double[] scores, int[] groupOf, int k, int groups, String phase) {
        List<Integer> keep = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            int n = 0;
            for (int value : groupOf) if (value == g) n++;
            int[] rows = new int[n];
            double[] r = new double[n];
            int j = 0;
            for (int i = 0; i < groupOf.length; i++) {
                if (groupOf[i] == g) {
                    rows[j] = i;
                    r[j++] = scores[i];
                }
            }
            if (k > n) throw new IllegalStateException("group " + g + " has " + n + " rows, cannot keep " + k);
            int[] chosen = strategy.select(r, k, rng);
            if (chosen == null || chosen.length != k) {
                throw new IllegalStateException("subset strategy '" + strategy.name() + "' (" + phase + ") chose "
                        + (chosen == null ? "null" : chosen.length + " rows") + " of group " + g + "; expected " + k + " of " + n);
            }
            for (int q = 0; q < k; q++) {
                if (chosen[q] < 0 || chosen[q] >= n || q > 0 && chosen[q] <= chosen[q - 1]) {
                    throw new IllegalStateException("subset strategy '" + strategy.name() + "' (" + phase + ") chose "
                            + Arrays.toString(chosen) + " in group " + g + "; expected " + k
                            + " distinct ascending indices in [0, " + n + ")");
                }
                keep.add(rows[chosen[q]]);
            }
        }
        int[] out = keep.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(out);
        return out;
    }

    private static List<String> promptsOf(List<String> groupPrompts, int[] groupOf) {
        List<String> p = new ArrayList<>(groupOf.length);
        for (int g : groupOf) p.add(groupPrompts.get(g));
        return p;
    }

    private static double[] pick(double[] v, int[] idx) {
        double[] r = new double[idx.length];
        for (int i = 0; i < idx.length; i++) r[i] = v[idx[i]];
        return r;
    }

    private static int[] pickInt(int[] v, int[] idx) {
        int[] r = new int[idx.length];
        for (int i = 0; i < idx.length; i++) r[i] = v[idx[i]];
        return r;
    }

    private static java.util.Map<String, double[]> pickMetrics(RewardOutput r, int[] keep) {
        java.util.Map<String, double[]> m = new java.util.LinkedHashMap<>();
        r.metrics().forEach((k, v) -> m.put(k, v.length == r.scores().length ? pick(v, keep) : v));
        return m;
    }

    private static long[] toLongs(int[] v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) r[i] = v[i];
        return r;
    }

    private static double[] expandToOriginal(double[] scores, int[] original, int total) {
        double[] r = new double[total];
        Arrays.fill(r, Double.NaN);
        for (int i = 0; i < original.length; i++) r[original[i]] = scores[i];
        return r;
    }

}
