package io.progrpo.trainer;

import io.progrpo.pruning.ExpandAndPruneDriver.CheckpointStats;
import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.reward.RewardOutput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The REWARD phase's view of an epoch over all ranks: every prompt group's final rewards, per-reward scores and the
 * survivors' proxy rewards at each checkpoint, in global group order; the checkpoint statistics; the sampling
 * counters summed over ranks. Built by one {@link GrpoTrainer.RewardGather} call, the identity for one rank, where
 * every array holds the driver's own values in the driver's own order.
 */
final class EpochRewards {
    /** One checkpoint over all groups: its step and sizes, and the within-group reward std before and after it. */
    record Checkpoint(int step, int sizeBefore, int sizeAfter, double withinGroupStdBefore, double withinGroupStdAfter) {}

    /** Sampling counters over all ranks; {@code nfeSampling} counts network evaluations (x2 with guidance). */
    record Counts(long trajectoriesSampled, long trajectoriesTrained, long nfeSampling, long previews, long rewardCalls,
                  long rewardedImages, long trajectoryBytes) {}

    private static final int COUNTS = 7;

    /** Final rewards of every survivor, in global group order. */
    final double[] scores;
    /** The global prompt group of each entry of {@link #scores}. */
    final int[] groupOf;
    /** Group g's entries are {@code groupStart[g] .. groupStart[g + 1] - 1}. */
    final int[] groupStart;
    /** The per-row scores of each reward of a multi-reward ({@code perReward[name][row]}), same order. */
    final Map<String, double[]> perReward;
    /** Each survivor's proxy reward at each checkpoint ({@code survivorProxy[checkpoint][row]}), same order. */
    final double[][] survivorProxy;
    final List<Checkpoint> checkpoints;
    final Counts counts;

    private EpochRewards(double[] scores, int[] groupOf, int[] groupStart, Map<String, double[]> perReward,
                         double[][] survivorProxy, List<Checkpoint> checkpoints, Counts counts) {
        this.scores = scores;
        this.groupOf = groupOf;
        this.groupStart = groupStart;
        this.perReward = perReward;
        this.survivorProxy = survivorProxy;
        this.checkpoints = checkpoints;
        this.counts = counts;
    }

