package io.progrpo.app;

import io.progrpo.app.report.ReportWriter;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A figure the demo cannot draw costs that figure, not the report of a long training run. */
class DemoFigureTest {

    @Test
    void aDrawnFigureIsAdded() {
        List<ReportWriter.Figure> figures = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        var f = new ReportWriter.Figure("caption", Path.of("f.png"));
        Demo.figure(figures, missing, "Figure 1", () -> f);
        assertEquals(List.of(f), figures);
        assertEquals(List.of(), missing);
    }

    @Test
    void aFigureThatCannotBeRenderedIsNotedAndTheOthersGoOn() {
        List<ReportWriter.Figure> figures = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        Demo.figure(figures, missing, "the eval curves", () -> {
            throw new IOException("could not render eval.png: drawing text needs fontconfig and a font");
        });
        var g = new ReportWriter.Figure("grid", Path.of("g.png"));
        Demo.figure(figures, missing, "the sample grid", () -> g);
        assertEquals(List.of(g), figures);
        assertEquals(1, missing.size());
        assertTrue(missing.get(0).startsWith("the eval curves") && missing.get(0).contains("fontconfig"), missing.get(0));
    }

    @Test
    void aBugInAFigureIsNotHidden() {
        List<ReportWriter.Figure> figures = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        var e = assertThrows(IllegalArgumentException.class, () -> Demo.figure(figures, missing, "Figure 1", () -> {
            throw new IllegalArgumentException("a plot needs at least one series, got none");
        }));
        assertTrue(e.getMessage().contains("at least one series"));
        assertTrue(figures.isEmpty() && missing.isEmpty());
    }
}
