package io.progrpo.app.report;

import io.progrpo.app.report.ReportWriter.Figure;
import io.progrpo.app.report.ReportWriter.Report;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportWriterTest {

    private static final MethodResult FLOW = new MethodResult("flow-grpo", 3, 0.3125, 0.0101, 0.0412,
            4800, 12.0, 8.0, 1.0, 3.0, 512L * 1024 * 1024);
    private static final MethodResult PRO = new MethodResult("pro-grpo", 3, 0.3377, 0.0090, 0.0655,
            3840, 9.6, 6.5, 1.1, 2.0, 3L * 1024 * 1024 * 1024 / 2);
    private static final MethodResult UNMEASURED = new MethodResult("static-ovf", 1, 0.3, 0, 0.05,
            4800, 10.0, 8.0, 1.0, 1.0, -1);

    private static List<String> cells(String row) {
        String inner = row.substring(row.indexOf('|') + 1, row.lastIndexOf('|'));
        return List.of(inner.split(" \\| ", -1)).stream().map(String::strip).toList();
    }

    @Test
    void tableRowsHoldTheNumbersAndSpeedups() {
        String table = ReportWriter.table(List.of(FLOW, PRO, UNMEASURED), "flow-grpo");
        List<String> lines = table.lines().toList();
        assertEquals(5, lines.size(), table);
        assertEquals(ReportWriter.COLUMNS, cells(lines.get(0)));
        assertEquals(List.of("flow-grpo", "3", "0.3125 ± 0.0101", "0.0412", "4,800", "1.00x", "12.00", "8.00",
                "1.00", "3.00", "1.00x", "512.0 MiB", "n/a", "n/a"), cells(lines.get(2)));
        // NFE speedup 4800/3840 = 1.25x; wall speedup 12/9.6 = 1.25x
        assertEquals(List.of("pro-grpo", "3", "0.3377 ± 0.0090", "0.0655", "3,840", "1.25x", "9.60", "6.50",
                "1.10", "2.00", "1.25x", "1.50 GiB", "n/a", "n/a"), cells(lines.get(3)));
        assertEquals("1.20x", cells(lines.get(4)).get(10));
        assertEquals("n/a", cells(lines.get(4)).get(11));
    }

    @Test
    void modelFlopsAndTheirSpeedupAreShownWhereKnown() {
        MethodResult a = new MethodResult("flow-grpo", 1, 0.3, 0, 0.04, 4800, 12, 8, 1, 3, -1, 4.5e12);
        MethodResult b = new MethodResult("pro-grpo", 1, 0.3, 0, 0.04, 3840, 10, 7, 1, 2, -1, 3.6e12);
        List<String> lines = ReportWriter.table(List.of(a, b), "flow-grpo").lines().toList();
        assertEquals(List.of("4,500.0", "1.00x"), cells(lines.get(2)).subList(12, 14));
        assertEquals(List.of("3,600.0", "1.25x"), cells(lines.get(3)).subList(12, 14));
    }

    @Test
    void reportHasTableFiguresAndFindings(@TempDir Path dir) throws IOException {
        Path fig = dir.resolve("figures/eval reward.png");
        Report r = new Report("Pro-GRPO vs Flow-GRPO (demo world)", List.of(FLOW, PRO), "flow-grpo",
                List.of(new Figure("Eval reward vs wall time", fig)),
                "Pro-GRPO reaches a higher reward with fewer NFE.");
        Path md = ReportWriter.write(dir.resolve("report.md"), r);
        String text = Files.readString(md);
        assertTrue(text.startsWith("# Pro-GRPO vs Flow-GRPO (demo world)\n"), text);
        assertTrue(text.contains("| pro-grpo | 3 | 0.3377 ± 0.0090 |"), text);
        assertTrue(text.contains("![Eval reward vs wall time](figures/eval%20reward.png)"), text);
        assertTrue(text.contains("## Findings\n\nPro-GRPO reaches a higher reward with fewer NFE.\n"), text);
        assertTrue(text.contains("relative to **flow-grpo**"), text);
    }

    @Test
    void emptyFindingsSayNoneAndPipesAreEscaped() {
        MethodResult piped = new MethodResult("a|b", 1, 0.1, 0, 0, 10, 1, 0.5, 0.2, 0.3, 0);
        String md = ReportWriter.render(new Report("t", List.of(piped), "a|b", List.of(), null), null);
        assertTrue(md.contains("| a\\|b | 1 |"), md);
        assertTrue(md.contains("_(none recorded)_"), md);
    }

    @Test
    void badInputsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Report("t", List.of(FLOW), "dance-grpo", List.of(), ""));
        assertTrue(e.getMessage().contains("'dance-grpo'") && e.getMessage().contains("flow-grpo"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new MethodResult("m", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("seeds of m") && e.getMessage().contains("got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new MethodResult("m", 1, Double.NaN, 0, 0, 0, 0, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("finalEvalRewardMean") && e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new MethodResult("m", 1, 0, 0, 0, 0, -2.0, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("wallSecondsPerEpoch") && e.getMessage().contains("-2.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Report("t", List.of(), "x", List.of(), ""));
        assertTrue(e.getMessage().contains("got none"), e.getMessage());
    }

    @Test
    void figureLinksAreRelativeToTheReportWhateverFormThePathsCameIn() {
        Path rel = Path.of("rel-out");
        Path abs = rel.toAbsolutePath();
        assertEquals("fig.png", ReportWriter.link(rel.resolve("fig.png"), rel));
        assertEquals("fig.png", ReportWriter.link(abs.resolve("fig.png"), rel));
        assertEquals("fig.png", ReportWriter.link(rel.resolve("fig.png"), abs));
        assertEquals("runs/a%20b.png", ReportWriter.link(abs.resolve("runs").resolve("a b.png"), rel));
        assertEquals("../other/fig.png", ReportWriter.link(Path.of("other", "fig.png"), Path.of("./rel-out")));
        assertEquals("x/fig.png", ReportWriter.link(Path.of("x", "fig.png"), null));
    }
}
