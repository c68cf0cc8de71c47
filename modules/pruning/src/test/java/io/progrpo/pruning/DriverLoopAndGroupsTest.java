package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.progrpo.reward.MultiReward;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.Decoder;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.Trajectory;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The expand-and-prune driver on the one sampling loop: its chains are those of the step loop it had before it ran
 * on {@link io.progrpo.sampler.SamplingLoop} (kept here as the reference), bit for bit; every reward call gets the
 * images' group ids (at each checkpoint and at the end), which define the groups of a group-normalising reward even
 * when two groups share a prompt.
 */
class DriverLoopAndGroupsTest {
    static final int GROUPS = 3;
    static final int G = 8;
    static final PruneSchedule SCHEDULE = new PruneSchedule(G, new int[] {2, 3}, new int[] {5, 3}, 5, "ovf");
    static final Decoder CLAMP = x -> x.clamp(-1e9, 1e9);
    /** A model that reads its conditioning, so a wrong conditioning row after a prune shows in the latents. */
    static final VelocityModel MODEL = (x, t, c) -> {
        try (Scope s = Scope.open()) {
            return s.keep(x.mul(-0.7).add(c));
        }
    };

    static final RewardFunction MEAN_PIXEL = ExpandAndPruneDriverTest.MEAN_PIXEL;

    /** What the reference loop produces: survivors' rows, final latents, stored latents and log-probs. */
    record Chains(int[] original, float[] finalLatents, List<float[]> latents, List<float[]> logProbs) {}

    /** The driver's own step loop as it was before it ran on SamplingLoop (OVF per group, mean-pixel proxy). */
    static Chains formerLoop(Sampler sampler, Tensor noise, Tensor cond, Generator gen) {
        int[] checkpoints = SCHEDULE.checkpoints();
        int[] survivors = SCHEDULE.survivors();
        int[] groupOf = new int[GROUPS * G];
        int[] original = new int[GROUPS * G];
        for (int i = 0; i < groupOf.length; i++) {
            groupOf[i] = i / G;
            original[i] = i;
        }
        try (var ng = Autograd.noGrad(); Trajectory traj = new Trajectory(sampler, false)) {
            Tensor x0 = noise.clone_().unscoped();
            Tensor c = cond.clone_().unscoped();
            int next = 0;
            for (int i = 0; i < sampler.steps(); i++) {
                Tensor x = i == 0 ? x0 : traj.finalLatents();
                try (StepOutput out = sampler.step(MODEL, x, c, i, gen)) {
                    if (sampler.isStochastic(i)) traj.append(i, x, out);
                    else traj.advance(i, out);
                    if (i == 0) x0.close();
                    if (next < checkpoints.length && checkpoints[next] == i + 1) {
                        double[] r;
                        try (Tensor images = CLAMP.decode(out.x0Preview())) {
                            r = MEAN_PIXEL.score(images, null).scores();
                        }
                        List<Integer> keep = new ArrayList<>();
                        for (int g = 0; g < GROUPS; g++) {
                            List<Integer> rows = new ArrayList<>();
                            for (int j = 0; j < groupOf.length; j++) if (groupOf[j] == g) rows.add(j);
                            double[] rg = rows.stream().mapToDouble(j -> r[j]).toArray();
                            for (int q : OptimalVarianceFilter.select(rg, survivors[next])) keep.add(rows.get(q));
                        }
                        int[] k = keep.stream().mapToInt(Integer::intValue).sorted().toArray();
                        traj.keepRows(k);
                        Tensor kc = c.indexSelect(0, Arrays.stream(k).asLongStream().toArray()).unscoped();
                        c.close();
                        c = kc;
                        int[] g2 = new int[k.length];
                        int[] o2 = new int[k.length];
                        for (int q = 0; q < k.length; q++) {
                            g2[q] = groupOf[k[q]];
                            o2[q] = original[k[q]];
                        }
                        groupOf = g2;
                        original = o2;
                        next++;
                    }
                }
            }
            c.close();
            List<float[]> latents = new ArrayList<>();
            List<float[]> logProbs = new ArrayList<>();
            for (int k = 0; k < traj.stepsStored(); k++) {
                latents.add(traj.latents(k).toFloatArray());
                logProbs.add(traj.logProb(k).toFloatArray());
            }
            return new Chains(original, traj.finalLatents().toFloatArray(), latents, logProbs);
        }
    }

    @Test
    void theChainsAreTheFormerLoopsBitForBit() {
        Sampler sde = FlowSdeSampler.sde(5, 3.0);
        long live = MemoryLedger.liveTensors();
        for (long seed = 1; seed <= 4; seed++) {
            try (Generator g = Generator.create(seed); Tensor noise = Tensor.randn(g, GROUPS * G, 3, 2, 2);
                 Tensor cond = Tensor.randn(g, GROUPS * G, 3, 2, 2)) {
                Chains expected;
                try (Generator gen = Generator.create(100 + seed)) {
                    expected = formerLoop(sde, noise, cond, gen);
                }
                ExpandAndPruneDriver driver = new ExpandAndPruneDriver(SCHEDULE, SubsetStrategy.OVF, CLAMP, new SplittableRandom(1));
                try (Generator gen = Generator.create(100 + seed);
                     var res = driver.run(sde, MODEL, List.of("a", "b", "c"), noise, cond, MEAN_PIXEL, MEAN_PIXEL, gen)) {
                    String where = "seed " + seed;
                    assertArrayEquals(expected.original(), res.originalRow(), where);
                    assertArrayEquals(expected.finalLatents(), res.trajectory().finalLatents().toFloatArray(), where);
                    assertEquals(expected.latents().size(), res.trajectory().stepsStored(), where);
                    for (int k = 0; k < expected.latents().size(); k++) {
                        assertArrayEquals(expected.latents().get(k), res.trajectory().latents(k).toFloatArray(), where + " step " + k);
                        assertArrayEquals(expected.logProbs().get(k), res.trajectory().logProb(k).toFloatArray(), where + " step " + k);
                    }
                }
            }
        }
        assertEquals(live, MemoryLedger.liveTensors());
    }

