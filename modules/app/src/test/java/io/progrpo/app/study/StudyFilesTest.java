package io.progrpo.app.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** study.csv's atomic appends and round trip, and the plan guard's refusal of a changed plan. */
class StudyFilesTest {
    @TempDir
    Path tmp;

    static StudyCsv.Row row(String arm, int s, double me, double mc) {
        StudyCsv.Point a = new StudyCsv.Point(24, me, 0.004, 0.02, Double.NaN, 8390.123, 75.5, 1.0);
        StudyCsv.Point b = new StudyCsv.Point(30, mc, 0.0041, 0.021, 0.5, 8400.5, 80.25, 1.0012);
        return new StudyCsv.Row(arm, s, 1000 + s, "pixel", a, b, 90.5, "48>24@5>12@7 x24; 48>12@9 x6", "2026-12-02T15:00:00Z");
    }

    @Test
    void rowsRoundTripAndAreNeverDuplicated() throws IOException {
        assertEquals(List.of(), StudyCsv.read(tmp), "no file, no rows");
        StudyCsv.append(tmp, row("flow-grpo", 0, 0.612345, 0.612345));
        StudyCsv.append(tmp, row("pro-grpo", 0, 0.6, 0.61));
        List<StudyCsv.Row> rows = StudyCsv.read(tmp);
        assertEquals(2, rows.size());
        StudyCsv.Row r = rows.get(1);
        assertEquals("pro-grpo", r.arm());
        assertEquals(1000, r.seed());
        assertEquals(0.61, r.matchedCompute().eval(), 1e-12);
        assertEquals(30, r.matchedCompute().epochs());
        assertTrue(Double.isNaN(r.matchedEpochs().overall()), "no evaluator: an empty field, read back as NaN");
        assertEquals(0.5, r.matchedCompute().overall(), 1e-12);
        assertEquals(1.0012, r.matchedCompute().computeRatio(), 1e-12);
        assertEquals("48>24@5>12@7 x24; 48>12@9 x6", r.schedule());
        assertFalse(Files.exists(tmp.resolve(StudyCsv.FILE + ".tmp")), "the temporary file was renamed into place");
        var e = assertThrows(IOException.class, () -> StudyCsv.append(tmp, row("pro-grpo", 0, 0.7, 0.7)));
        assertTrue(e.getMessage().contains("already holds arm pro-grpo seed index 0"), e.getMessage());
        assertEquals(2, StudyCsv.read(tmp).size(), "the refused row was not written");
        assertNull(StudyCsv.find(rows, "pro-grpo", 1));
    }

    @Test
    void damagedFilesAreNamed() throws IOException {
        Files.writeString(tmp.resolve(StudyCsv.FILE), "arm,seed\n");
        var e = assertThrows(IOException.class, () -> StudyCsv.read(tmp));
        assertTrue(e.getMessage().contains("line 1: expected the header arm,seed_index"), e.getMessage());
        StudyCsv.append(tmp.resolve("ok"), row("flow-grpo", 0, 0.5, 0.5));
        String text = Files.readString(tmp.resolve("ok").resolve(StudyCsv.FILE));
        String line = text.lines().toList().get(1);
        Files.writeString(tmp.resolve("ok").resolve(StudyCsv.FILE), text + line + "\n");
        e = assertThrows(IOException.class, () -> StudyCsv.read(tmp.resolve("ok")));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("appears twice"), e.getMessage());
        assertEquals(List.of("a", "b,c", "d\"e", ""), StudyCsv.split("a,\"b,c\",\"d\"\"e\","));
    }

    @Test
    void aChangedPlanIsRefusedNamingWhatChanged() throws IOException {
        StudyPlan two = StudyPlan.of("pixel", true, 2);
        StudyEstimate est = StudyEstimate.of(two);
        assertTrue(PlanGuard.registerOrVerify(two, est, tmp, "scripts/study --world pixel --quick --seeds 2", "2026-12-02T15:00:00Z"));
        assertTrue(Files.readString(tmp.resolve(PlanGuard.MD_FILE)).contains("| pro-grpo-flash | pro-grpo-flash |"), "plan.md lists the arms");
        assertFalse(PlanGuard.registerOrVerify(StudyPlan.of("pixel", true, 2), est, tmp, "another command", "later"), "the same plan passes");
        var e = assertThrows(PlanGuard.PlanChangedException.class,
                () -> PlanGuard.registerOrVerify(StudyPlan.of("pixel", true, 3), est, tmp, "x", "later"));
        assertTrue(e.getMessage().contains("arms[flow-grpo].seeds: was 2, now 3"), e.getMessage());
        assertTrue(e.getMessage().contains("arms[pro-grpo-adaptive].seeds: was 2, now 3"), e.getMessage());
        assertTrue(e.getMessage().contains("give a new --out"), e.getMessage());
        e = assertThrows(PlanGuard.PlanChangedException.class,
                () -> PlanGuard.registerOrVerify(StudyPlan.of("latent", true, 2), est, tmp, "x", "later"));
        assertTrue(e.getMessage().contains("world: was \"pixel\", now \"latent\""), e.getMessage());
        assertTrue(e.getMessage().contains("arms[pro-grpo-late]") && e.getMessage().contains("now absent"), e.getMessage());
        Files.writeString(tmp.resolve(PlanGuard.JSON_FILE), "{\"notes\": {}}");
        var io = assertThrows(IOException.class, () -> PlanGuard.registerOrVerify(two, est, tmp, "x", "later"));
        assertTrue(io.getMessage().contains("no \"registered\" object"), io.getMessage());
    }

    @Test
    void plansAreChecked() {
        var e = assertThrows(IllegalArgumentException.class, () -> StudyPlan.of("moon", false, null));
        assertTrue(e.getMessage().contains("pixel or latent") && e.getMessage().contains("'moon'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudyPlan.of("pixel", false, 0));
        assertTrue(e.getMessage().contains("--seeds must be >= 1, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StudyPlan.of("pixel", false, null).arm("pro-grpo-fast"));
        assertTrue(e.getMessage().contains("unknown arm 'pro-grpo-fast'") && e.getMessage().contains("pro-grpo-flash"), e.getMessage());
        StudyPlan full = StudyPlan.of("pixel", false, null);
        assertEquals(10, full.arm("pro-grpo-adaptive").seeds());
        assertEquals(5, full.arm("pro-grpo-gmax64").seeds());
        assertEquals(4, full.groupsPerStep(), "two optimizer steps per epoch of 8 groups");
        assertTrue(full.evalSamplesPerPrompt() >= 4);
        assertFalse(StudyPlan.of("latent", false, null).names().contains("pro-grpo-late"), "cut on the latent world");
    }
}
