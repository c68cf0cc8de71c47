package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The agreement estimate against a direct computation in the test: per step, the mean over groups of a Spearman computed
 * from counted ranks (ShadowGroupTest's oracle) on random groups, constant groups skipped and counted; the state read
 * back from JSON gives the same means bit for bit; bad input is named.
 */
class ScheduleAgreementTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void perStepMeansMatchADirectSpearmanOverGroups() {
        Random rnd = new Random(18);
        for (int trial = 0; trial < 20; trial++) {
            int t = 2 + rnd.nextInt(12);
            int rows = 3 + rnd.nextInt(20);
            int groups = 1 + rnd.nextInt(8);
            ScheduleAgreement a = new ScheduleAgreement(t);
            double[] sum = new double[t - 1];
            double[] sumP = new double[t - 1];
            int[] count = new int[t - 1];
            int[] skipped = new int[t - 1];
            for (int g = 0; g < groups; g++) {
                double[] finals = new double[rows];
                for (int r = 0; r < rows; r++) finals[r] = rnd.nextGaussian();
                double[][] proxies = new double[t - 1][rows];
                for (int s = 1; s < t; s++) {
                    boolean constant = rnd.nextInt(6) == 0;
                    for (int r = 0; r < rows; r++) {
                        // agreement grows with the step; ties from rounding now and then
                        double v = (double) s / t * finals[r] + rnd.nextGaussian();
                        proxies[s - 1][r] = constant ? 0.25 : rnd.nextInt(4) == 0 ? Math.round(v) : v;
                    }
                    if (constant) {
                        skipped[s - 1]++;
                    } else {
                        sum[s - 1] += ShadowGroupTest.CorrelationOracle.spearman(proxies[s - 1], finals);
                        sumP[s - 1] += ShadowGroupTest.CorrelationOracle.pearson(proxies[s - 1], finals);
                        count[s - 1]++;
                    }
                }
                double[][] c = ScheduleAgreement.curve(proxies, finals);
                a.add(c[0], c[1]);
            }
            double[] sp = a.spearman();
            double[] pe = a.pearson();
            assertEquals(t - 1, sp.length);
            for (int s = 1; s < t; s++) {
                String at = "trial " + trial + " step " + s;
                assertEquals(count[s - 1], a.groups(s), at);
                assertEquals(skipped[s - 1], a.skipped(s), at);
                if (count[s - 1] == 0) {
                    assertTrue(Double.isNaN(sp[s - 1]) && Double.isNaN(pe[s - 1]), at + ": no group, no mean");
                } else {
                    assertEquals(sum[s - 1] / count[s - 1], sp[s - 1], 1e-9, at);
                    assertEquals(sumP[s - 1] / count[s - 1], pe[s - 1], 1e-9, at);
                }
            }
            assertEquals(groups, a.shadowGroups());
            assertEquals(java.util.Arrays.stream(count).anyMatch(c -> c > 0), a.hasEstimate());
        }
    }

    @Test
    void theStateReadsBackBitForBit() throws Exception {
        Random rnd = new Random(7);
        ScheduleAgreement a = new ScheduleAgreement(10);
        for (int g = 0; g < 5; g++) {
            double[] sp = new double[9];
            double[] pe = new double[9];
            for (int i = 0; i < 9; i++) {
                sp[i] = i == 3 && g == 1 ? Double.NaN : 2 * rnd.nextDouble() - 1;
                pe[i] = i == 3 && g == 1 ? Double.NaN : 2 * rnd.nextDouble() - 1;
            }
            a.add(sp, pe);
        }
        JsonNode state = JSON.readTree(JSON.writeValueAsString(a.state()));
        ScheduleAgreement b = ScheduleAgreement.fromState(state, 10);
        assertArrayEquals(a.spearman(), b.spearman(), 0.0);
        assertArrayEquals(a.pearson(), b.pearson(), 0.0);
        for (int s = 1; s < 10; s++) {
            assertEquals(a.groups(s), b.groups(s));
            assertEquals(a.skipped(s), b.skipped(s));
        }
        assertEquals(1, b.skipped(4));
        assertEquals(5, b.shadowGroups());
        assertEquals(a.toMetrics(), b.toMetrics());

        var e = assertThrows(IllegalArgumentException.class, () -> ScheduleAgreement.fromState(state, 12));
        assertTrue(e.getMessage().contains("total_steps") && e.getMessage().contains("T = 12") && e.getMessage().contains("10"), e.getMessage());
        ObjectNode broken = state.deepCopy();
        ((ObjectNode) broken.get("steps").get(2)).put("spearman_groups", -1);
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleAgreement.fromState(broken, 10));
        assertTrue(e.getMessage().contains("steps[2].spearman_groups") && e.getMessage().contains("-1"), e.getMessage());
        ObjectNode inconsistent = state.deepCopy();
        inconsistent.put("shadow_groups", 6);
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleAgreement.fromState(inconsistent, 10));
        assertTrue(e.getMessage().contains("= shadow_groups (6)"), e.getMessage());
        ObjectNode tooLarge = state.deepCopy();
        ((ObjectNode) tooLarge.get("steps").get(0)).put("spearman_sum", 9.5);
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleAgreement.fromState(tooLarge, 10));
        assertTrue(e.getMessage().contains("spearman_sum") && e.getMessage().contains("9.5"), e.getMessage());
    }

    @Test
    void badCurvesAreNamed() {
        ScheduleAgreement a = new ScheduleAgreement(4);
        assertFalse(a.hasEstimate());
        assertTrue(Double.isNaN(a.spearman()[0]));
        var e = assertThrows(IllegalArgumentException.class, () -> a.add(new double[2], new double[3]));
        assertTrue(e.getMessage().contains("needs 3 Spearman") && e.getMessage().contains("got 2 and 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.add(new double[] {0, 1.5, 0}, new double[3]));
        assertTrue(e.getMessage().contains("Spearman correlation at step 2") && e.getMessage().contains("1.5"), e.getMessage());
        assertEquals(0, a.shadowGroups(), "a rejected curve changes nothing");
        e = assertThrows(IllegalArgumentException.class, () -> new ScheduleAgreement(1));
        assertTrue(e.getMessage().contains("T >= 2") && e.getMessage().contains("got 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.groups(4));
        assertTrue(e.getMessage().contains("[1, 3]") && e.getMessage().contains("got 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleAgreement.curve(new double[][] {{1, 2}}, new double[] {1, 2, 3}));
        assertTrue(e.getMessage().contains("2 values") && e.getMessage().contains("(3)"), e.getMessage());
    }
}
