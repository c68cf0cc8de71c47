package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.app.ProgrpoCommands;
import io.progrpo.app.cli.Main;
import io.progrpo.app.job.Jobs;
import io.progrpo.app.report.ModelFlops;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.config.TrainConfig;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quick study of 2 arms x 2 seeds on the pixel world, run first for a subset of its arms, then stopped in the middle
 * of a run (before that epoch's checkpoint, as a kill would), then resumed and run again: one row per (arm, seed), the
 * finished rows untouched, the stopped run continued from its checkpoint, and a changed plan refused.
 */
class StudyEndToEndTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @AfterEach
    void clearHooks() {
        ArmRun.stopAfterEpoch = null;
        Main.setCommands(null);
    }

    private StudyOptions options(Path out, List<String> arms) {
        return new StudyOptions("pixel", out, 2, true, arms, false);
    }

    @Test
    void aStoppedStudyResumesWithoutDuplicatingRows() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        Path out = tmp.resolve("study");
        List<String> log = new ArrayList<>();
        Consumer<String> sink = s -> {
            log.add(s);
            System.out.println(s);
        };
        // 1. a subset of the arms
        assertEquals(0, Study.run(options(out, List.of("flow-grpo")), sink));
        List<StudyCsv.Row> first = StudyCsv.read(out);
        assertEquals(2, first.size());
        assertTrue(Files.isRegularFile(out.resolve(PlanGuard.JSON_FILE)) && Files.isRegularFile(out.resolve(PlanGuard.MD_FILE)));
        assertTrue(Files.isRegularFile(out.resolve(Study.BASE_EVAL)));
        Path flowDir = StudyPlan.runDir(out, "flow-grpo", 0);
        List<Map<String, Object>> evals = MetricsLog.read(flowDir.resolve(ArmRun.EVALS));
        assertEquals(1, evals.size(), "flow-grpo: matched epochs and matched compute are one evaluation");
        assertEquals(4, ((Number) evals.get(0).get("samples_per_prompt")).intValue());
        assertTrue(((Number) evals.get(0).get("se_noise")).doubleValue() > 0, "the evaluation's own error is measured");
        assertFalse(Files.exists(flowDir.resolve(ArmRun.SNAPSHOTS)) || Files.exists(flowDir.resolve("checkpoint")), "cleaned up");
        assertEquals(1.0, first.get(0).matchedCompute().computeRatio(), 1e-12);

        // the measured FLOPs are what the schedule predicts (no zero-advantage row in a continuous reward)
        StudyPlan plan = Study.plan(options(out, null));
        TrainConfig c = plan.config(plan.arm("flow-grpo"), 0, flowDir);
        Map<String, Object> epoch0 = MetricsLog.read(flowDir.resolve("metrics.jsonl")).get(0);
        ModelFlops f = StudyFlops.of(c);
        if (((Number) epoch0.get("skipped_zero_advantage")).intValue() == 0) {
            assertEquals(StudyFlops.predictedEpoch(c, f, 0), StudyFlops.epoch(f, epoch0), 1e-6);
        }
        assertEquals(StudyFlops.epoch(f, epoch0) / 1e9, first.get(0).matchedEpochs().gflop(), 1e-3);

        // 2. stopped in the second epoch of pro-grpo-flash's seed 0 (it trains past E = 1 to reach flow-grpo's compute)
        ArmRun.stopAfterEpoch = e -> e == 1;
        List<String> both = List.of("flow-grpo", "pro-grpo-flash");
        assertThrows(ArmRun.Stopped.class, () -> Study.run(options(out, both), sink));
        ArmRun.stopAfterEpoch = null;
        assertEquals(2, StudyCsv.read(out).size(), "no row for the stopped run");
        assertTrue(Files.isDirectory(StudyPlan.runDir(out, "pro-grpo-flash", 0).resolve("checkpoint")), "its checkpoint is kept");

        // 3. resumed: the stopped run continues from its checkpoint, seed 1 runs, flow-grpo's rows are not redone
        log.clear();
        assertEquals(0, Study.run(options(out, both), sink));
        assertTrue(log.contains("pro-grpo-flash seed 0: resuming after 1 epochs"), String.join("\n", log));
        assertFalse(log.stream().anyMatch(s -> s.startsWith("=== flow-grpo")), "finished runs are skipped");
        List<StudyCsv.Row> rows = StudyCsv.read(out);
        assertEquals(4, rows.size());
        assertEquals(first.get(0), StudyCsv.find(rows, "flow-grpo", 0));
        assertEquals(first.get(1), StudyCsv.find(rows, "flow-grpo", 1));
        for (int s = 0; s < 2; s++) {
            StudyCsv.Row r = StudyCsv.find(rows, "pro-grpo-flash", s);
            assertEquals(1, r.matchedEpochs().epochs());
            assertEquals(2, r.matchedCompute().epochs(), "two flash epochs are nearer one flow-grpo epoch than one");
            assertEquals(0.6, r.matchedEpochs().computeRatio(), 0.05);
            assertEquals(2 * r.matchedEpochs().computeRatio(), r.matchedCompute().computeRatio(), 0.02);
            assertEquals("24>16@5>12@7 x2", r.schedule());
        }
        assertEquals(2, MetricsLog.read(StudyPlan.runDir(out, "pro-grpo-flash", 0).resolve(ArmRun.EVALS)).size(),
                "matched epochs and matched compute evaluated once each");

        // 4. nothing left to run: nothing runs, nothing is added
        log.clear();
        assertEquals(0, Study.run(options(out, both), sink));
        assertFalse(log.stream().anyMatch(s -> s.startsWith("===")), String.join("\n", log));
        assertEquals(rows, StudyCsv.read(out));
        String report = Files.readString(out.resolve(Study.REPORT));
        assertTrue(report.contains("| pro-grpo-flash | 2 |") && report.contains("| flow-grpo | 2 |"), report);
        assertTrue(report.contains("4 of 22 planned runs finished"), report);

        // 5. a changed plan is refused, in the library and on the command line (status 2)
        var e = assertThrows(PlanGuard.PlanChangedException.class,
                () -> Study.run(new StudyOptions("pixel", out, 3, true, both, false), sink));
        assertTrue(e.getMessage().contains("arms[flow-grpo].seeds: was 2, now 3"), e.getMessage());
        Main.setCommands(new ProgrpoCommands());
        assertEquals(2, io.progrpo.app.cli.CliHarness.run(new StringWriter(), "study", "--world", "pixel", "--quick", "--seeds", "3", "--out", out.toString()));
        assertEquals(rows, StudyCsv.read(out), "a refused plan changes nothing");
    }

    @Test
    void theStudysEvaluationIsTheTrainersWithItsErrors() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, List.of("outDir=" + tmp.resolve("run")));
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            StudyEvaluation ev = StudyEvaluation.of(job, 4);
            assertEquals(job.trainer().evaluate(job.reward(), 4), ev.measurement().mean(), 1e-9, "the same samples, the same mean");
            assertEquals(c.evalPrompts(), ev.measurement().prompts());
            assertEquals(4, ev.measurement().samplesPerPrompt());
            assertEquals(StudyFlops.of(c), job.flops(), "the analytic FLOP count without models is the job's");
        }
    }

    /**
     * A study resumed on another base model (here: its recorded base evaluation moved by 0.5, as another pretraining
     * recipe or CPU moves it) is refused before any run, naming both values; a finished study still rewrites its report.
     */
    @Test
    void aResumeOnAnotherBaseModelIsRefused() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        Path out = tmp.resolve("study");
        assertEquals(0, Study.run(options(out, List.of("flow-grpo")), s -> { }));
        Path file = out.resolve(Study.BASE_EVAL);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = json.readValue(Files.readString(file), Map.class);
        double was = ((Number) m.get("eval_reward")).doubleValue();
        m.put("eval_reward", was + 0.5);
        Files.writeString(file, json.writeValueAsString(m));
        // nothing pending for the finished arm: no check, the report is rewritten
        assertEquals(0, Study.run(options(out, List.of("flow-grpo")), s -> { }));
        List<String> more = List.of("flow-grpo", "pro-grpo-flash");
        var e = assertThrows(Study.BaseModelChangedException.class, () -> Study.run(options(out, more), s -> { }));
        assertTrue(e.getMessage().contains(String.format(java.util.Locale.ROOT, "%.6f", was + 0.5))
                && e.getMessage().contains(String.format(java.util.Locale.ROOT, "%.6f", was)), e.getMessage());
        assertEquals(2, StudyCsv.read(out).size(), "no run was started on the other base model");
        m.put("eval_reward", was);
        Files.writeString(file, json.writeValueAsString(m));
        assertEquals(0, Study.run(options(out, more), s -> { }));
        assertEquals(4, StudyCsv.read(out).size(), "resumed on the recorded base model");
    }
}
