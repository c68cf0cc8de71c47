package io.progrpo.app.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/** The held-out table reads each run's last evaluation; its cells are mean ± population std over seeds. */
class HeldOutTablesTest {
    private static Map<String, Object> row(int epoch, Double overall, Double colors) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("epoch", epoch);
        if (overall != null) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("overall", overall);
            g.put("colors", colors);
            r.put("eval_geneval", g);
        }
        return r;
    }

    @Test
    void cellsAreMeanAndStdOverSeedsOfEachRunsLastEvaluation() {
        Random rnd = new Random(3);
        Map<String, List<List<Map<String, Object>>>> h = new LinkedHashMap<>();
        double[] last = new double[4];
        List<List<Map<String, Object>>> runs = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            last[s] = rnd.nextDouble();
            runs.add(List.of(row(-1, 0.25, 0.5), row(0, rnd.nextDouble(), 0.1), row(1, null, null), row(2, last[s], null)));
        }
        h.put("flow-grpo", runs);
        double mean = 0;
        for (double v : last) mean += v;
        mean /= 4;
        double ss = 0;
        for (double v : last) ss += (v - mean) * (v - mean);
        String md = HeldOutTables.markdown(h, "eval_geneval");
        assertTrue(md.startsWith("| method | seeds | overall | colors |"), md);
        assertTrue(md.contains("| base model | - | 0.250 | 0.500 |"), md);
        assertTrue(md.contains(String.format(Locale.ROOT, "| flow-grpo | 4 | %.3f ± %.3f | - |", mean, Math.sqrt(ss / 4))), md);
        assertArrayEquals(last, HeldOutTables.finals(h, "eval_geneval", "overall").get("flow-grpo"), 0);
    }

    @Test
    void runsWithoutTheKeyGiveNoTable() {
        Map<String, List<List<Map<String, Object>>>> h = Map.of("flow-grpo", List.of(List.of(row(0, null, null))));
        assertEquals("", HeldOutTables.markdown(h, "eval_geneval"));
        assertTrue(Double.isNaN(HeldOutTables.finals(h, "eval_geneval", "overall").get("flow-grpo")[0]));
    }

    @Test
    void cellSizesNameEachCategorysImages() {
        Map<String, Integer> n = new LinkedHashMap<>();
        n.put("single_object", 4);
        n.put("two_object", 8);
        String line = HeldOutTables.cellSizes(n);
        assertTrue(line.startsWith("Images per cell and run: single_object 4, two_object 8; "), line);
        assertEquals("", HeldOutTables.cellSizes(Map.of()));
    }
}
