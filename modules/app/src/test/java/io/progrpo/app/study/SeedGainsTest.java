package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.TreeMap;

/** {@link SeedGains} and {@link SeedRun}: every figure recomputed here in plain double arithmetic, and the refusals. */
class SeedGainsTest {
    @TempDir
    Path tmp;

    private static double[] randomGains(Random rng, int n) {
        double[] g = new double[n];
        for (int i = 0; i < n; i++) g[i] = 0.05 + 0.05 * rng.nextGaussian();
        return g;
    }

    /** Plain recomputation: mean / sqrt(mean of squared deviations); NaN when all values are exactly equal. */
    private static double ratioByHand(double[] g) {
        if (java.util.Arrays.stream(g).distinct().count() < 2) return Double.NaN;
        double sum = 0;
        for (double x : g) sum += x;
        double mean = sum / g.length;
        double ss = 0;
        for (double x : g) ss += Math.pow(x - mean, 2);
        return mean / Math.sqrt(ss / g.length);
    }

    /** The q-quantile by the rank rule h = q (n - 1), from a boxed list sorted by Collections. */
    private static double quantileByHand(List<Double> values, double q) {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        double h = q * (s.size() - 1);
        double below = s.get((int) h);
        double above = s.get(Math.min((int) h + 1, s.size() - 1));
        return below + (h - (int) h) * (above - below);
    }

    @Test
    void ratioAndPopulationStdMatchAPlainRecomputationOnRandomGains() {
        Random rng = new Random(17);
        for (int trial = 0; trial < 50; trial++) {
            double[] g = randomGains(rng, 2 + rng.nextInt(20));
            assertEquals(ratioByHand(g), SeedGains.ratio(g), 1e-12);
            double mean = 0;
            for (double x : g) mean += x / g.length;
            double ss = 0;
            for (double x : g) ss += (x - mean) * (x - mean);
            assertEquals(Math.sqrt(ss / g.length), SeedGains.populationStd(g), 1e-14);
        }
        assertTrue(Double.isNaN(SeedGains.ratio(new double[] {0.1, 0.1, 0.1})), "no spread: no ratio");
        assertTrue(Double.isNaN(SeedGains.ratio(new double[0])));
    }

    @Test
    void percentileInterpolatesBetweenOrderStatistics() {
        double[] s = {1, 2, 3, 4};
        assertEquals(2.5, SeedGains.percentile(s, 0.5), 1e-15);
        assertEquals(1 + 0.075, SeedGains.percentile(s, 0.025), 1e-12);
        assertEquals(4 - 0.075, SeedGains.percentile(s, 0.975), 1e-12);
        assertEquals(7.0, SeedGains.percentile(new double[] {7}, 0.975), 0);
    }

    @Test
    void bootstrapMatchesAnIndependentResamplingWithTheSameDraws() {
        Random rng = new Random(5);
        for (int trial = 0; trial < 5; trial++) {
            double[] a = randomGains(rng, 3 + rng.nextInt(10));
            double[] b = randomGains(rng, a.length);
            long seed = rng.nextLong();
            int resamples = 2000;
            SplittableRandom draws = new SplittableRandom(seed);
            List<Double> single = new ArrayList<>();
            List<Double> diff = new ArrayList<>();
            for (int r = 0; r < resamples; r++) {
                double[] ra = new double[a.length];
                double[] rb = new double[a.length];
                for (int i = 0; i < a.length; i++) {
                    int k = draws.nextInt(a.length);
                    ra[i] = a[k];
                    rb[i] = b[k];
                }
                single.add(ratioByHand(ra));
                diff.add(ratioByHand(ra) - ratioByHand(rb));
            }
            single.removeIf(x -> Double.isNaN(x));
            diff.removeIf(x -> Double.isNaN(x));
            SeedGains.Interval one = SeedGains.bootstrapRatio(a, resamples, seed);
            assertEquals(quantileByHand(single, 0.025), one.low(), 1e-12);
            assertEquals(quantileByHand(single, 0.975), one.high(), 1e-12);
            assertEquals(single.size(), one.used());
            SeedGains.Interval two = SeedGains.bootstrapRatioDifference(a, b, resamples, seed);
            assertEquals(quantileByHand(diff, 0.025), two.low(), 1e-12);
            assertEquals(quantileByHand(diff, 0.975), two.high(), 1e-12);
        }
    }