    /**
     * Gathers this rank's sampled batches with every other rank's. Each rank sends one vector:
     * <pre>
     *   [groups, rewards with per-row scores, checkpoints, batches, counters x 7,
     *    per batch: its first group, its groups, (std before, std after) per checkpoint,
     *    per group: id, rows, final rewards, per-row scores of each reward, proxy rewards at each checkpoint]
     * </pre>
     *
     * @param groupSize G_max, the rows each group starts with
     * @param nfeFactor network evaluations per model row (2 with classifier-free guidance)
     */
    static EpochRewards gather(List<EpochSampling.Sampled> local, GrpoTrainer.RewardGather gather, int groupsPerEpoch,
                               int groupSize, int nfeFactor) {
        if (local.isEmpty()) throw new IllegalArgumentException("a rank samples at least one prompt group, got none");
        ExpandAndPruneDriver.Result first = local.get(0).result();
        List<String> names = perRowNames(first.finalReward());
        List<CheckpointStats> shape = first.checkpoints();
        int nCp = shape.size();
        int groups = local.stream().mapToInt(s -> s.batch().groups().length).sum();
        int rows = local.stream().mapToInt(s -> s.result().finalReward().scores().length).sum();
        double[] v = new double[4 + COUNTS + local.size() * (2 + 2 * nCp) + 2 * groups + rows * (1 + names.size() + nCp)];
        int at = 0;
        v[at++] = groups;
        v[at++] = names.size();
        v[at++] = nCp;
        v[at++] = local.size();
        for (EpochSampling.Sampled s : local) {
            ExpandAndPruneDriver.Result r = s.result();
            v[at] += (double) s.batch().groups().length * groupSize;
            v[at + 1] += r.finalReward().scores().length;
            v[at + 2] += (double) r.counts().modelForwardRows() * nfeFactor;
            v[at + 3] += r.counts().previews();
            v[at + 4] += r.counts().rewardCalls();
            v[at + 5] += r.counts().rewardedImages();
            v[at + 6] += r.trajectory().bytes();
        }
        at += COUNTS;
        for (EpochSampling.Sampled s : local) {
            List<CheckpointStats> cps = s.result().checkpoints();
            if (cps.size() != nCp) throw new IllegalStateException("batches of one epoch report " + nCp + " and " + cps.size() + " checkpoints");
            v[at++] = s.batch().groups()[0];
            v[at++] = s.batch().groups().length;
            for (CheckpointStats c : cps) {
                v[at++] = c.withinGroupStdBefore();
                v[at++] = c.withinGroupStdAfter();
            }
        }
        for (EpochSampling.Sampled s : local) {
            ExpandAndPruneDriver.Result r = s.result();
            if (!perRowNames(r.finalReward()).equals(names)) {
                throw new IllegalStateException("batches of one epoch report the rewards " + names + " and " + perRowNames(r.finalReward()));
            }
            int[] of = r.groupOf();
            int copied = 0;
            for (int j = 0; j < s.batch().groups().length; j++) {
                int from = firstIndex(of, j);
                int to = from;
                while (to < of.length && of[to] == j) to++;
                copied += to - from;
                v[at++] = s.batch().groups()[j];
                v[at++] = to - from;
                at = copy(r.finalReward().scores(), from, to, v, at);
                for (String n : names) at = copy(r.finalReward().metrics().get(n), from, to, v, at);
                for (int k = 0; k < nCp; k++) at = copy(r.survivorProxy()[k], from, to, v, at);
            }
            if (copied != of.length) {
                throw new IllegalStateException("the survivors of a sampling run are not in group order: " + Arrays.toString(of));
            }
        }
        return merge(gather.gather(v), names, shape, groupsPerEpoch);
    }

    /** The sampled batch's advantages (its rows, in its order) out of the epoch's, which are in global group order. */
    double[] batchAdvantages(double[] adv, EpochSampling.Batch b) {
        int n = 0;
        for (int g : b.groups()) n += groupStart[g + 1] - groupStart[g];
        double[] out = new double[n];
        int at = 0;
        for (int g : b.groups()) {
            int len = groupStart[g + 1] - groupStart[g];
            System.arraycopy(adv, groupStart[g], out, at, len);
            at += len;
        }
        return out;
    }

