package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.report.PairedComparison;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The report's verdicts come from paired seeds with a t interval, recomputed here from the rows. */
class StudyReportTest {
    private static StudyCsv.Row row(String arm, int s, double value, double ratio) {
        StudyCsv.Point p = new StudyCsv.Point(24, value, 0.003, 0.02, Double.NaN, 100 * ratio, 70, ratio);
        return new StudyCsv.Row(arm, s, 1000 + s, "pixel", p, p, 80, "24 x24", "2026-12-02T15:0" + s + ":00Z");
    }

    @Test
    void verdictsFollowTheInterval() {
        Random rnd = new Random(4);
        List<StudyCsv.Row> rows = new ArrayList<>();
        double[] flow = new double[10];
        double[] pro = new double[10];
        for (int s = 0; s < 10; s++) {
            flow[s] = 0.6 + 0.02 * rnd.nextGaussian();
            pro[s] = flow[s] + 0.05 + 0.005 * rnd.nextGaussian();          // better on every seed
            rows.add(row("flow-grpo", s, flow[s], 1));
            rows.add(row("pro-grpo", s, pro[s], 0.8));
            rows.add(row("pro-grpo-flash", s, flow[s] - 0.04 + 0.004 * rnd.nextGaussian(), 0.6));   // worse on every seed
            if (s < 5) rows.add(row("static-ovf", s, flow[s] + (s % 2 == 0 ? 0.05 : -0.05), 0.68)); // mixed
        }
        rows.add(row("pro-grpo-early", 0, 0.7, 0.7));                                             // one seed only
        // the paired difference, recomputed: mean, sample SD / sqrt(n), t_{0.975, 9}
        double mean = 0;
        for (int s = 0; s < 10; s++) mean += (pro[s] - flow[s]) / 10;
        double ss = 0;
        for (int s = 0; s < 10; s++) ss += Math.pow(pro[s] - flow[s] - mean, 2);
        double se = Math.sqrt(ss / 9 / 10);
        PairedComparison c = StudyReport.paired(rows, "pro-grpo", "flow-grpo", r -> r.matchedCompute().eval());
        assertEquals(10, c.seeds());
        assertEquals(mean, c.mean(), 1e-12);
        assertEquals(se, c.se(), 1e-12);
        assertEquals(mean + 2.2622 * se, c.high(), 1e-4 * se + 1e-12);
        assertEquals("held", StudyReport.verdict(c));
        assertEquals("not held", StudyReport.verdict(StudyReport.paired(rows, "pro-grpo-flash", "flow-grpo", r -> r.matchedCompute().eval())));
        assertEquals("inconclusive", StudyReport.verdict(StudyReport.paired(rows, "static-ovf", "flow-grpo", r -> r.matchedCompute().eval())));
        assertEquals(5, StudyReport.paired(rows, "static-ovf", "flow-grpo", r -> r.matchedEpochs().eval()).seeds(), "paired on common seeds");
        assertEquals("not testable", StudyReport.verdict(StudyReport.paired(rows, "pro-grpo-early", "flow-grpo", r -> r.matchedCompute().eval())));
        assertNull(StudyReport.paired(rows, "pro-grpo-gmax64", "flow-grpo", r -> r.matchedCompute().eval()));

        StudyPlan plan = StudyPlan.of("pixel", false, null);
        String md = StudyReport.markdown(plan, rows, new StudyReport.Context("test machine", "scripts/study --world pixel", "now", null));
        assertTrue(md.contains(String.format(java.util.Locale.ROOT, "| pro-grpo | 10 | %s | %+.4f ± %.4f |", StudyStats.summary(pro).meanSe(4), mean, se)), md);
        assertTrue(md.contains("pro-grpo 48 -> 24 @5 -> 12 @7 > flow-grpo: ME held: "), md);
        assertTrue(md.contains("pro-grpo-flash 24 -> 16 @5 -> 12 @7 > flow-grpo: ME not held: "), md);
        assertTrue(md.contains("OVF 12 of 24 > the full group of 24: ME inconclusive"), md);
        assertTrue(md.contains("the paper's 5 / 7 > early 3 / 5: ME not testable"), md);
        assertTrue(md.contains("| pro-grpo-gmax64 | 0 | not run |"), md);
        assertTrue(md.contains("its cost at matched epochs: 0.80x flow-grpo's model FLOPs"), md);
        assertTrue(md.contains("not yet run (seeds finished of planned): pro-grpo-adaptive 0 of 10"), md);
        assertTrue(md.contains("Machine: test machine") && md.contains("`scripts/study --world pixel`"), md);
    }

    @Test
    void diminishingReturnsComparesTheTwoGainsPerSeed() {
        List<StudyCsv.Row> rows = new ArrayList<>();
        double[] g32 = {0.50, 0.52, 0.49, 0.51, 0.50};
        for (int s = 0; s < 5; s++) {
            rows.add(row("pro-grpo-gmax32", s, g32[s], 0.7));
            rows.add(row("pro-grpo", s, g32[s] + 0.03 + 0.001 * s, 0.8));          // +0.03: the first gain
            rows.add(row("pro-grpo-gmax64", s, g32[s] + 0.035 + 0.001 * s, 0.9)); // +0.005 more: a smaller second gain
        }
        PairedComparison d = StudyReport.diminishing(rows, "pro-grpo-gmax32", "pro-grpo", "pro-grpo-gmax64", r -> r.matchedEpochs().eval());
        assertEquals(5, d.seeds());
        assertEquals(0.027, d.mean(), 1e-9);   // mean of (0.030 + 0.001 s) - 0.005 over s = 0 .. 4
        assertEquals("held", StudyReport.verdict(d));
        assertEquals("pro-grpo-gmax64", StudyReport.bestFixed(StudyPlan.of("pixel", false, null), rows));
    }
}