    @Test
    void bootstrapIsScaleFreeAndAnArmAgainstItselfDiffersByZero() {
        double[] g = randomGains(new Random(3), 10);
        double[] scaled = g.clone();
        for (int i = 0; i < g.length; i++) scaled[i] *= 7.5;
        SeedGains.Interval a = SeedGains.bootstrapRatio(g, 3000, 9);
        SeedGains.Interval b = SeedGains.bootstrapRatio(scaled, 3000, 9);
        assertEquals(a.low(), b.low(), 1e-9);
        assertEquals(a.high(), b.high(), 1e-9);
        assertTrue(a.low() < SeedGains.ratio(g) && SeedGains.ratio(g) < a.high(), a + " should hold the estimate " + SeedGains.ratio(g));
        SeedGains.Interval self = SeedGains.bootstrapRatioDifference(g, g, 3000, 9);
        assertEquals(0, self.low(), 0);
        assertEquals(0, self.high(), 0);
    }

    @Test
    void resamplesWithoutSpreadAreLeftOutAndCounted() {
        SeedGains.Interval i = SeedGains.bootstrapRatio(new double[] {0.1, 0.3}, 4000, 2);
        assertTrue(i.used() > 1700 && i.used() < 2300, "about half of the two-seed resamples repeat one seed: " + i.used());
        SeedGains.Interval none = SeedGains.bootstrapRatio(new double[] {0.2, 0.2}, 100, 2);
        assertEquals(0, none.used());
        assertTrue(Double.isNaN(none.low()));
        assertThrows(IllegalArgumentException.class, () -> SeedGains.bootstrapRatio(new double[] {0.1}, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> SeedGains.bootstrapRatioDifference(new double[2], new double[3], 10, 1));
    }

    private List<SeedRun> arm(String name, long firstSeed, double[] finals, double base) throws IOException {
        List<SeedRun> runs = new ArrayList<>();
        for (int i = 0; i < finals.length; i++) {
            Path d = SeedRunFixture.write(tmp.resolve(name).resolve("runs").resolve("flow-grpo-seed" + i), "flow-grpo", firstSeed + i, base,
                    Map.of(2, base + finals[i] / 2, 5, base + finals[i]));
            runs.add(SeedRun.read(d));
        }
        return runs;
    }

    @Test
    void anArmsFiguresAreTheGainsOverItsBaseAtTheLastEpoch() throws IOException {
        double[] g = randomGains(new Random(11), 8);
        SeedGains.Arm a = SeedGains.arm("a", arm("a", 100, g, -2.0), null, 1000, 1);
        assertEquals(5, a.epoch());
        for (int i = 0; i < g.length; i++) assertEquals(g[i], a.gains()[i], 1e-12);
        assertEquals(ratioByHand(g), a.ratio(), 1e-9);
        double mean = 0;
        for (double x : g) mean += x / g.length;
        double ss = 0;
        for (double x : g) ss += (x - mean) * (x - mean);
        assertEquals(mean, a.gain().mean(), 1e-12);
        assertEquals(Math.sqrt(ss / (g.length - 1) / g.length), a.gain().se(), 1e-12);
        assertEquals(List.of(2, 5), List.copyOf(a.ratioByEpoch().keySet()));
        assertEquals(ratioByHand(g), a.ratioByEpoch().get(2), 1e-9, "halved gains have the same ratio");
        assertEquals(-2.0, a.base(), 0);
        assertEquals(6 * 100, a.runs().getFirst().nfeSampling(), "the fixture's 6 epoch lines of 100 each");
        assertEquals(10 + 11 + 12 + 13 + 14 + 15, a.runs().getFirst().nfeTraining());
        SeedGains.Arm early = SeedGains.arm("a", arm("b", 100, g, -2.0), 2, 1000, 1);
        assertEquals(g[3] / 2, early.gains()[3], 1e-12);
    }

    @Test
    void pairingGoesBySeedAndReportsTheUnpairedOnes() throws IOException {
        Random rng = new Random(23);
        double[] ga = randomGains(rng, 6);
        double[] gb = randomGains(rng, 6);
        List<SeedRun> a = new ArrayList<>(arm("a", 10, ga, -2.0));   // seeds 10..15
        Collections.reverse(a);
        List<SeedRun> b = arm("b", 12, gb, -2.0005);                  // seeds 12..17
        SeedGains.Paired p = SeedGains.paired(SeedGains.arm("a", a, null, 500, 1), SeedGains.arm("b", b, null, 500, 1), 500, 1);
        assertEquals(4, p.seeds().length);
        double[] d = new double[4];
        double[] pa = new double[4];
        double[] pb = new double[4];
        for (int i = 0; i < 4; i++) {
            assertEquals(12 + i, p.seeds()[i]);
            pa[i] = ga[2 + i];
            pb[i] = gb[i];
            d[i] = pa[i] - pb[i];
        }
        double mean = (d[0] + d[1] + d[2] + d[3]) / 4;
        double ss = 0;
        for (double x : d) ss += (x - mean) * (x - mean);
        assertEquals(mean, p.gain().mean(), 1e-12);
        assertEquals(Math.sqrt(ss / 3) / 2, p.gain().se(), 1e-12);
        assertEquals(ratioByHand(pa) - ratioByHand(pb), p.ratioDifference(), 1e-9);
        assertEquals(List.of(10L, 11L), p.armOnly());
        assertEquals(List.of(16L, 17L), p.baselineOnly());
    }

    @Test
    void badArmsAreRefusedWithWhatWasFound() throws IOException {
        List<SeedRun> a = arm("a", 1, new double[] {0.1, 0.2}, -2.0);
        List<SeedRun> twice = new ArrayList<>(a);
        twice.addAll(arm("again", 1, new double[] {0.3}, -2.0));
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> SeedGains.arm("x", twice, null, 10, 1));
        assertTrue(dup.getMessage().contains("seed 1 is run twice"), dup.getMessage());

        List<SeedRun> otherBase = new ArrayList<>(a);
        otherBase.addAll(arm("c", 50, new double[] {0.3}, -2.5));
        IllegalArgumentException base = assertThrows(IllegalArgumentException.class, () -> SeedGains.arm("x", otherBase, null, 10, 1));
        assertTrue(base.getMessage().contains("different base models") && base.getMessage().contains("-2.5"), base.getMessage());

        List<SeedRun> mixed = new ArrayList<>(a);
        mixed.add(SeedRun.read(SeedRunFixture.write(tmp.resolve("p"), "pro-grpo", 70, -2.0, Map.of(5, -1.9))));
        IllegalArgumentException methods = assertThrows(IllegalArgumentException.class, () -> SeedGains.arm("x", mixed, null, 10, 1));
        assertTrue(methods.getMessage().contains("two methods") && methods.getMessage().contains("--method"), methods.getMessage());

        List<SeedRun> short1 = new ArrayList<>(a);
        short1.add(SeedRun.read(SeedRunFixture.write(tmp.resolve("s"), "flow-grpo", 80, -2.0, Map.of(2, -1.9))));
        IllegalArgumentException unfinished = assertThrows(IllegalArgumentException.class, () -> SeedGains.arm("x", short1, null, 10, 1));
        assertTrue(unfinished.getMessage().contains("end at different epochs") && unfinished.getMessage().contains("unfinished"),
                unfinished.getMessage());
        IllegalArgumentException lacks = assertThrows(IllegalArgumentException.class, () -> SeedGains.arm("x", short1, 5, 10, 1));
        assertTrue(lacks.getMessage().contains("no evaluation at epoch 5"), lacks.getMessage());
        assertEquals(3, SeedGains.arm("x", short1, 2, 10, 1).gains().length, "an epoch all runs evaluated compares them there");

        List<SeedRun> longer = new ArrayList<>(a);
        longer.add(SeedRun.read(SeedRunFixture.write(tmp.resolve("long"), "flow-grpo", 90, -2.0, Map.of(2, -1.9, 5, -1.8, 8, -1.7))));
        IllegalArgumentException mixedLengths = assertThrows(IllegalArgumentException.class, () -> SeedGains.arm("x", longer, null, 10, 1));
        assertTrue(mixedLengths.getMessage().contains("after epoch 8"), "a longer run is not compared early without a word: "
                + mixedLengths.getMessage());

        SeedGains.Arm left = SeedGains.arm("l", a, null, 10, 1);
        SeedGains.Arm far = SeedGains.arm("f", arm("f", 1, new double[] {0.1, 0.2}, -3.0), null, 10, 1);
        assertThrows(IllegalArgumentException.class, () -> SeedGains.paired(left, far, 10, 1));
        SeedGains.Arm disjoint = SeedGains.arm("d", arm("d", 900, new double[] {0.1, 0.2}, -2.0), null, 10, 1);
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> SeedGains.paired(left, disjoint, 10, 1));
        assertTrue(none.getMessage().contains("share no seed"), none.getMessage());
    }

    @Test
    void runsAreFoundInEveryLayoutAndBadFilesAreRefused() throws IOException {
        arm("demo", 1, new double[] {0.1, 0.2, 0.3}, -2.0);
        Files.writeString(tmp.resolve("demo/runs/flow-grpo-seed0.log"), "a log, not a run");
        assertEquals(3, SeedRun.find(tmp.resolve("demo")).size(), "a demo's output: runs/*");
        assertEquals(3, SeedRun.find(tmp.resolve("demo/runs")).size(), "a directory of runs");
        assertEquals(1, SeedRun.find(tmp.resolve("demo/runs/flow-grpo-seed1")).size(), "one run");
        assertEquals(2, SeedRun.find(tmp.resolve("demo/runs/flow-grpo-seed1")).getFirst().seed());

        Path study = tmp.resolve("study/seed-0");
        SeedRunFixture.write(study, "flow-grpo", 4, -2.0, Map.of(3, -1.8));
        Files.move(study.resolve("checkpoint/config.json"), study.resolve("config.json"));
        assertEquals(4, SeedRun.read(study).seed(), "a study run keeps config.json beside metrics.jsonl");

        IOException empty = assertThrows(IOException.class, () -> SeedRun.find(Files.createDirectories(tmp.resolve("empty"))));
        assertTrue(empty.getMessage().contains("holds no run"), empty.getMessage());
        assertThrows(IOException.class, () -> SeedRun.find(tmp.resolve("missing")));

        Path noConfig = SeedRunFixture.write(tmp.resolve("nc"), "flow-grpo", 5, -2.0, Map.of(1, -1.9));
        Files.delete(noConfig.resolve("checkpoint/config.json"));
        IOException nc = assertThrows(IOException.class, () -> SeedRun.read(noConfig));
        assertTrue(nc.getMessage().contains("seed cannot be known"), nc.getMessage());

        Path badSeed = SeedRunFixture.write(tmp.resolve("bs"), "flow-grpo", 5, -2.0, Map.of(1, -1.9));
        Files.writeString(badSeed.resolve("checkpoint/config.json"), "{\"method\":\"flow-grpo\",\"seed\":\"five\"}");
        assertTrue(assertThrows(IOException.class, () -> SeedRun.read(badSeed)).getMessage().contains("no integer 'seed'"));

        Path corrupt = SeedRunFixture.write(tmp.resolve("co"), "flow-grpo", 5, -2.0, Map.of(1, -1.9));
        Files.writeString(corrupt.resolve("metrics.jsonl"), "{\"epoch\":-1,\"eval_reward\":-2.0}\n{\"epoch\":0,\"eval_rew", java.nio.charset.StandardCharsets.UTF_8);
        IOException co = assertThrows(IOException.class, () -> SeedRun.read(corrupt));
        assertTrue(co.getMessage().contains("line 2 is not a JSON object"), co.getMessage());

        Path noBase = SeedRunFixture.write(tmp.resolve("nb"), "flow-grpo", 5, -2.0, Map.of(1, -1.9));
        Files.writeString(noBase.resolve("metrics.jsonl"), "{\"epoch\":0,\"reward_mean\":-1.0}\n{\"epoch\":1,\"eval_reward\":-1.9}\n");
        IOException nb = assertThrows(IOException.class, () -> SeedRun.read(noBase));
        assertTrue(nb.getMessage().contains("no evaluation of the base model"), nb.getMessage());
    }
}
