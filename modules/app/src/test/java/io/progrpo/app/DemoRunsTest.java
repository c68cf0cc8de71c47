package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The demo's runs trained in child JVMs ({@code --jobs 2}) give the histories the in-process path gives, in the same
 * order; a child that fails is named with its log, and the runs that finished keep their directories.
 */
class DemoRunsTest {
    @TempDir
    Path tmp;

    private static TrainConfig tiny(String method, int seed, Path out, String... extra) {
        List<String> sets = new ArrayList<>(List.of("epochs=2", "groupsPerEpoch=1", "groupSize=4", "samplerSteps=3", "modelWidth=8",
                "imageSize=8", "pretrainSteps=2", "evalEvery=1", "evalPrompts=1", "evalSteps=2", "checkpointEvery=1", "microBatch=4",
                "seed=" + (1000 + seed), "outDir=" + out.resolve(method + "-seed" + seed)));
        if (!method.equals("flow-grpo")) sets.add("pruneSchedule=4>2@2");
        sets.addAll(List.of(extra));
        return TrainConfig.resolve(method, null, sets);
    }

    private List<DemoRuns.Unit> units(Path out) {
        List<DemoRuns.Unit> u = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            for (String m : List.of("flow-grpo", "pro-grpo-flash")) u.add(new DemoRuns.Unit(m, s, tiny(m, s, out), null));
        }
        return u;
    }

    private static double num(Map<String, Object> row, String key) {
        return ((Number) row.get(key)).doubleValue();
    }

    @Test
    void childJvmsGiveTheInProcessHistories() throws Exception {
        List<String> lines = new ArrayList<>();
        var here = DemoRuns.run(units(tmp.resolve("here")), 1, 1, s -> { });
        var children = DemoRuns.run(units(tmp.resolve("children")), 2, 1, lines::add);
        assertEquals(List.of("flow-grpo", "pro-grpo-flash"), List.copyOf(children.keySet()));
        for (String m : here.keySet()) {
            assertEquals(2, children.get(m).size(), m + ": one history per seed");
            for (int s = 0; s < 2; s++) {
                List<Map<String, Object>> a = here.get(m).get(s), b = children.get(m).get(s);
                assertEquals(a.size(), b.size(), m + " seed " + s + ": rows");
                for (int i = 0; i < a.size(); i++) {
                    assertEquals(num(a.get(i), "epoch"), num(b.get(i), "epoch"));
                    // the test JVM's intra-op threads may differ from the child's one: float rounding of reductions only
                    assertEquals(num(a.get(i), "eval_reward"), num(b.get(i), "eval_reward"), 1e-3, m + " seed " + s + " row " + i);
                    if (a.get(i).containsKey("reward_mean")) {
                        assertEquals(num(a.get(i), "reward_mean"), num(b.get(i), "reward_mean"), 1e-3, m + " seed " + s + " row " + i);
                    }
                }
            }
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  pro-grpo-flash seed 1 | ")), "child output relayed with its label");
        assertTrue(Files.isRegularFile(tmp.resolve("children").resolve("flow-grpo-seed0.log")), "each child's log beside its run");
        assertTrue(Files.notExists(tmp.resolve("children").resolve("flow-grpo-seed0.config.json")), "the config file is removed");
    }

    @Test
    void aFailedChildIsNamedAndTheOthersAreKept() throws Exception {
        Path out = tmp.resolve("fail");
        List<DemoRuns.Unit> u = List.of(new DemoRuns.Unit("flow-grpo", 0, tiny("flow-grpo", 0, out), null),
                // a reward server that is not there: the job's health check fails before training
                new DemoRuns.Unit("pro-grpo-flash", 0, tiny("pro-grpo-flash", 0, out, "reward=http://127.0.0.1:9/score"), null));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DemoRuns.run(u, 2, 1, s -> { }));
        assertTrue(e.getMessage().contains("1 of 2 demo runs failed"), e.getMessage());
        assertTrue(e.getMessage().contains("pro-grpo-flash seed 0 (exit 1"), e.getMessage());
        assertTrue(e.getMessage().contains("127.0.0.1:9"), "the child's reason is in the message: " + e.getMessage());
        assertEquals(3, DemoRuns.readHistory(out.resolve("flow-grpo-seed0").resolve("metrics.jsonl")).size(),
                "the run that finished keeps its metrics (eval before training and two epochs)");
    }

    @Test
    void aCorruptMetricsLineIsNamed() throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        Files.writeString(f, "{\"epoch\":0}\n{\"epoch\":1,\n");
        IOException e = assertThrows(IOException.class, () -> DemoRuns.readHistory(f));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertThrows(IOException.class, () -> DemoRuns.readHistory(tmp.resolve("none.jsonl")));
    }

    /** A run that takes several optimizer steps per epoch still warms up (one group: one step), then trains as asked. */
    @Test
    void aRunWithSeveralOptimizerStepsWarmsUpAndTrains() throws Exception {
        TrainConfig c = tiny("flow-grpo", 0, tmp, "groupsPerEpoch=2", "optimizerStepsPerEpoch=2");
        TrainConfig w = c.withSets(DemoUnit.warmUpSets(tmp.resolve("w")));
        assertEquals(1, w.groupsPerEpoch());
        assertEquals(1, w.optimizerStepsPerEpoch());
        var histories = DemoRuns.run(List.of(new DemoRuns.Unit("flow-grpo", 0, c, null)), 2, 1, s -> { });
        List<Map<String, Object>> run = histories.get("flow-grpo").get(0);
        assertEquals(2, ((Number) run.get(run.size() - 1).get("optimizer_steps")).intValue(), "the last epoch's optimizer steps: " + run.get(run.size() - 1));
    }
}
