package io.progrpo.app.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Writes {@code report.md}: a results table (quality and cost per method, speedups against a baseline), the
 * figures, and a findings paragraph written by whoever ran the experiment.
 *
 * <p>Speedups: {@code wall speedup = baseline wall s/epoch / method wall s/epoch}, {@code NFE speedup = baseline
 * NFE/epoch / method NFE/epoch}, {@code FLOP speedup = baseline model FLOPs/epoch / method model FLOPs/epoch} (the
 * paper's compute column, {@link ModelFlops}).
 */
public final class ReportWriter {

    /**
     * A figure linked from the report.
     *
     * @param caption text under the image
     * @param file    the PNG; linked relative to the report's directory when possible
     */
    public record Figure(String caption, Path file) {
        /** Requires both fields. */
        public Figure {
            Objects.requireNonNull(caption, "caption");
            Objects.requireNonNull(file, "file");
        }
    }

    /**
     * Everything a report shows.
     *
     * @param title          first heading
     * @param results        one row per method, in display order
     * @param baselineMethod method the speedups are relative to; must be one of the results
     * @param figures        figures, in order
     * @param findings       free-text paragraph(s) of conclusions, markdown allowed; may be empty
     * @param sections       further sections after the results table, in order (empty: none)
     */
    public record Report(String title, List<MethodResult> results, String baselineMethod, List<Figure> figures,
                         String findings, List<Section> sections) {
        /** Requires a non-empty result list that contains the baseline. */
        public Report {
            Objects.requireNonNull(title, "title");
            results = List.copyOf(results);
            figures = List.copyOf(figures);
            sections = sections == null ? List.of() : List.copyOf(sections);
            findings = findings == null ? "" : findings;
            if (results.isEmpty()) {
                throw new IllegalArgumentException("a report needs at least one method result, got none");
            }
            if (results.stream().noneMatch(r -> r.method().equals(baselineMethod))) {
                throw new IllegalArgumentException("baseline method '" + baselineMethod + "' is not among the results "
                        + results.stream().map(MethodResult::method).toList());
            }
        }

        /** A report without extra sections. */
        public Report(String title, List<MethodResult> results, String baselineMethod, List<Figure> figures, String findings) {
            this(title, results, baselineMethod, figures, findings, List.of());
        }
    }

    /**
     * A section of its own after the results table (another table, in the layout of a paper's table, for example).
     *
     * @param heading  the section's heading (without the {@code ##})
     * @param markdown its body
     */
    public record Section(String heading, String markdown) {
        public Section {
            Objects.requireNonNull(heading, "heading");
            Objects.requireNonNull(markdown, "markdown");
        }
    }

    private ReportWriter() {
    }

    /** The table's column headers, in order. */
    public static final List<String> COLUMNS = List.of(
            "method", "seeds", "final eval reward (mean ± std)", "within-group reward std", "NFE / epoch",
            "NFE speedup", "wall s / epoch", "sample s", "reward s", "train s", "wall speedup", "peak memory",
            "model GFLOP / epoch", "FLOP speedup");

    /** Renders the report as markdown; figure links are relative to {@code reportDir} when it is not null. */
    public static String render(Report report, Path reportDir) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(report.title()).append("\n\n");
        sb.append("## Results\n\n");
        sb.append("Speedups are relative to **").append(escape(report.baselineMethod()))
          .append("**; times are per epoch, averaged over epochs and seeds.\n\n");
        sb.append(table(report.results(), report.baselineMethod()));
        for (Section sec : report.sections()) {
            sb.append("\n## ").append(sec.heading()).append("\n\n").append(sec.markdown().strip()).append('\n');
        }
        if (!report.figures().isEmpty()) {
            sb.append("\n## Figures\n\n");
            for (Figure f : report.figures()) {
                sb.append("![").append(f.caption()).append("](").append(link(f.file(), reportDir)).append(")\n\n");
                sb.append("*").append(f.caption()).append("*\n\n");
            }
        }
        sb.append("\n## Findings\n\n");
        sb.append(report.findings().isBlank() ? "_(none recorded)_" : report.findings().strip()).append('\n');
        return sb.toString();
    }

    /** Renders the report to {@code reportMd} (creating its directory) and returns the path. */
    public static Path write(Path reportMd, Report report) throws IOException {
        Path dir = reportMd.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(reportMd, render(report, dir));
        return reportMd;
    }

    /** The markdown results table alone. */
    public static String table(List<MethodResult> results, String baselineMethod) {
        MethodResult base = results.stream().filter(r -> r.method().equals(baselineMethod)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("baseline method '" + baselineMethod
                        + "' is not among the results"));
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", COLUMNS)).append(" |\n");
        sb.append("|").append("---|".repeat(COLUMNS.size())).append('\n');
        for (MethodResult r : results) {
            sb.append("| ").append(String.join(" | ", List.of(
                    escape(r.method()),
                    Integer.toString(r.seeds()),
                    fmt("%.4f ± %.4f", r.finalEvalRewardMean(), r.finalEvalRewardStd()),
                    fmt("%.4f", r.withinGroupRewardStd()),
                    fmt("%,d", r.nfePerEpoch()),
                    ratio(base.nfePerEpoch(), r.nfePerEpoch()),
                    fmt("%.2f", r.wallSecondsPerEpoch()),
                    fmt("%.2f", r.sampleSecondsPerEpoch()),
                    fmt("%.2f", r.rewardSecondsPerEpoch()),
                    fmt("%.2f", r.trainSecondsPerEpoch()),
                    ratio(base.wallSecondsPerEpoch(), r.wallSecondsPerEpoch()),
                    bytes(r.peakMemoryBytes()),
                    r.modelFlopsPerEpoch() < 0 ? "n/a" : fmt("%,.1f", r.modelFlopsPerEpoch() / 1e9),
                    r.modelFlopsPerEpoch() < 0 || base.modelFlopsPerEpoch() < 0 ? "n/a" : ratio(base.modelFlopsPerEpoch(), r.modelFlopsPerEpoch())))).append(" |\n");
        }
        return sb.toString();
    }

    /** baseline / value as {@code 1.26x}; {@code n/a} when the value is 0. */
    static String ratio(double baseline, double value) {
        return value > 0 ? fmt("%.2fx", baseline / value) : "n/a";
    }

    /** Bytes in MiB (or GiB from 1 GiB); {@code n/a} for -1. */
    static String bytes(long b) {
        if (b < 0) {
            return "n/a";
        }
        double mib = b / (1024.0 * 1024.0);
        return mib >= 1024 ? fmt("%.2f GiB", mib / 1024) : fmt("%.1f MiB", mib);
    }

    private static String fmt(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }

    private static String escape(String cell) {
        return cell.replace("|", "\\|").replace("\n", " ");
    }

    /**
     * The figure's path relative to the report's directory, so the link works wherever the directory is opened from:
     * both are made absolute first, since the report's directory and a figure may be given one relative and one
     * absolute (a relative {@code --out}).
     */
    static String link(Path file, Path reportDir) {
        Path target = reportDir == null ? file
                : reportDir.toAbsolutePath().normalize().relativize(file.toAbsolutePath().normalize());
        return target.toString().replace('\\', '/').replace(" ", "%20");
    }
}
