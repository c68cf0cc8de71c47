package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.Method;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The one epoch path as a data-parallel job, without a process group: two ranks on two threads of this JVM, whose
 * gradient sync and reward gather exchange plain arrays, against the same job on one rank. The PER_GROUP seeding makes
 * every group draw the same on any number of ranks, and the gather puts every group's rewards in global group order,
 * so the first epoch's reward, checkpoint and count metrics are bit-identical for one and two ranks (with pruning,
 * classifier-free guidance and a multi-reward), and the trained parameters agree up to the rounding of the gradient
 * average. The Gloo version with real processes is {@code DataParallelTrainingTest}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OneEpochPathTest {
    private static final int GROUPS = 4;
    private static final int GROUPS_PER_STEP = 2;
    private static final int EPOCHS = 2;

    /** Two rewards, reported per row: the mean pixel (the score) and the first pixel. */
    static RewardFunction twoPartReward() {
        return new RewardFunction() {
            @Override
            public String name() {
                return "two_part";
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                try (Scope s = Scope.open()) {
                    Tensor flat = images.reshape(images.size(0), -1);
                    double[] mean = flat.mean(false, 1).toDoubleArray();
                    double[] first = flat.narrow(1, 0, 1).reshape(images.size(0)).toDoubleArray();
                    Map<String, double[]> parts = new LinkedHashMap<>();
                    parts.put("mean_pixel", mean);
                    parts.put("first_pixel", first);
                    return new RewardOutput(mean, parts);
                }
            }
        };
    }

    static GrpoTrainer trainer(MicroBatchInvarianceTest.AffineVelocity policy) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, GROUPS, 4.5, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 5, 0, Device.CPU);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.PRO_GRPO, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 5, "ovf"), SubsetStrategy.byName("ovf"), false);
        return new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(), twoPartReward(), x -> x.clamp(-1e6, 1e6));
    }

    private record Outcome(List<Map<String, Object>> metrics, double[] params) {}

    private static Outcome run(GrpoTrainer.DataParallel dp) {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(policy)) {
            t.dataParallel(dp);
            assertEquals(GroupSeeding.PER_GROUP, t.groupSeeding(), "a data-parallel job seeds per group");
            List<Map<String, Object>> m = new ArrayList<>();
            for (int e = 0; e < EPOCHS; e++) m.add(t.runEpoch(e, new Phases(p -> { })));
            Map<String, Tensor> p = policy.namedParameters();
            return new Outcome(m, new double[] {p.get("w").item(), p.get("u").item(), p.get("b").item()});
        }
    }

    /** All-gather and all-reduce over the threads of one JVM (arrays only: tensors stay on their own thread). */
    static final class ThreadGroup {
        private final int size;
        private final CyclicBarrier barrier;
        private final Object[] slots;

        ThreadGroup(int size) {
            this.size = size;
            this.barrier = new CyclicBarrier(size);
            this.slots = new Object[size];
        }

        List<double[]> allGather(int rank, double[] v) {
            try {
                slots[rank] = v.clone();
                barrier.await(60, TimeUnit.SECONDS);
                List<double[]> out = new ArrayList<>();
                for (int r = 0; r < size; r++) out.add(((double[]) slots[r]).clone());
                barrier.await(60, TimeUnit.SECONDS);
                return out;
            } catch (Exception e) {
                throw new IllegalStateException("rank " + rank + ": the exchange failed", e);
            }
        }

        GrpoTrainer.DataParallel rank(int rank) {
            return new GrpoTrainer.DataParallel(rank, size, GROUPS_PER_STEP, (params, n) -> {
                int global = 0;
                for (double[] c : allGather(rank, new double[] {n})) global += (int) c[0];
                if (global == 0) return 0;
                for (Tensor p : params) {
                    try (Tensor g = p.grad()) {
                        float[] mine = g.toFloatArray();
                        double[] asDouble = new double[mine.length];
                        for (int i = 0; i < mine.length; i++) asDouble[i] = mine[i];
                        float[] mean = new float[mine.length];
                        for (double[] other : allGather(rank, asDouble)) for (int i = 0; i < mean.length; i++) mean[i] += (float) other[i];
                        for (int i = 0; i < mean.length; i++) mean[i] /= size;
                        try (Tensor avg = Tensor.of(mean, g.shape())) {
                            g.copyFrom(avg);
                        }
                    }
                }
                return global;
            }, v -> allGather(rank, v));
        }
    }

    @Test
    void oneRankAndTwoRanksSampleTheSameGroupsAndTrainTheSameParameters() throws Exception {
        Outcome one = run(GrpoTrainer.DataParallel.single(GROUPS_PER_STEP));
        ThreadGroup group = new ThreadGroup(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Outcome> ranks = new ArrayList<>();
        try {
            List<Future<Outcome>> f = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                f.add(pool.submit(() -> run(group.rank(rank))));
            }
            for (Future<Outcome> x : f) ranks.add(x.get(100, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        Map<String, Object> m1 = one.metrics().get(0);
        assertEquals(2, ((List<?>) m1.get("checkpoints")).size(), "two checkpoints were pruned at");
        assertTrue(m1.containsKey("reward_first_pixel_mean"), "per-reward metrics: " + m1.keySet());
        assertEquals(GROUPS / GROUPS_PER_STEP, ((Number) m1.get("optimizer_steps")).intValue());
        List<String> rewardKeys = List.of("reward_mean", "reward_std", "within_group_std", "zero_std_group_fraction",
                "reward_mean_pixel_mean", "reward_mean_pixel_std", "reward_first_pixel_mean", "reward_first_pixel_std",
                "checkpoints", "trajectories_sampled", "trajectories_trained", "nfe_sampling", "previews", "reward_calls",
                "rewarded_images", "trajectory_bytes", "groups_per_step", "trained_steps", "optimizer_steps");
        for (int r = 0; r < 2; r++) {
            Map<String, Object> m2 = ranks.get(r).metrics().get(0);
            assertEquals(2, m2.get("world_size"));
            assertEquals(1, m1.get("world_size"));
            for (String k : rewardKeys) assertEquals(m1.get(k), m2.get(k), "rank " + r + " of 2, epoch 0, " + k + ": bit for bit");
            for (int e = 1; e < EPOCHS; e++) {
                double a = ((Number) one.metrics().get(e).get("reward_mean")).doubleValue();
                double b = ((Number) ranks.get(r).metrics().get(e).get("reward_mean")).doubleValue();
                assertEquals(a, b, 1e-6, "rank " + r + " epoch " + e + " reward mean, after training");
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(one.params()[i], ranks.get(r).params()[i], 1e-6, "rank " + r + " parameter " + i);
            }
        }
        assertArrayEquals(ranks.get(0).params(), ranks.get(1).params(), "both ranks hold the same parameters, bit for bit");
        assertNotEquals(0.1, one.params()[0], "training moved the parameters");
    }

    @Test
    void theEpochStreamIsTheSingleProcessDefaultAndNeedsOneRank() {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(policy)) {
            assertEquals(GroupSeeding.EPOCH_STREAM, t.groupSeeding());
            assertEquals(GROUPS, t.groupsPerStep(), "one optimizer step per epoch");
            t.dataParallel(new ThreadGroup(2).rank(0));
            assertEquals(GroupSeeding.PER_GROUP, t.groupSeeding());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.groupSeeding(GroupSeeding.EPOCH_STREAM));
            assertTrue(e.getMessage().contains("needs one rank") && e.getMessage().contains("has 2"), e.getMessage());
            IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> t.groupSeeding(null));
            assertTrue(n.getMessage().contains("EPOCH_STREAM or PER_GROUP, got null"), n.getMessage());
            t.dataParallel(null);
            assertEquals(GroupSeeding.EPOCH_STREAM, t.groupSeeding());
            assertEquals(1, t.dataParallel().worldSize());
        }
    }

    @Test
    void bothSeedingsRunTheSameJobOnOneRankFromTheirOwnStreams() {
        Map<GroupSeeding, Map<String, Object>> first = new LinkedHashMap<>();
        for (GroupSeeding s : GroupSeeding.values()) {
            try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
                 GrpoTrainer t = trainer(policy)) {
                t.dataParallel(GrpoTrainer.DataParallel.single(GROUPS_PER_STEP));
                t.groupSeeding(s);
                first.put(s, t.runEpoch(0, new Phases(p -> { })));
            }
        }
        Map<String, Object> a = first.get(GroupSeeding.EPOCH_STREAM);
        Map<String, Object> b = first.get(GroupSeeding.PER_GROUP);
        assertEquals(a.keySet(), b.keySet(), "one path: the same metrics");
        for (String k : List.of("trajectories_sampled", "trajectories_trained", "nfe_sampling", "previews", "optimizer_steps", "groups_per_step")) {
            assertEquals(a.get(k), b.get(k), k);
        }
        assertEquals(((Number) a.get("reward_calls")).longValue() * GROUPS, ((Number) b.get("reward_calls")).longValue(),
                "one sampling run for the epoch against one per group: " + a.get("reward_calls") + " and " + b.get("reward_calls"));
        assertNotEquals(a.get("reward_mean"), b.get("reward_mean"), "different noise streams");
    }
}