    private static EpochRewards merge(List<double[]> parts, List<String> names, List<CheckpointStats> shape, int groupsPerEpoch) {
        int nCp = shape.size();
        double[][] scoresOf = new double[groupsPerEpoch][];
        double[][][] metricsOf = new double[groupsPerEpoch][][];
        double[][][] proxyOf = new double[groupsPerEpoch][][];
        long[] counts = new long[COUNTS];
        List<double[]> batchStats = new ArrayList<>();   // {first group, groups, before_0, after_0, before_1, ...}
        for (int rank = 0; rank < parts.size(); rank++) {
            double[] p = parts.get(rank);
            int at = 0;
            int groups = (int) p[at++];
            int nMetrics = (int) p[at++];
            int cps = (int) p[at++];
            int batches = (int) p[at++];
            if (nMetrics != names.size() || cps != nCp) {
                throw new IllegalStateException("rank " + rank + " reports " + nMetrics + " per-row rewards and " + cps
                        + " checkpoints, this rank " + names.size() + " and " + nCp + " (ranks must run the same config)");
            }
            for (int i = 0; i < COUNTS; i++) counts[i] += (long) p[at++];
            for (int b = 0; b < batches; b++) {
                batchStats.add(Arrays.copyOfRange(p, at, at + 2 + 2 * nCp));
                at += 2 + 2 * nCp;
            }
            for (int j = 0; j < groups; j++) {
                int g = (int) p[at++];
                int len = (int) p[at++];
                if (g < 0 || g >= groupsPerEpoch || scoresOf[g] != null) {
                    throw new IllegalStateException("rank " + rank + " reports prompt group " + g + ", expected a new one in [0, " + groupsPerEpoch + ")");
                }
                scoresOf[g] = Arrays.copyOfRange(p, at, at + len);
                at += len;
                metricsOf[g] = new double[names.size()][];
                for (int m = 0; m < names.size(); m++, at += len) metricsOf[g][m] = Arrays.copyOfRange(p, at, at + len);
                proxyOf[g] = new double[nCp][];
                for (int k = 0; k < nCp; k++, at += len) proxyOf[g][k] = Arrays.copyOfRange(p, at, at + len);
            }
        }
        int[] start = new int[groupsPerEpoch + 1];
        for (int g = 0; g < groupsPerEpoch; g++) {
            if (scoresOf[g] == null) throw new IllegalStateException("no rank reported rewards for prompt group " + g);
            start[g + 1] = start[g] + scoresOf[g].length;
        }
        int n = start[groupsPerEpoch];
        double[] scores = new double[n];
        int[] groupOf = new int[n];
        Map<String, double[]> perReward = new java.util.LinkedHashMap<>();
        for (String name : names) perReward.put(name, new double[n]);
        double[][] proxy = new double[nCp][n];
        for (int g = 0; g < groupsPerEpoch; g++) {
            int len = scoresOf[g].length;
            System.arraycopy(scoresOf[g], 0, scores, start[g], len);
            Arrays.fill(groupOf, start[g], start[g + 1], g);
            for (int m = 0; m < names.size(); m++) System.arraycopy(metricsOf[g][m], 0, perReward.get(names.get(m)), start[g], len);
            for (int k = 0; k < nCp; k++) System.arraycopy(proxyOf[g][k], 0, proxy[k], start[g], len);
        }
        // in global group order, so the sums do not depend on how the batches are spread over ranks
        batchStats.sort(java.util.Comparator.comparingDouble(b -> b[0]));
        List<Checkpoint> checkpoints = new ArrayList<>();
        for (int k = 0; k < nCp; k++) {
            CheckpointStats c = shape.get(k);
            checkpoints.add(new Checkpoint(c.step(), c.sizeBefore(), c.sizeAfter(), groupWeighted(batchStats, 2 + 2 * k),
                    groupWeighted(batchStats, 3 + 2 * k)));
        }
        return new EpochRewards(scores, groupOf, start, perReward, proxy, checkpoints,
                new Counts(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]));
    }

    /**
     * The mean over all prompt groups of a per-batch mean over its groups (column {@code col}, the batch's groups in
     * column 1); one batch's value is returned as it is.
     */
    private static double groupWeighted(List<double[]> batchStats, int col) {
        if (batchStats.size() == 1) return batchStats.get(0)[col];
        double sum = 0;
        double groups = 0;
        for (double[] b : batchStats) {
            sum += b[1] * b[col];
            groups += b[1];
        }
        return sum / groups;
    }

    /** The rewards of a multi-reward that score every row (what the metrics report per reward), in their order. */
    private static List<String> perRowNames(RewardOutput out) {
        List<String> names = new ArrayList<>();
        out.metrics().forEach((k, v) -> {
            if (v.length == out.scores().length) names.add(k);
        });
        return names;
    }

    private static int firstIndex(int[] of, int j) {
        for (int i = 0; i < of.length; i++) if (of[i] == j) return i;
        throw new IllegalStateException("the sampling run kept no row of its prompt group " + j);
    }

    private static int copy(double[] src, int from, int to, double[] dst, int at) {
        System.arraycopy(src, from, dst, at, to - from);
        return at + to - from;
    }
}
