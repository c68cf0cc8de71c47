package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.Method;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Shadow groups: the per-checkpoint figures against an independent recomputation in plain double (brute-force
 * maximum-variance subsets through the funnel, best-k by a full sort, overlaps as set intersections, Pearson by the
 * one-pass sums, Spearman by counted ranks), and the trainer: a run with shadow groups trains bit for bit like one
 * without, reports the shadow on epochs 0, n, 2n, ... only, and never for a method that does not prune.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ShadowGroupTest {

    /** The k-subset of rows (ascending) of maximal population variance among {@code rows}, by enumeration. */
    static int[] bruteForceOvf(double[] v, int[] rows, int k) {
        int n = rows.length;
        double best = -1;
        int bestMask = 0;
        for (int mask = 0; mask < (1 << n); mask++) {
            if (Integer.bitCount(mask) != k) continue;
            double m = 0;
            for (int i = 0; i < n; i++) if ((mask >> i & 1) != 0) m += v[rows[i]];
            m /= k;
            double var = 0;
            for (int i = 0; i < n; i++) if ((mask >> i & 1) != 0) var += (v[rows[i]] - m) * (v[rows[i]] - m);
            if (var > best) {
                best = var;
                bestMask = mask;
            }
        }
        int[] out = new int[k];
        int j = 0;
        for (int i = 0; i < n; i++) if ((bestMask >> i & 1) != 0) out[j++] = rows[i];
        return out;
    }

    static Set<Integer> topK(double[] v, int k) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < v.length; i++) idx.add(i);
        idx.sort((a, b) -> Double.compare(v[b], v[a]));
        return new HashSet<>(idx.subList(0, k));
    }

    static double shared(int[] a, Set<Integer> b) {
        int c = 0;
        for (int x : a) if (b.contains(x)) c++;
        return (double) c / a.length;
    }

    static Set<Integer> set(int[] a) {
        Set<Integer> s = new HashSet<>();
        for (int x : a) s.add(x);
        return s;
    }

    /** The adaptive method's funnel may start below the shadow group's size: it is measured on the first G_max rows. */
    @Test
    void aSmallerFunnelIsMeasuredOnTheFirstRowsOfTheShadowGroup() {
        Random rnd = new Random(5);
        double[] finals = new double[12];
        double[][] proxies = new double[3][12];
        for (int r = 0; r < 12; r++) {
            finals[r] = rnd.nextGaussian();
            for (int i = 0; i < 3; i++) proxies[i][r] = finals[r] + rnd.nextGaussian();
        }
        ShadowGroup.Sampled sampled = new ShadowGroup.Sampled("p", new int[] {1, 2, 3}, proxies, finals, 7);
        PruneSchedule small = new PruneSchedule(9, new int[] {2}, new int[] {4}, 5, "ovf");
        ShadowGroup.Measurement m = sampled.measure(small, SubsetStrategy.OVF, new SplittableRandom(3));
        ShadowGroup.Measurement direct = ShadowGroup.measure("p", small, SubsetStrategy.OVF,
                new double[][] {java.util.Arrays.copyOf(proxies[1], 9)}, java.util.Arrays.copyOf(finals, 9), new SplittableRandom(3), 7);
        assertEquals(direct.checkpoints(), m.checkpoints());
        var e = assertThrows(IllegalArgumentException.class, () -> sampled.measure(new PruneSchedule(13, new int[] {2}, new int[] {4}, 5, "ovf"),
                SubsetStrategy.OVF, new SplittableRandom(3)));
        assertTrue(e.getMessage().contains("starts at 13 trajectories, the shadow group has 12"), e.getMessage());
    }

    @Test
    void figuresMatchAnIndependentRecomputationOnRandomGroups() {
        PruneSchedule schedule = new PruneSchedule(10, new int[] {2, 4}, new int[] {6, 3}, 6, "ovf");
        Random rnd = new Random(21);
        for (int trial = 0; trial < 40; trial++) {
            double[] finals = new double[10];
            double[][] proxies = new double[2][10];
            for (int r = 0; r < 10; r++) {
                finals[r] = rnd.nextGaussian();
                proxies[0][r] = 0.3 * finals[r] + rnd.nextGaussian();
                proxies[1][r] = 0.8 * finals[r] + 0.5 * rnd.nextGaussian();
            }
            ShadowGroup.Measurement m = ShadowGroup.measure("p", schedule, SubsetStrategy.OVF, proxies, finals,
                    new SplittableRandom(1), 123);
            assertEquals(2, m.checkpoints().size());
            int[] survivors = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
            for (int i = 0; i < 2; i++) {
                ShadowGroup.Checkpoint c = m.checkpoints().get(i);
                int k = schedule.survivors()[i];
                survivors = bruteForceOvf(proxies[i], survivors, k);
                assertEquals(schedule.checkpoints()[i], c.step());
                assertEquals(k, c.size());
                assertEquals(CorrelationOracle.pearson(proxies[i], finals), c.pearson(), 1e-9);
                assertEquals(CorrelationOracle.spearman(proxies[i], finals), c.spearman(), 1e-9);
                assertEquals(shared(survivors, topK(finals, k)), c.overlapBestK(), 1e-12, "trial " + trial + " checkpoint " + i);
                int[] all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
                assertEquals(shared(survivors, set(bruteForceOvf(finals, all, k))), c.overlapOvf(), 1e-12);
                assertEquals(k / 10.0, c.overlapChance(), 1e-15);
            }
            assertEquals(123, m.nfe());
        }
        // a perfect preview: the OVF subsets agree, best-k only on OVF's high tail
        double[] finals = {0, 1, 3, 6, 10, 15, 21, 28, 36, 45};   // no two subsets of one variance
        ShadowGroup.Checkpoint perfect = ShadowGroup.measure("p", schedule, SubsetStrategy.OVF,
                new double[][] {finals.clone(), finals.clone()}, finals, new SplittableRandom(1), 0).checkpoints().get(1);
        assertEquals(1.0, perfect.overlapOvf());
        assertEquals(1.0, perfect.spearman(), 1e-12);
        assertTrue(perfect.overlapBestK() < 1, "OVF keeps the low tail too: " + perfect.overlapBestK());
    }

    @Test
    void bestKBreaksTiesByTheLowerRowAndBadInputIsNamed() {
        assertArrayEquals(new int[] {1, 2}, ShadowGroup.bestK(new double[] {1, 3, 2, 2}, 2));
        assertArrayEquals(new int[] {0, 1, 3}, ShadowGroup.bestK(new double[] {5, 5, 1, 5, 5}, 3));
        assertEquals(0.5, ShadowGroup.overlap(new int[] {1, 2}, new int[] {2, 3}));
        var e = assertThrows(IllegalArgumentException.class, () -> ShadowGroup.overlap(new int[] {1}, new int[] {1, 2}));
        assertTrue(e.getMessage().contains("1 and 2"), e.getMessage());
        PruneSchedule schedule = new PruneSchedule(4, new int[] {1}, new int[] {2}, 3, "ovf");
        e = assertThrows(IllegalArgumentException.class, () -> ShadowGroup.measure("p", schedule, SubsetStrategy.OVF,
                new double[][] {{1, 2, 3, 4}}, new double[] {1, 2, 3}, new SplittableRandom(1), 0));
        assertTrue(e.getMessage().contains("4 final rewards") && e.getMessage().contains("got 3"), e.getMessage());
        assertTrue(ShadowGroup.due(true, 2, 0) && ShadowGroup.due(true, 2, 4) && !ShadowGroup.due(true, 2, 3));
        assertFalse(ShadowGroup.due(false, 1, 0), "a method that does not prune has no shadow group");
        assertFalse(ShadowGroup.due(true, 0, 0), "shadowEvery 0: never");
    }

    /** An independent Pearson (one-pass sums) and Spearman (counted ranks); shared with the agreement test. */
    static final class CorrelationOracle {
        static double pearson(double[] x, double[] y) {
            double n = x.length, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int i = 0; i < x.length; i++) {
                sx += x[i];
                sy += y[i];
                sxx += x[i] * x[i];
                syy += y[i] * y[i];
                sxy += x[i] * y[i];
            }
            return (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
        }

        static double spearman(double[] x, double[] y) {
            return pearson(ranks(x), ranks(y));
        }

        static double[] ranks(double[] v) {
            double[] r = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                int less = 0;
                int equal = 0;
                for (double w : v) {
                    if (w < v[i]) less++;
                    else if (w == v[i]) equal++;
                }
                r[i] = less + (equal - 1) / 2.0;
            }
            return r;
        }
    }

    // ------------------------------------------------------------------ the trainer

    static GrpoTrainer trainer(MicroBatchInvarianceTest.AffineVelocity policy, Method method, int shadowEvery) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 4.5, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 5, 0, Device.CPU, shadowEvery);
        PruneSchedule schedule = method.prunesDuringSampling()
                ? new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 5, "ovf") : PruneSchedule.none(8, 5);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(method, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                schedule, SubsetStrategy.byName("ovf"), false);
        return new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(), OneEpochPathTest.twoPartReward(),
                x -> x.clamp(-1e6, 1e6));
    }

    record Run(List<Map<String, Object>> metrics, float[] params) {}

    static Run run(Method method, int shadowEvery, int epochs) {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(policy, method, shadowEvery)) {
            List<Map<String, Object>> m = new ArrayList<>();
            for (int e = 0; e < epochs; e++) m.add(t.runEpoch(e, new Phases(p -> { })));
            Map<String, Tensor> p = policy.namedParameters();
            return new Run(m, new float[] {(float) p.get("w").item(), (float) p.get("u").item(), (float) p.get("b").item()});
        }
    }

    static Map<String, Object> withoutShadow(Map<String, Object> m) {
        Map<String, Object> c = new LinkedHashMap<>(m);
        c.remove("shadow");
        c.remove("shadow_nfe");
        return c;
    }

    @Test
    @SuppressWarnings("unchecked")
    void aRunWithShadowGroupsTrainsBitForBitLikeOneWithout() {
        Run plain = run(Method.PRO_GRPO, 0, 3);
        Run shadowed = run(Method.PRO_GRPO, 2, 3);
        assertArrayEquals(plain.params(), shadowed.params(), "the trained parameters, bit for bit");
        assertNotEquals(0.1f, plain.params()[0], "the runs trained");
        for (int e = 0; e < 3; e++) {
            assertEquals(plain.metrics().get(e), withoutShadow(shadowed.metrics().get(e)),
                    "epoch " + e + ": every other metric, rewards, counters and memory peaks included");
            assertFalse(plain.metrics().get(e).containsKey("shadow"));
            List<Map<String, Object>> cps = (List<Map<String, Object>>) plain.metrics().get(e).get("checkpoints");
            assertTrue(cps.get(0).containsKey("proxy_final_correlation_pooled"), cps.get(0).toString());
        }
        assertFalse(shadowed.metrics().get(1).containsKey("shadow"), "shadowEvery 2: epochs 0 and 2 only");
        for (int e : new int[] {0, 2}) {
            Map<String, Object> sh = (Map<String, Object>) shadowed.metrics().get(e).get("shadow");
            assertTrue(List.of("a", "b", "c", "d").contains(sh.get("prompt")), "a train prompt: " + sh.get("prompt"));
            // G_max rows x T steps x 2 (guidance)
            assertEquals(8L * 5 * 2, ((Number) sh.get("nfe")).longValue());
            assertEquals(sh.get("nfe"), shadowed.metrics().get(e).get("shadow_nfe"));
            List<Map<String, Object>> cps = (List<Map<String, Object>>) sh.get("checkpoints");
            assertEquals(2, cps.size());
            assertEquals(List.of(2, 4, 0.5), List.of(cps.get(0).get("step"), cps.get(0).get("size"), cps.get(0).get("overlap_chance")));
            assertEquals(List.of(3, 2, 0.25), List.of(cps.get(1).get("step"), cps.get(1).get("size"), cps.get(1).get("overlap_chance")));
            for (Map<String, Object> c : cps) {
                double r = ((Number) c.get("spearman")).doubleValue();
                assertTrue(r >= -1 - 1e-12 && r <= 1 + 1e-12, "spearman " + r);
                double o = ((Number) c.get("overlap_best_k")).doubleValue();
                assertTrue(o >= 0 && o <= 1, "overlap " + o);
            }
        }
    }

    @Test
    void aMethodThatDoesNotPruneHasNoShadowGroup() {
        Run plain = run(Method.FLOW_GRPO, 0, 1);
        Run shadowed = run(Method.FLOW_GRPO, 1, 1);
        assertFalse(shadowed.metrics().get(0).containsKey("shadow"), "flow-grpo ignores shadowEvery");
        assertFalse(shadowed.metrics().get(0).containsKey("shadow_nfe"));
        assertEquals(plain.metrics(), shadowed.metrics());
        assertArrayEquals(plain.params(), shadowed.params());
        var e = assertThrows(IllegalArgumentException.class, () -> new GrpoTrainer.Settings(5, 2, 1, true, 1.0, 1e-4, 5.0,
                GroupAdvantages.StdMode.GROUP, 0, 0.05, 0.9, 0.999, 0, 1.0, 5, 0, Device.CPU, -1));
        assertTrue(e.getMessage().contains("shadowEvery") && e.getMessage().contains("-1"), e.getMessage());
    }
}
