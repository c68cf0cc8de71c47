package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.report.MethodResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The demo's verdicts come from paired seeds with an interval, never from one seed's sign. */
class DemoFindingsTest {
    private static MethodResult row(String m, double[] finals) {
        double mean = java.util.Arrays.stream(finals).average().orElseThrow();
        return new MethodResult(m, finals.length, mean, 0, 0.01, 100, 1, 0.5, 0.1, 0.4, -1);
    }

    @Test
    void oneSeedIsNotTestable() {
        Map<String, double[]> f = new LinkedHashMap<>();
        f.put("flow-grpo", new double[] {0.5000});
        f.put("pro-grpo", new double[] {0.5000});
        f.put("static-ovf", new double[] {0.4999});
        String s = DemoFindings.findings(List.of(row("flow-grpo", f.get("flow-grpo")), row("pro-grpo", f.get("pro-grpo")),
                row("static-ovf", f.get("static-ovf"))), f);
        assertTrue(s.contains("(pro-grpo > flow-grpo): not testable"), s);
        assertTrue(s.contains("(static-ovf > flow-grpo): not testable"), s);
        assertFalse(s.contains("held (") || s.contains("reversed ("), s);
        assertTrue(s.contains("indicative only"), s);
    }

    @Test
    void pairedSeedsGiveAVerdictOnlyWhenTheIntervalExcludesZero() {
        Map<String, double[]> f = new LinkedHashMap<>();
        f.put("flow-grpo", new double[] {0.50, 0.52, 0.48, 0.51});
        f.put("pro-grpo", new double[] {0.55, 0.57, 0.53, 0.57});         // +0.05 every seed, +-0.005
        f.put("pro-grpo-flash", new double[] {0.60, 0.42, 0.58, 0.41});   // noisy: the interval spans 0
        String s = DemoFindings.findings(List.of(row("flow-grpo", f.get("flow-grpo")), row("pro-grpo", f.get("pro-grpo")),
                row("pro-grpo-flash", f.get("pro-grpo-flash"))), f);
        assertTrue(s.contains("(pro-grpo > flow-grpo): held (difference +0.0525"), s);
        assertTrue(s.contains("(pro-grpo-flash > flow-grpo): inconclusive"), s);
    }

    /** The base comparison names each method's gain over the base and that gain in population seed std, recomputed here. */
    @Test
    void theBaseComparisonGivesTheGainInSeedStd() {
        java.util.Random rnd = new java.util.Random(17);
        double base = -2.0 + rnd.nextGaussian() * 0.1;
        double[] finals = new double[3];
        List<List<Map<String, Object>>> runs = new java.util.ArrayList<>();
        for (int s = 0; s < finals.length; s++) {
            finals[s] = base + 0.08 + rnd.nextGaussian() * 0.05;
            runs.add(List.of(Map.of("epoch", -1, "eval_reward", base), Map.of("epoch", 5, "eval_reward", base + 1),
                    Map.of("epoch", 11, "eval_reward", finals[s])));
        }
        double mean = 0;
        for (double x : finals) mean += x / finals.length;
        double ss = 0;
        for (double x : finals) ss += (x - mean) * (x - mean);
        double sd = Math.sqrt(ss / finals.length);
        Map<String, List<List<Map<String, Object>>>> h = new LinkedHashMap<>();
        h.put("flow-grpo", runs);
        String s = DemoFindings.baseComparison(h);
        double[] gains = new double[finals.length];
        for (int i = 0; i < gains.length; i++) gains[i] = finals[i] - base;
        io.progrpo.app.study.SeedGains.Interval ci = io.progrpo.app.study.SeedGains.bootstrapRatio(gains,
                io.progrpo.app.study.SeedGains.DEFAULT_RESAMPLES, io.progrpo.app.study.SeedGains.DEFAULT_BOOTSTRAP_SEED);
        String want = String.format(java.util.Locale.ROOT, "flow-grpo %+.4f (%.2f seed std, bootstrap 95 %% [%.2f, %.2f] over the seeds)",
                mean - base, (mean - base) / sd, ci.low(), ci.high());
        assertTrue(s.contains(want), s + " should contain " + want);
        assertTrue(ci.low() < (mean - base) / sd && (mean - base) / sd < ci.high(), ci.toString());
    }

    @Test
    void saysWhatTheEvalRewardWasMeasuredOnAndWarnsAboutOneSamplePerPrompt() {
        String one = DemoFindings.evaluationNote(1);
        assertTrue(one.contains("held-out prompts x 1 deterministic sample each"), one);
        assertTrue(one.contains("--set evalSamples=8") && one.contains("session 16"), one);
        String eight = DemoFindings.evaluationNote(8);
        assertTrue(eight.contains("held-out prompts x 8 deterministic samples each"), eight);
        assertTrue(!eight.contains("--set evalSamples"), "no advice once several samples are evaluated: " + eight);
    }
}