    /** Records the group ids of every call, and writes into them (which must not reach the driver). */
    static final class IdRecorder implements RewardFunction {
        final List<int[]> ids = new ArrayList<>();

        @Override
        public String name() {
            return "ids";
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            throw new AssertionError("the driver calls the group-aware entry point");
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts, int[] groupIds) {
            ids.add(groupIds.clone());
            Arrays.fill(groupIds, 7);
            return MEAN_PIXEL.score(images, prompts);
        }
    }

    @Test
    void everyRewardCallGetsTheGroupIdsAndTheyDefineTheGroups() {
        Sampler sde = FlowSdeSampler.sde(5, 3.0);
        for (PruneSchedule s : List.of(SCHEDULE, PruneSchedule.staticOvf(G, 3, 5), PruneSchedule.none(G, 5))) {
            try (Generator g = Generator.create(3); Tensor noise = Tensor.randn(g, GROUPS * G, 3, 2, 2);
                 Tensor cond = Tensor.randn(g, GROUPS * G, 3, 2, 2)) {
                IdRecorder proxy = new IdRecorder();
                IdRecorder reward = new IdRecorder();
                ExpandAndPruneDriver driver = new ExpandAndPruneDriver(s, SubsetStrategy.OVF, CLAMP, new SplittableRandom(1));
                try (var res = driver.run(sde, MODEL, List.of("a", "b", "c"), noise, cond, proxy, reward, g)) {
                    // one proxy call per checkpoint before T, with the rows alive there, group by group
                    int size = G;
                    int[] cps = s.checkpoints();
                    int proxyCalls = 0;
                    for (int i = 0; i < cps.length; i++) {
                        if (cps[i] == s.totalSteps()) continue;
                        assertArrayEquals(blocks(size), proxy.ids.get(proxyCalls++), s.describe() + " checkpoint " + i);
                        size = s.survivors()[i];
                    }
                    assertEquals(proxyCalls, proxy.ids.size());
                    // the final reward: once, on the rows alive at the last step (before a static prune at T)
                    assertEquals(1, reward.ids.size(), s.describe());
                    int finalRows = cps.length > 0 && cps[cps.length - 1] == s.totalSteps() ? G : s.finalGroupSize();
                    assertArrayEquals(blocks(finalRows), reward.ids.get(0), s.describe());
                    assertArrayEquals(blocks(s.finalGroupSize()), res.groupOf(), s.describe() + ": the driver's ids are its own");
                }
            }
        }
    }

    /** Group ids 0,0,..,1,1,..,2,2,.. with {@code size} rows per group. */
    static int[] blocks(int size) {
        int[] ids = new int[GROUPS * size];
        for (int i = 0; i < ids.length; i++) ids[i] = i / size;
        return ids;
    }

    /**
     * A group-normalising reward (MultiReward ADVANTAGE_SUM) through the driver: the final scores are z-scores within
     * each prompt group, even when every group has the same prompt (grouping by prompt would merge them).
     */
    @Test
    void aGroupNormalisingRewardNormalisesWithinTheDriversGroups() {
        Sampler sde = FlowSdeSampler.sde(5, 3.0);
        MultiReward advantages = new MultiReward(List.of(new MultiReward.Term(MEAN_PIXEL, 1.0)), MultiReward.Aggregation.ADVANTAGE_SUM);
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(SCHEDULE, SubsetStrategy.OVF, CLAMP, new SplittableRandom(1));
        try (Generator g = Generator.create(5); Tensor noise = Tensor.randn(g, GROUPS * G, 3, 2, 2);
             Tensor cond = Tensor.randn(g, GROUPS * G, 3, 2, 2);
             var res = driver.run(sde, MODEL, List.of("same", "same", "same"), noise, cond, MEAN_PIXEL, advantages, g)) {
            double[] raw = res.finalReward().metrics().get("mean_pixel");
            double[] got = res.finalReward().scores();
            int k = SCHEDULE.finalGroupSize();
            for (int grp = 0; grp < GROUPS; grp++) {
                double mean = 0;
                for (int i = 0; i < k; i++) mean += raw[grp * k + i] / k;
                double ss = 0;
                for (int i = 0; i < k; i++) ss += (raw[grp * k + i] - mean) * (raw[grp * k + i] - mean);
                double std = Math.sqrt(ss / k);
                double sum = 0;
                for (int i = 0; i < k; i++) {
                    assertEquals((raw[grp * k + i] - mean) / (std + 1e-4), got[grp * k + i], 1e-9, "group " + grp);
                    sum += got[grp * k + i];
                }
                assertEquals(0, sum, 1e-9, "each group's advantages sum to 0");
            }
        }
    }
}
