package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.MultiReward.Aggregation;
import io.progrpo.reward.MultiReward.Term;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class MultiRewardTest {
    record Fixed(String name, double[] scores) implements RewardFunction {
        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            return RewardOutput.of(scores);
        }
    }

    private static final int GROUPS = 4;
    private static final int GROUP_SIZE = 6;
    private static final int N = GROUPS * GROUP_SIZE;

    private static int[] groupIds() {
        int[] g = new int[N];
        // interleaved, so the formula cannot rely on groups being contiguous
        for (int i = 0; i < N; i++) g[i] = 10 + i % GROUPS;
        return g;
    }

    @Test
    void bothAggregationsMatchAHandComputation() {
        Random rnd = new Random(42);
        for (int trial = 0; trial < 20; trial++) {
            double[][] raw = new double[3][N];
            double[] w = {rnd.nextGaussian(), rnd.nextDouble(), 0.1};
            for (int r = 0; r < 3; r++) for (int i = 0; i < N; i++) raw[r][i] = rnd.nextGaussian() * (r + 1) * 10 + r;
            List<Term> terms = List.of(new Term(new Fixed("a", raw[0]), w[0]), new Term(new Fixed("b", raw[1]), w[1]),
                    new Term(new Fixed("c", raw[2]), w[2]));
            int[] groups = groupIds();

            double[] expectSum = new double[N];
            double[] expectAdv = new double[N];
            for (int i = 0; i < N; i++) {
                for (int r = 0; r < 3; r++) {
                    expectSum[i] += w[r] * raw[r][i];
                    // group of i: every j with the same id; population mean and std
                    double sum = 0;
                    int count = 0;
                    for (int j = 0; j < N; j++) if (groups[j] == groups[i]) { sum += raw[r][j]; count++; }
                    double mean = sum / count;
                    double ss = 0;
                    for (int j = 0; j < N; j++) if (groups[j] == groups[i]) ss += (raw[r][j] - mean) * (raw[r][j] - mean);
                    double std = Math.sqrt(ss / count);
                    expectAdv[i] += w[r] * (raw[r][i] - mean) / (std + 1e-4);
                }
            }
            try (Scope _ = Scope.open()) {
                Tensor images = Tensor.zeros(N, 3, 2, 2);
                List<String> prompts = Collections.nCopies(N, "p");
                MultiRewardOutput sum = new MultiReward(terms, Aggregation.WEIGHTED_SUM).scoreDetailed(images, prompts, null);
                MultiRewardOutput adv = new MultiReward(terms, Aggregation.ADVANTAGE_SUM).scoreDetailed(images, prompts, groups);
                assertArrayEquals(expectSum, sum.scores(), 1e-9);
                assertArrayEquals(expectAdv, adv.scores(), 1e-9);
                assertArrayEquals(raw[1], adv.raw("b"), 0);
                assertTrue(sum.advantages().isEmpty());
                assertEquals(List.of("a", "b", "c"), List.copyOf(adv.advantages().keySet()));
                // per-reward statistics
                Map<String, Double> summary = adv.summary();
                for (int r = 0; r < 3; r++) {
                    String name = String.valueOf((char) ('a' + r));
                    double mean = 0;
                    for (double v : raw[r]) mean += v / N;
                    double var = 0;
                    for (double v : raw[r]) var += (v - mean) * (v - mean) / N;
                    assertEquals(mean, summary.get(name + "/mean"), 1e-9);
                    assertEquals(Math.sqrt(var), summary.get(name + "/std"), 1e-9);
                }
                assertTrue(summary.containsKey("total/mean") && summary.containsKey("total/std"));
            }
            assertArrayEquals(expectAdv, MultiReward.aggregate(Aggregation.ADVANTAGE_SUM, w, raw, groups), 1e-9);
        }
    }

    @Test
    void groupWithEqualRewardsGetsZeroAdvantage() {
        double[] a = MultiReward.aggregate(Aggregation.ADVANTAGE_SUM, new double[] {1}, new double[][] {{3, 3, 3, 1, 2}},
                new int[] {0, 0, 0, 1, 1});
        assertArrayEquals(new double[] {0, 0, 0, -0.5 / (0.5 + 1e-4), 0.5 / (0.5 + 1e-4)}, a, 1e-12);
    }

    @Test
    void parsesJsonLikeAndKeyValueSpecs() {
        Map<String, Double> expect = new LinkedHashMap<>();
        expect.put("alignment", 1.0);
        expect.put("jpeg_compressibility", 0.1);
        assertEquals(expect, MultiReward.parseWeights("{\"alignment\": 1.0, \"jpeg_compressibility\": 0.1}"));
        assertEquals(expect, MultiReward.parseWeights("alignment=1, jpeg_compressibility:0.1"));
        assertEquals(Map.of("alignment", 1.0), MultiReward.parseWeights("alignment"));
        MultiReward m = MultiReward.parse("{\"jpeg_incompressibility\": 1.0, \"jpeg_compressibility\": -0.5}", Aggregation.WEIGHTED_SUM);
        assertEquals("jpeg_incompressibility*1.0 + jpeg_compressibility*-0.5 (WEIGHTED_SUM)", m.describe());
        try (Scope _ = Scope.open()) {
            MultiRewardOutput out = m.scoreDetailed(Tensor.zeros(2, 3, 16, 16), List.of("a red circle at the left", "a blue cross at the top"), null);
            double[] al = out.raw("jpeg_incompressibility");
            double[] jp = out.raw("jpeg_compressibility");
            for (int i = 0; i < 2; i++) assertEquals(al[i] - 0.5 * jp[i], out.scores()[i], 1e-12);
            assertTrue(out.summary().containsKey("jpeg_incompressibility/mean") && out.summary().containsKey("total/std"), out.summary().toString());
        }
    }

    @Test
    void nonFiniteWeightsAreRejectedNamingTheReward() {
        var e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights("{\"alignment\": NaN}"));
        assertTrue(e.getMessage().contains("'alignment'") && e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parse("jpeg_compressibility=Infinity", Aggregation.WEIGHTED_SUM));
        assertTrue(e.getMessage().contains("'jpeg_compressibility'") && e.getMessage().contains("Infinity"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Term(new Fixed("x", new double[0]), Double.NEGATIVE_INFINITY));
        assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("-Infinity"), e.getMessage());
        Map<String, Double> weights = new LinkedHashMap<>();
        weights.put("jpeg_compressibility", Double.NaN);
        e = assertThrows(IllegalArgumentException.class, () -> MultiReward.of(weights, Aggregation.WEIGHTED_SUM));
        assertTrue(e.getMessage().contains("'jpeg_compressibility'") && e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights("alignment: lots"));
        assertTrue(e.getMessage().contains("'lots'"), e.getMessage());
        // Double.parseDouble would read these; a weight is a plain decimal number
        for (String w : List.of("0x1p3", "1f", "2d", "1e400")) {
            e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights("alignment=" + w));
            assertTrue(e.getMessage().contains("'alignment'"), e.getMessage());
        }
        assertEquals(Map.of("alignment", -0.5), MultiReward.parseWeights("alignment=-.5"));
    }

    @Test
    void badSpecsAndInputsAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parse("{\"aesthetic\": 1}", Aggregation.WEIGHTED_SUM));
        assertTrue(e.getMessage().contains("'aesthetic'") && e.getMessage().contains("jpeg_compressibility"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights("a=1, a=2"));
        assertTrue(e.getMessage().contains("'a' appears twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights("{ }"));
        assertTrue(e.getMessage().contains("names no reward"), e.getMessage());
        MultiReward adv = new MultiReward(List.of(new Term(new Fixed("a", new double[] {1, 2}), 1)), Aggregation.ADVANTAGE_SUM);
        try (Scope _ = Scope.open()) {
            Tensor images = Tensor.zeros(2, 3, 2, 2);
            e = assertThrows(IllegalArgumentException.class, () -> adv.scoreDetailed(images, List.of("p", "q"), null));
            assertTrue(e.getMessage().contains("group ids"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> adv.scoreDetailed(images, List.of("p", "q"), new int[3]));
            assertTrue(e.getMessage().contains("expected 2 group ids") && e.getMessage().contains("got 3"), e.getMessage());
            MultiReward nan = new MultiReward(List.of(new Term(new Fixed("bad", new double[] {1, Double.NaN}), 1)), Aggregation.WEIGHTED_SUM);
            var ise = assertThrows(IllegalStateException.class, () -> nan.scoreDetailed(images, List.of("p", "q"), null));
            assertTrue(ise.getMessage().contains("'bad'") && ise.getMessage().contains("index 1") && ise.getMessage().contains("NaN"), ise.getMessage());
        }
    }

    /** A reward that records the group ids it was called with (null for the two-argument call). */
    static final class GroupRecorder implements RewardFunction {
        final String name;
        final double[] scores;
        final List<int[]> calls = new java.util.ArrayList<>();

        GroupRecorder(String name, double[] scores) {
            this.name = name;
            this.scores = scores;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            calls.add(null);
            return RewardOutput.of(scores);
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts, int[] groupIds) {
            calls.add(groupIds.clone());
            groupIds[0] = -99; // a reward that writes into its argument must not reach the caller's array
            return RewardOutput.of(scores);
        }
    }

    /**
     * As a RewardFunction, a multi-reward passes the caller's group ids to every reward and normalises within exactly
     * those groups (not within the prompts' groups); without ids, equal prompts form a group. Its output is the combined
     * score with each reward's raw scores as metrics. Checked against a double-precision recomputation.
     */
    @Test
    void theGroupIdsOfTheCallReachEveryRewardAndDefineTheGroups() {
        Random rnd = new Random(16);
        for (int trial = 0; trial < 10; trial++) {
            double[] ra = new double[N];
            double[] rb = new double[N];
            for (int i = 0; i < N; i++) {
                ra[i] = rnd.nextGaussian();
                rb[i] = 10 * rnd.nextGaussian() + 3;
            }
            GroupRecorder a = new GroupRecorder("a", ra);
            GroupRecorder b = new GroupRecorder("b", rb);
            RewardFunction multi = new MultiReward(List.of(new Term(a, 1.0), new Term(b, 0.5)), Aggregation.ADVANTAGE_SUM);
            int[] groups = groupIds();
            int[] callersIds = groups.clone();
            // every image has the same prompt: only the ids can tell the groups apart
            List<String> prompts = Collections.nCopies(N, "one prompt");
            try (Scope _ = Scope.open()) {
                Tensor images = Tensor.zeros(N, 3, 2, 2);
                RewardOutput out = multi.scoreChecked(images, prompts, groups);
                assertArrayEquals(callersIds, groups, "the caller's ids are not changed");
                assertEquals(1, a.calls.size());
                assertArrayEquals(callersIds, a.calls.get(0));
                assertArrayEquals(callersIds, b.calls.get(0));
                double[] expect = new double[N];
                for (int i = 0; i < N; i++) expect[i] = zScore(ra, groups, i) + 0.5 * zScore(rb, groups, i);
                assertArrayEquals(expect, out.scores(), 1e-9);
                assertArrayEquals(ra, out.metrics().get("a"), 0);
                assertArrayEquals(rb, out.metrics().get("b"), 0);
                assertEquals("a*1.0 + b*0.5 (ADVANTAGE_SUM)", multi.name());

                // without ids the prompts decide: one prompt, one group of all N images
                RewardOutput byPrompt = multi.score(images, prompts);
                int[] oneGroup = new int[N];
                for (int i = 0; i < N; i++) expect[i] = zScore(ra, oneGroup, i) + 0.5 * zScore(rb, oneGroup, i);
                assertArrayEquals(expect, byPrompt.scores(), 1e-9);
                assertArrayEquals(oneGroup, a.calls.get(1), "the prompts' groups are passed on");
                RewardFunction sum = new MultiReward(List.of(new Term(a, 1.0)), Aggregation.WEIGHTED_SUM);
                assertArrayEquals(ra, sum.score(images, prompts).scores(), 0);
                assertTrue(a.calls.get(2) == null, "a weighted sum without ids calls its rewards without ids");
            }
        }
        var bad = new MultiReward(List.of(new Term(new Fixed("a", new double[2]), 1)), Aggregation.WEIGHTED_SUM);
        try (Scope _ = Scope.open()) {
            Tensor images = Tensor.zeros(2, 3, 2, 2);
            var e = assertThrows(IllegalArgumentException.class, () -> bad.scoreChecked(images, List.of("p", "q"), new int[3]));
            assertTrue(e.getMessage().contains("2 images and 3 group ids"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> bad.scoreChecked(images, List.of("p", "q"), null));
            assertTrue(e.getMessage().contains("null group ids"), e.getMessage());
            // a plain reward's group-aware entry point is its two-argument one
            assertArrayEquals(new double[2], new Fixed("a", new double[2]).scoreChecked(images, List.of("p", "q"), new int[] {4, 4}).scores());
        }
    }

    /** (r_i - mean_g) / (std_g + 1e-4) over the images with i's id, population std, in plain double loops. */
    private static double zScore(double[] r, int[] ids, int i) {
        double sum = 0;
        int n = 0;
        for (int j = 0; j < r.length; j++) if (ids[j] == ids[i]) { sum += r[j]; n++; }
        double mean = sum / n;
        double ss = 0;
        for (int j = 0; j < r.length; j++) if (ids[j] == ids[i]) ss += (r[j] - mean) * (r[j] - mean);
        return (r[i] - mean) / (Math.sqrt(ss / n) + 1e-4);
    }

    /**
     * The one reward-spec grammar (the trainer's reward field is read by it): what the trainer's former parser
     * accepted is read the same, what it refused is refused, each error naming the entry.
     */
    @Test
    void oneGrammarForEveryRewardSpec() {
        Map<String, Double> two = new LinkedHashMap<>();
        two.put("a", 0.5);
        two.put("b_c", -2.0);
        for (String spec : List.of("a:0.5, b_c:-2", "a=0.5,b_c=-2", "{\"a\": 0.5, \"b_c\": -2}", " a : 0.5 , b_c : -2e0 ", "{'a': .5, b_c: -2.}")) {
            assertEquals(two, MultiReward.parseWeights(spec), spec);
            assertEquals(List.of("a", "b_c"), List.copyOf(MultiReward.parseWeights(spec).keySet()), spec);
        }
        assertEquals(Map.of("scene_preference", 1.0), MultiReward.parseWeights("scene_preference"));
        assertEquals(Map.of("x-1", 1.0), MultiReward.parseWeights("x-1:+1"));
        // spec -> what the message names
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("Alignment", "'Alignment'");
        bad.put("alignment,", "empty entry");
        bad.put(",alignment", "empty entry");
        bad.put("a,,b", "empty entry");
        bad.put("alignment:", "got ''");
        bad.put("alignment:abc", "'abc'");
        bad.put("alignment:1e400", "got '1e400'");
        bad.put("alignment:0x1p1", "finite decimal number such as 0.1, got '0x1p1'");
        bad.put("alignment:1,alignment:2", "'alignment' appears twice");
        bad.put("my.reward", "'my.reward'");
        bad.put("1abc", "'1abc'");
        bad.put(":1", "got name ''");
        bad.put("", "names no reward");
        bad.put("{}", "names no reward");
        bad.forEach((spec, fragment) -> {
            var e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights(spec), spec);
            assertTrue(e.getMessage().contains(fragment), spec + ": " + e.getMessage());
        });
        var e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }
}
