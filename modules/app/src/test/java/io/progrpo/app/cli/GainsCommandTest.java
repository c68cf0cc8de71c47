package io.progrpo.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.app.study.SeedGains;
import io.progrpo.app.study.SeedRunFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** {@code progrpo gains}: the figures it prints and writes, pooling, --method, and the one-line refusals (status 2). */
class GainsCommandTest {
    @TempDir
    Path tmp;

    private static final double BASE = -2.0082;
    private static final double[] ARM = {0.113, 0.109, 0.016, 0.054, 0.134};
    private static final double[] BASELINE = {0.060, 0.095, -0.072, -0.011, 0.164};

    /** A demo's output with one method's runs on seeds first..first+n-1, final gains {@code g}. */
    private Path demo(String name, String method, long first, double[] g) throws Exception {
        for (int i = 0; i < g.length; i++) {
            SeedRunFixture.write(tmp.resolve(name).resolve("runs").resolve(method + "-seed" + i), method, first + i, BASE,
                    Map.of(2, BASE + g[i] / 3, 11, BASE + g[i]));
        }
        return tmp.resolve(name);
    }

    @Test
    void printsEachSeedTheRatioAndThePairedDifferenceAndWritesTheSameAsJson() throws Exception {
        Path a = demo("a", "flow-grpo", 1000, ARM);
        Path b = demo("b", "flow-grpo", 1000, BASELINE);
        Path json = tmp.resolve("out/gains.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = CliHarness.run(out, err, "gains", "--runs", a.toString(), "--baseline", b.toString(), "--resamples", "4000",
                "--json", json.toString());
        assertEquals(0, rc, err.toString());
        String text = out.toString();
        double ratio = SeedGains.ratio(ARM);
        assertTrue(text.contains(String.format(java.util.Locale.ROOT, "gain / population seed std %.2f", ratio)), text);
        assertTrue(text.contains("1004       -1.8742   +0.1340"), text);
        assertTrue(text.contains("epoch 11 = after 12 updates"), text);
        assertTrue(text.contains("paired (arm minus baseline, 5 seeds)"), text);
        assertTrue(text.contains("compute: 1,386 network evaluations per run (sampling 1,200 + training 186)"), text);
        assertTrue(text.contains("ratio by epoch: 2: " + String.format(java.util.Locale.ROOT, "%.2f", ratio)), text);

        JsonNode j = new ObjectMapper().readTree(json.toFile());
        double mean = 0;
        for (double g : ARM) mean += g / ARM.length;
        assertEquals(mean, j.at("/arm/mean_gain").asDouble(), 1e-9);
        assertEquals(ratio, j.at("/arm/ratio").asDouble(), 1e-9);
        assertEquals(SeedGains.ratio(ARM) - SeedGains.ratio(BASELINE), j.at("/paired/ratio_difference").asDouble(), 1e-9);
        double d = 0;
        for (int i = 0; i < ARM.length; i++) d += (ARM[i] - BASELINE[i]) / ARM.length;
        assertEquals(d, j.at("/paired/gain_difference_mean").asDouble(), 1e-9);
        assertEquals(5, j.at("/paired/seeds").size());
        assertEquals(1004, j.at("/arm/runs/4/seed").asLong());
        assertEquals(1200, j.at("/arm/nfe_sampling_per_run").asDouble(), 0);
    }

    @Test
    void severalDirectoriesPoolIntoOneArmAndMethodPicksOne() throws Exception {
        Path a = demo("p", "flow-grpo", 1000, ARM);
        demo("p", "pro-grpo", 1000, BASELINE);
        Path c = demo("q", "flow-grpo", 2000, BASELINE);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, CliHarness.run(out, err, "gains", "--runs", a.toString(), c.toString(), "--method", "flow-grpo",
                "--resamples", "100"), err.toString());
        double[] pooled = new double[10];
        System.arraycopy(ARM, 0, pooled, 0, 5);
        System.arraycopy(BASELINE, 0, pooled, 5, 5);
        assertTrue(out.toString().contains("(10 runs, method flow-grpo"), out.toString());
        assertTrue(out.toString().contains(String.format(java.util.Locale.ROOT, "seed std %.2f", SeedGains.ratio(pooled))), out.toString());

        StringWriter mixed = new StringWriter();
        assertEquals(Main.EXIT_USAGE, CliHarness.run(new StringWriter(), mixed, "gains", "--runs", a.toString()));
        assertTrue(mixed.toString().startsWith("error: ") && mixed.toString().contains("two methods"), mixed.toString());

