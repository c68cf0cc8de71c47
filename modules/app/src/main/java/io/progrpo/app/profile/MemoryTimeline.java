package io.progrpo.app.profile;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A memory timeline from a Flight Recorder file recorded with progrpo.jfc: the ledger's bytes (from every storage and
 * phase event), the RSS (at phase boundaries), the phases as shaded bands and the prune checkpoints as markers; and a
 * table of peaks per phase. {@code progrpo profile RUN.jfr} writes both.
 *
 * @param ledger (seconds since the first event, bytes) of the Java-side tensors
 * @param rss    (seconds, bytes) of the process's resident set
 * @param phases the run's phases (the driver's nested {@code prune} phases are the markers instead)
 * @param prunes the prune checkpoints
 */
public record MemoryTimeline(List<double[]> ledger, List<double[]> rss, List<Phase> phases, List<Prune> prunes) {
    private static final double MIB = 1048576.0;

    /** One phase occurrence: name, epoch, start and end (seconds), ledger bytes at its ends and its peak, RSS at its end. */
    public record Phase(String name, int epoch, double start, double end, long ledgerStart, long ledgerEnd, long ledgerPeak, long rssEnd) {}

    /** One prune checkpoint: when, at which step, the group sizes, the bytes released and the ledger after. */
    public record Prune(double time, int step, int sizeBefore, int sizeAfter, long bytesReleased, long ledgerAfter) {}

    /** Reads a recording; an IOException naming the file when it is not one or holds no progrpo event. */
    public static MemoryTimeline read(Path jfr) throws IOException {
        if (!Files.isRegularFile(jfr)) throw new IOException(jfr + " is not a file");
        List<RecordedEvent> events;
        try {
            events = new ArrayList<>(RecordingFile.readAllEvents(jfr));
        } catch (IOException | RuntimeException e) {
            throw new IOException(jfr + " is not a readable Flight Recorder file: " + e.getMessage(), e);
        }
        events.removeIf(e -> !e.getEventType().getName().startsWith("io.progrpo."));
        if (events.isEmpty()) {
            throw new IOException(jfr + " holds no io.progrpo event: record with -XX:StartFlightRecording:settings=progrpo.jfc "
                    + "(module-info-docs/tensor.md, 'Profiling a run')");
        }
        events.sort(Comparator.comparing(RecordedEvent::getStartTime));
        Instant t0 = events.get(0).getStartTime();
        List<double[]> ledger = new ArrayList<>();
        List<double[]> rss = new ArrayList<>();
        List<double[]> storage = new ArrayList<>();
        List<Phase> phases = new ArrayList<>();
        List<Prune> prunes = new ArrayList<>();
        for (RecordedEvent e : events) {
            double t = seconds(t0, e.getStartTime());
            switch (e.getEventType().getName()) {
                case "io.progrpo.StorageAllocated", "io.progrpo.StorageFreed" -> {
                    ledger.add(new double[] {t, e.getLong("ledgerBytes")});
                    storage.add(new double[] {t, e.getLong("ledgerBytes")});
                }
                case "io.progrpo.Phase" -> {
                    double end = seconds(t0, e.getEndTime());
                    ledger.add(new double[] {t, e.getLong("ledgerBytesStart")});
                    ledger.add(new double[] {end, e.getLong("ledgerBytesEnd")});
                    if (e.getLong("rssStart") > 0) rss.add(new double[] {t, e.getLong("rssStart")});
                    if (e.getLong("rssEnd") > 0) rss.add(new double[] {end, e.getLong("rssEnd")});
                    if (!"prune".equals(e.getString("phase"))) {
                        phases.add(new Phase(e.getString("phase"), e.getInt("epoch"), t, end, e.getLong("ledgerBytesStart"),
                                e.getLong("ledgerBytesEnd"), 0, e.getLong("rssEnd")));
                    }
                }
                case "io.progrpo.PruneCheckpoint" -> prunes.add(new Prune(t, e.getInt("step"), e.getInt("sizeBefore"), e.getInt("sizeAfter"),
                        e.getLong("bytesReleased"), e.getLong("ledgerBytesAfter")));
                default -> { }
            }
        }
        ledger.sort(Comparator.comparingDouble(p -> p[0]));
        rss.sort(Comparator.comparingDouble(p -> p[0]));
        List<Phase> withPeaks = new ArrayList<>();
        double[] times = storage.stream().mapToDouble(s -> s[0]).toArray(); // in time order, as the events were sorted
        for (Phase p : phases) {
            long peak = Math.max(p.ledgerStart(), p.ledgerEnd());
            // the storage events inside the phase: a binary search for the first, then a scan to its end
            int i = java.util.Arrays.binarySearch(times, p.start());
            if (i < 0) i = -i - 1;
            while (i > 0 && times[i - 1] == p.start()) i--;
            for (; i < times.length && times[i] <= p.end(); i++) peak = Math.max(peak, (long) storage.get(i)[1]);
            withPeaks.add(new Phase(p.name(), p.epoch(), p.start(), p.end(), p.ledgerStart(), p.ledgerEnd(), peak, p.rssEnd()));
        }
        return new MemoryTimeline(List.copyOf(ledger), List.copyOf(rss), List.copyOf(withPeaks), List.copyOf(prunes));
    }

