package io.progrpo.pruning;

import io.progrpo.sampler.Decoder;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.Trajectory;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

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
 * <p>Rows are laid out group by group: rows {@code g*G_max .. (g+1)*G_max-1} of {@code noise} and {@code cond} belong to
 * prompt group g. The driver runs under {@link Autograd#noGrad()}; it owns nothing it returns except the
 * {@link Result}, which the caller closes.
 */
public final class ExpandAndPruneDriver {
    /** What happened at one checkpoint. */
    public record CheckpointStats(int step, int sizeBefore, int sizeAfter, double withinGroupStdBefore,
                                  double withinGroupStdAfter, double[] survivorProxyRewards) {}

    /** Counters of one run. */
    public record Counts(long modelForwardRows, long modelCalls, long previews, long rewardCalls, long rewardedImages) {}

    /**
     * The outcome: the survivors' trajectory (rows in group order), their group ids and original row ids, their
     * final rewards and images, the per-checkpoint statistics, the proxy reward of each final survivor at each
     * checkpoint ({@code survivorProxy[checkpoint][survivor]}, what {@code proxyFinalCorrelation} correlates with the
     * final reward), the counters and the wall time of the phases.
     */
    public record Result(Trajectory trajectory, int[] groupOf, int[] originalRow, RewardOutput finalReward,
                         Tensor finalImages, List<CheckpointStats> checkpoints, double[] proxyFinalCorrelation,
                         double[][] survivorProxy, Counts counts, long samplingNanos, long rewardNanos) implements AutoCloseable {
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

    public ExpandAndPruneDriver(PruneSchedule schedule, SubsetStrategy strategy, Decoder decoder, RandomGenerator rng) {
        if (schedule == null || strategy == null || decoder == null || rng == null) {
            throw new IllegalArgumentException("schedule, strategy, decoder and rng must not be null");
        }
        this.schedule = schedule;
        this.strategy = strategy;
        this.decoder = decoder;
        this.rng = rng;
    }

    public PruneSchedule schedule() {
        return schedule;
    }

    /** Counts rows and calls of the model it wraps. */
    private static final class CountingModel implements VelocityModel {
        final VelocityModel inner;
        long rows;
        long calls;

        CountingModel(VelocityModel inner) {
            this.inner = inner;
        }

        @Override
        public Tensor predict(Tensor x, Tensor t, Tensor cond) {
            rows += x.size(0);
            calls++;
            return inner.predict(x, t, cond);
        }
    }

    /**
     * Samples {@code groupPrompts.size()} groups of G_max rows each and prunes them on the schedule.
     *
     * @param noise  initial latents [groups * G_max, ...]
     * @param cond   conditioning rows [groups * G_max, ...] (may be null)
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
        int[] groupOf = new int[groups * gMax];
        int[] original = new int[groups * gMax];
        for (int i = 0; i < groupOf.length; i++) {
            groupOf[i] = i / gMax;
            original[i] = i;
        }
        List<CheckpointStats> stats = new ArrayList<>();
        List<double[]> proxyByRow = new ArrayList<>();
        long previews = 0;
        long rewardCalls = 0;
        long rewardedImages = 0;
        long rewardNanos = 0;
        long start = System.nanoTime();
        // no sampling-time means: GRPO recomputes them with gradient (the latents, next latents and log-probs suffice)
        Trajectory traj = new Trajectory(sampler, false);
        Tensor x0 = null;
        Tensor c = null;
        RewardOutput finalOut = null;
        Tensor finalImages = null;
        int[] checkpoints = schedule.checkpoints();
        int[] survivors = schedule.survivors();
        // every tensor made here is closed on every exception path (a throwing model, decoder, reward or strategy),
        // so nothing reaches the leak safety net
        try (var ng = Autograd.noGrad()) {
            // the trajectory owns the chain's latents: step i starts from its current latents, so each is stored once
            x0 = noise.clone_().unscoped();
            c = cond == null ? null : cond.clone_().unscoped();
            int next = 0;
            for (int i = 0; i < sampler.steps(); i++) {
                Tensor x = i == 0 ? x0 : traj.finalLatents();
                int taken = i + 1;
                boolean isCheckpoint = next < checkpoints.length && checkpoints[next] == taken;
                boolean finalStep = taken == sampler.steps();
                try (StepOutput out = sampler.step(counted, x, c, i, gen)) {
                    if (sampler.isStochastic(i)) traj.append(i, x, out);
                    else traj.advance(i, out);
                    if (i == 0) x0.close();
                    if (isCheckpoint) {
                        // preview of the clean sample from this step's own output; at T it is the final sample itself
                        long t0 = System.nanoTime();
                        RewardFunction scorer = finalStep ? reward : proxy;
                        String phase = finalStep ? "final, after step " + taken + " of " + sampler.steps()
                                : "proxy at step " + taken + " of " + sampler.steps();
                        Tensor latents = finalStep ? out.next() : out.x0Preview();
                        try (Tensor images = decode(latents, groupOf.length, phase)) {
                            RewardOutput r = score(scorer, images, promptsOf(groupPrompts, groupOf), phase);
                            rewardCalls++;
                            rewardedImages += groupOf.length;
                            if (!finalStep) previews += groupOf.length;
                            int[] keep = selectPerGroup(r.scores(), groupOf, survivors[next], groups, phase);
                            double before = meanGroupStd(r.scores(), groupOf, groups);
                            double[] kept = pick(r.scores(), keep);
                            int[] keptGroups = pickInt(groupOf, keep);
                            double after = meanGroupStd(kept, keptGroups, groups);
                            stats.add(new CheckpointStats(taken, groupOf.length / groups, keep.length / groups, before, after, kept));
                            proxyByRow.add(expandToOriginal(r.scores(), original, groups * gMax));
                            // pruned rows stop here: their stored transitions are released at once
                            traj.keepRows(keep);
                            if (c != null) {
                                Tensor kc = c.indexSelect(0, toLongs(keep)).unscoped();
                                c.close();
                                c = kc;
                            }
                            groupOf = keptGroups;
                            original = pickInt(original, keep);
                            if (finalStep) {
                                finalOut = new RewardOutput(kept, pickMetrics(r, keep));
                                finalImages = images.indexSelect(0, toLongs(keep)).unscoped();
                            }
                        }
                        rewardNanos += System.nanoTime() - t0;
                        next++;
                    }
                }
            }
            if (finalOut == null) {
                long t0 = System.nanoTime();
                String phase = "final, after step " + sampler.steps() + " of " + sampler.steps();
                finalImages = decode(traj.finalLatents(), groupOf.length, phase).unscoped();
                finalOut = score(reward, finalImages, promptsOf(groupPrompts, groupOf), phase);
                rewardCalls++;
                rewardedImages += groupOf.length;
                rewardNanos += System.nanoTime() - t0;
            }
            long samplingNanos = System.nanoTime() - start - rewardNanos;
            // correlation between each checkpoint's proxy reward and the final reward, over the final survivors
            double[] corr = new double[proxyByRow.size()];
            double[][] survivorProxy = new double[proxyByRow.size()][];
            for (int k = 0; k < corr.length; k++) {
                double[] p = new double[original.length];
                for (int i = 0; i < original.length; i++) p[i] = proxyByRow.get(k)[original[i]];
                survivorProxy[k] = p;
                corr[k] = pearson(p, finalOut.scores());
            }
            return new Result(traj, groupOf, original, finalOut, finalImages, stats, corr, survivorProxy,
                    new Counts(counted.rows, counted.calls, previews, rewardCalls, rewardedImages), samplingNanos, rewardNanos);
        } catch (Throwable e) {
            if (x0 != null) x0.close();
            traj.close();
            if (finalImages != null) finalImages.close();
            throw e;
        } finally {
            if (c != null) c.close();
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

    /** The reward's scores of {@code images}, checked where they enter the driver: one finite score per image. */
    private static RewardOutput score(RewardFunction f, Tensor images, List<String> prompts, String phase) {
        RewardOutput out = f.score(images, prompts);
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

    /** Mean over groups of the population std of the group's rewards. */
    static double meanGroupStd(double[] r, int[] groupOf, int groups) {
        double sum = 0;
        int counted = 0;
        for (int g = 0; g < groups; g++) {
            double s = 0;
            double s2 = 0;
            int n = 0;
            for (int i = 0; i < r.length; i++) {
                if (groupOf[i] == g) {
                    s += r[i];
                    n++;
                }
            }
            if (n == 0) continue;
            double mean = s / n;
            for (int i = 0; i < r.length; i++) if (groupOf[i] == g) s2 += (r[i] - mean) * (r[i] - mean);
            sum += Math.sqrt(s2 / n);
            counted++;
        }
        return counted == 0 ? 0 : sum / counted;
    }

    /** Pearson correlation; NaN when either side has zero variance. */
    static double pearson(double[] a, double[] b) {
        int n = a.length;
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= n;
        mb /= n;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < n; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }
}
