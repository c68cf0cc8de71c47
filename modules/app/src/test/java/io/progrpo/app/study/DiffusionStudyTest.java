package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.app.CacheProperty;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paper's second setting as a study: DanceGRPO against pro-grpo-dance on the pixel world's epsilon model. The plan,
 * its checks, the compatibility of the flow setting's registered plans, and a quick end-to-end run of two arms.
 */
class DiffusionStudyTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @Test
    void theDiffusionPlanIsThePapersSecondSetting() {
        StudyPlan p = StudyPlan.of("pixel", StudyPlan.DIFFUSION, false, null);
        assertEquals("dance-grpo", p.baseline());
        assertTrue(p.diffusion());
        assertEquals(List.of("dance-grpo", "pro-grpo-dance", "pro-grpo-dance-gmax32", "pro-grpo-dance-gmax64", "pro-grpo-dance-early"), p.names());
        assertEquals(10, p.arm("pro-grpo-dance").seeds());
        assertEquals(5, p.arm("pro-grpo-dance-early").seeds());
        TrainConfig dance = p.config(p.arm("dance-grpo"), 3, tmp.resolve("d"));
        assertEquals("dance-grpo", dance.method());
        assertEquals(16, dance.groupSize());
        assertEquals(50, dance.samplerSteps());
        assertEquals(1.0, dance.eta());
        assertEquals(0.0, dance.beta());
        assertFalse(dance.detachUncond(), "DanceGRPO's gradient through the unconditional branch");
        assertEquals(1003, dance.seed());
        TrainConfig pro = p.config(p.arm("pro-grpo-dance"), 0, tmp.resolve("p"));
        assertEquals("48>32@30>8@40", pro.pruneSchedule());
        assertEquals(8, pro.samplingSchedule().finalGroupSize());
        assertEquals(50, pro.samplerSteps());
        assertEquals(pro.trainStepFraction(), dance.trainStepFraction(), "every arm trains the same fraction of steps");
        assertEquals(29, pro.trainedStepsPerTrajectory(), "floor(0.6 x 49)");
        assertEquals(8, p.arm("pro-grpo-dance-gmax64").overrides().stream().filter(o -> o.startsWith("pruneSchedule")).findFirst()
                .map(o -> Integer.parseInt(o.substring(o.lastIndexOf('>') + 1, o.lastIndexOf('@')))).orElseThrow(), "k = 8 in the G_max ablation");
        assertEquals("diffusion", p.registered().get("setting"));
        assertFalse(StudyPlan.of("pixel", false, null).registered().containsKey("setting"), "the flow setting registers as before");
    }

    @Test
    void settingsAreChecked() {
        var e = assertThrows(IllegalArgumentException.class, () -> StudyPlan.of("latent", StudyPlan.DIFFUSION, false, null));
        assertTrue(e.getMessage().contains("pixel world") && e.getMessage().contains("latent world has flow models only"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudyPlan.of("pixel", "sde", false, null));
        assertTrue(e.getMessage().contains("--setting must be flow or diffusion, got 'sde'"), e.getMessage());
        StudyOptions o = new StudyOptions("pixel", StudyPlan.DIFFUSION, null, null, false, null, false);
        assertEquals(Path.of("docs", "study", "pixel-diffusion"), o.outDir());
        assertEquals("scripts/study --world pixel --setting diffusion --out docs/study/pixel-diffusion", o.command());
        assertEquals("scripts/study --world pixel --out docs/study/pixel", new StudyOptions("pixel", null, null, false, null, false).command());
    }

    /** The registered plans in docs/study are what today's code registers: their studies resume. */
    @Test
    void theCommittedPlansStillVerify() throws Exception {
        ObjectMapper json = new ObjectMapper();
        int checked = 0;
        // each directory with the world and setting its plan was registered for; the seeds are the registered ones
        // (the diffusion setting was registered with --seeds 5)
        for (String[] study : List.of(new String[] {"pixel", "pixel", StudyPlan.FLOW}, new String[] {"latent", "latent", StudyPlan.FLOW},
                new String[] {"pixel-diffusion", "pixel", StudyPlan.DIFFUSION})) {
            Path file = Path.of("..", "..", "docs", "study", study[0], PlanGuard.JSON_FILE);
            if (!Files.exists(file)) continue;
            JsonNode was = json.readTree(Files.readString(file)).get("registered");
            int seeds = was.get("arms").get(0).get("seeds").asInt();
            JsonNode now = json.valueToTree(StudyPlan.of(study[1], study[2], false, seeds).registered());
            assertEquals(List.of(), PlanGuard.differences(was, now), study[0] + ": the registered plan changed; the study in "
                    + file.getParent() + " would be refused");
            checked++;
        }
        assertEquals(3, checked, "docs/study holds the pixel, latent and pixel-diffusion plans");
    }

    @Test
    void aQuickDiffusionStudyRunsAndReportsAgainstDanceGrpo() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        Path out = tmp.resolve("study");
        List<String> log = new ArrayList<>();
        StudyOptions o = new StudyOptions("pixel", StudyPlan.DIFFUSION, out, 2, true, List.of("pro-grpo-dance-early"), false);
        assertEquals(0, Study.run(o, log::add));
        assertTrue(log.contains("note: running dance-grpo too: matched compute needs its run of every seed"), String.join("\n", log));
        List<StudyCsv.Row> rows = StudyCsv.read(out);
        assertEquals(4, rows.size());
        StudyCsv.Row base = StudyCsv.find(rows, "dance-grpo", 0);
        assertEquals(1.0, base.matchedCompute().computeRatio(), 1e-12);
        StudyCsv.Row early = StudyCsv.find(rows, "pro-grpo-dance-early", 1);
        assertTrue(early.schedule().startsWith("48>32@10>8@20"), early.schedule());
        // its FLOPs against dance-grpo's, recomputed from the schedules (both with guidance, the unconditional branch trained):
        // sampled row-steps 48 x 10 + 32 x 10 + 8 x 30 against 16 x 50, plus 3x the trained row-steps, 8 against 16 rows of
        // the same 29 steps; the pixel world decodes nothing
        double ratio = (48 * 10 + 32 * 10 + 8 * 30 + 3.0 * 8 * 29) / (16 * 50 + 3.0 * 16 * 29);
        assertEquals(ratio, early.matchedEpochs().computeRatio(), 1e-3);
        String report = Files.readString(out.resolve(Study.REPORT));
        assertTrue(report.contains("diffusion setting") && report.contains("vs dance-grpo (paired)"), report);
        assertTrue(report.contains("the paper's @30 / @40 > early @10 / @20"), report);
        JsonNode plan = new ObjectMapper().readTree(Files.readString(out.resolve(PlanGuard.JSON_FILE)));
        assertEquals("diffusion", plan.get("registered").get("setting").asText());
    }
}