    private static double seconds(Instant t0, Instant t) {
        return Duration.between(t0, t).toNanos() / 1e9;
    }

    /** Per phase name over its occurrences: the ledger's peak and the largest RSS at its end, as a markdown table. */
    public String peaksTable() {
        Map<String, long[]> by = new LinkedHashMap<>();
        for (Phase p : phases) {
            long[] a = by.computeIfAbsent(p.name(), k -> new long[3]);
            a[0] = Math.max(a[0], p.ledgerPeak());
            a[1] = Math.max(a[1], p.rssEnd());
            a[2]++;
        }
        StringBuilder s = new StringBuilder("| phase | occurrences | ledger peak (MiB) | RSS at end, max (MiB) |\n|---|---:|---:|---:|\n");
        by.forEach((k, a) -> s.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f |%n", k, a[2], a[0] / MIB, a[1] / MIB)));
        long released = prunes.stream().mapToLong(Prune::bytesReleased).sum();
        s.append(String.format(Locale.ROOT, "%n%d prune checkpoints released %.2f MiB of the ledger in all.%n", prunes.size(), released / MIB));
        return s.toString();
    }

    /** The timeline as a PNG: ledger and RSS in MiB against seconds, phases shaded, prunes marked. */
    public void plot(Path png, String title) throws IOException {
        XYChart c = new XYChartBuilder().width(1100).height(520).title(title).xAxisTitle("seconds").build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        double top = 0.01;
        for (double[] p : ledger) top = Math.max(top, p[1] / MIB);
        Map<String, Color> colours = Map.of("SAMPLING", new Color(120, 170, 230, 70), "REWARD", new Color(240, 190, 90, 80),
                "TRAINING", new Color(220, 110, 110, 70), "EVAL", new Color(130, 200, 130, 70), "SHADOW", new Color(170, 140, 210, 70));
        Map<String, Boolean> shown = new LinkedHashMap<>();
        int i = 0;
        for (Phase p : phases) {
            if (p.end() <= p.start()) continue;
            XYSeries band = c.addSeries("phase-" + (i++), new double[] {p.start(), p.end()}, new double[] {top, top});
            band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
            Color fill = colours.getOrDefault(p.name(), new Color(180, 180, 180, 70));
            band.setFillColor(fill);
            band.setLineColor(fill); // the legend's swatch shows the line colour
            band.setMarker(SeriesMarkers.NONE);
            boolean first = shown.putIfAbsent(p.name(), true) == null;
            band.setShowInLegend(first);
            if (first) band.setLabel(p.name());
        }
        line(c, "ledger", ledger, new Color(30, 60, 160));
        c.setYAxisGroupTitle(0, "ledger MiB");
        if (!rss.isEmpty()) {
            // the RSS (the JVM's heap and libtorch included) is hundreds of MiB where the ledger may be a few: its own axis
            line(c, "RSS (right axis)", rss, new Color(200, 60, 40)).setYAxisGroup(1);
            c.setYAxisGroupTitle(1, "RSS MiB");
            c.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        }
        if (!prunes.isEmpty()) {
            XYSeries s = c.addSeries("prune", prunes.stream().mapToDouble(Prune::time).toArray(),
                    prunes.stream().mapToDouble(p -> p.ledgerAfter() / MIB).toArray());
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.DIAMOND);
            s.setMarkerColor(Color.BLACK);
        }
        Path abs = png.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        try {
            BitmapEncoder.saveBitmap(c, abs.toString().replaceAll("\\.png$", ""), BitmapEncoder.BitmapFormat.PNG);
        } catch (RuntimeException | Error e) {
            throw new IOException("the timeline " + png + " could not be drawn (fonts: scripts/setup installs fontconfig): " + e, e);
        }
    }

    private static XYSeries line(XYChart c, String name, List<double[]> pts, Color colour) {
        XYSeries s = c.addSeries(name, pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1] / MIB).toArray());
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(colour);
        return s;
    }
}