        StringWriter none = new StringWriter();
        assertEquals(Main.EXIT_USAGE, CliHarness.run(new StringWriter(), none, "gains", "--runs", a.toString(), "--method", "dance-grpo"));
        assertTrue(none.toString().contains("no run of method dance-grpo") && none.toString().contains("[flow-grpo, pro-grpo]"), none.toString());
    }

    @Test
    void armsOfDifferentLengthsCompareTheirFinalModelsUnlessAnEpochIsGiven() throws Exception {
        Path a = demo("short", "flow-grpo", 1000, ARM);                       // evaluations after epochs 2 and 11
        for (int i = 0; i < BASELINE.length; i++) {
            SeedRunFixture.write(tmp.resolve("long/runs/flow-grpo-seed" + i), "flow-grpo", 1000 + i, BASE,
                    Map.of(2, BASE + BASELINE[i] / 3, 23, BASE + BASELINE[i]));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, CliHarness.run(out, err, "gains", "--runs", tmp.resolve("long").toString(), "--baseline", a.toString(),
                "--resamples", "100"), err.toString());
        assertTrue(out.toString().contains("epoch 23 = after 24 updates") && out.toString().contains("epoch 11 = after 12 updates"), out.toString());
        double d = 0;
        for (int i = 0; i < ARM.length; i++) d += (BASELINE[i] - ARM[i]) / ARM.length;
        assertTrue(out.toString().contains(String.format(java.util.Locale.ROOT, "difference %+.4f", d)), out.toString());

        StringWriter early = new StringWriter();
        assertEquals(0, CliHarness.run(early, new StringWriter(), "gains", "--runs", tmp.resolve("long").toString(), "--baseline",
                a.toString(), "--epoch", "2", "--resamples", "100"));
        assertTrue(early.toString().contains(String.format(java.util.Locale.ROOT, "difference %+.4f", d / 3)), early.toString());
    }

    @Test
    void badInputIsOneLineWithStatusTwo() throws Exception {
        Path a = demo("x", "flow-grpo", 1000, ARM);
        Path other = demo("y", "flow-grpo", 5000, BASELINE);
        String[][] cases = {
                {"gains", "--runs", tmp.resolve("nowhere").toString()},
                {"gains", "--runs", a.toString(), "--baseline", other.toString()},
                {"gains", "--runs", a.toString(), "--epoch", "-1"},
                {"gains", "--runs", a.toString(), "--epoch", "5"},
                {"gains", "--runs", a.toString(), "--resamples", "0"},
        };
        String[] expected = {"is not a directory", "share no seed", "--epoch must be >= 0", "no evaluation at epoch 5", "--resamples must be >= 1"};
        for (int i = 0; i < cases.length; i++) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            assertEquals(Main.EXIT_USAGE, CliHarness.run(out, err, cases[i]), String.join(" ", cases[i]));
            assertTrue(err.toString().startsWith("error: ") && err.toString().contains(expected[i]), err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertEquals("", out.toString(), "nothing is printed before the refusal");
        }
    }

    @Test
    void emaWeightsReadTheAverageAndPairWithTheRawWeightsOfTheSameRuns() throws Exception {
        double[] ema = {0.070, 0.051, 0.020, 0.035, 0.061};
        for (int i = 0; i < ARM.length; i++) {
            SeedRunFixture.write(tmp.resolve("m/runs/flow-grpo-seed" + i), "flow-grpo", 1000 + i, BASE,
                    Map.of(2, BASE + ARM[i] / 3, 11, BASE + ARM[i]), Map.of(2, BASE + ema[i] / 3, 11, BASE + ema[i]));
        }
        Path m = tmp.resolve("m");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, CliHarness.run(out, err, "gains", "--runs", m.toString(), "--weights", "ema", "--baseline", m.toString(),
                "--resamples", "200"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("arm: " + m + " (EMA weights)"), text);
        assertTrue(text.contains(String.format(java.util.Locale.ROOT, "gain / population seed std %.2f", SeedGains.ratio(ema))), text);
        assertTrue(text.contains(String.format(java.util.Locale.ROOT, "gain / population seed std %.2f", SeedGains.ratio(ARM))), text);
        double d = 0;
        for (int i = 0; i < ARM.length; i++) d += (ema[i] - ARM[i]) / ARM.length;
        assertTrue(text.contains(String.format(java.util.Locale.ROOT, "(difference %+.4f", d)), text);

        Path raw = demo("r", "flow-grpo", 1000, ARM);
        String[][] cases = {
                {"gains", "--runs", raw.toString(), "--weights", "ema"},
                {"gains", "--runs", m.toString(), "--weights", "average"},
                {"gains", "--runs", m.toString(), "--baseline-weights", "ema"},
        };
        String[] expected = {"trained without a moving average", "weights must be raw or ema, got 'average'", "--baseline-weights needs --baseline"};
        for (int i = 0; i < cases.length; i++) {
            StringWriter e = new StringWriter();
            StringWriter o = new StringWriter();
            assertEquals(Main.EXIT_USAGE, CliHarness.run(o, e, cases[i]), String.join(" ", cases[i]));
            assertTrue(e.toString().startsWith("error: ") && e.toString().contains(expected[i]), e.toString());
            assertEquals("", o.toString());
        }
    }

    @Test
    void oneSeedPrintsItsGainAndSaysWhyThereIsNoSpreadInsteadOfNaN() throws Exception {
        Path one = demo("one", "flow-grpo", 1000, new double[] {0.05});
        Path other = demo("other", "flow-grpo", 1000, new double[] {0.02});
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, CliHarness.run(out, err, "gains", "--runs", one.toString(), "--baseline", other.toString(), "--resamples", "50"),
                err.toString());
        String text = out.toString();
        assertTrue(text.contains("gain +0.0500 from one seed: no SE, seed std or ratio"), text);
        assertTrue(text.contains("one seed, 1000): gain difference +0.0300"), text);
        assertTrue(!text.contains("NaN"), text);
    }
}
