package io.progrpo.app.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * PNG figures of a run: reward histograms (the paper's Figure 1: a full group against its uniform and OVF
 * subsets), line plots (eval reward against wall time, Figure 5) and image grids of samples.
 *
 * <p>Everything renders off-screen; the class sets {@code java.awt.headless=true} unless the property is already
 * set, so a machine without a display never tries to reach one. Needs {@code java.desktop} and at least one font.
 */
public final class Plots {

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Chart size in pixels. */
    public static final int WIDTH = 900;
    /** Chart size in pixels. */
    public static final int HEIGHT = 560;

    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    private Plots() {
    }

    /**
     * Histogram of several samples on shared bins (equal-width over the joint range of all series), drawn as
     * grouped bars so series of different sizes stay readable side by side.
     *
     * @param series name to values, in legend order; NaN values are rejected
     * @param bins   number of bins, >= 1
     */
    public static void histogram(Path png, String title, Map<String, double[]> series, int bins) throws IOException {
        requireSeries(series);
        if (bins < 1) {
            throw new IllegalArgumentException("histogram bins must be >= 1, got " + bins);
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            for (double v : e.getValue()) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("histogram series '" + e.getKey()
                            + "' holds a non-finite value " + v);
                }
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (min == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("histogram '" + title + "': every series is empty");
        }
        if (min == max) { // one distinct value: give the bins a width
            min -= 0.5;
            max += 0.5;
        }
        double width = (max - min) / bins;
        List<String> labels = new ArrayList<>(bins);
        for (int b = 0; b < bins; b++) {
            labels.add(String.format(Locale.ROOT, "%.3g", min + (b + 0.5) * width));
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("value (bin centre)").yAxisTitle("count").build();
        style(chart.getStyler());
        chart.getStyler().setOverlapped(false);
        chart.getStyler().setXAxisLabelRotation(bins > 12 ? 45 : 0);
        chart.getStyler().setAvailableSpaceFill(0.85);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            long[] counts = binCounts(e.getValue(), min, max, bins);
            List<Number> y = new ArrayList<>(bins);
            for (long c : counts) {
                y.add(c);
            }
            CategorySeries s = chart.addSeries(e.getKey() + " (n=" + e.getValue().length + ")", labels, y);
            s.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Bar);
        }
        write(chart, png);
    }

    /**
     * Counts of {@code values} in {@code bins} equal-width bins over [min, max]; the last bin includes max, values
     * outside the range are not counted.
     */
    static long[] binCounts(double[] values, double min, double max, int bins) {
        long[] counts = new long[bins];
        double width = (max - min) / bins;
        for (double v : values) {
            if (v < min || v > max) {
                continue;
            }
            int b = (int) Math.floor((v - min) / width);
            counts[Math.min(b, bins - 1)]++;
        }
        return counts;
    }

    /**
     * Line plot of several (x, y) series with markers.
     *
     * @param series name to points, each point a {@code {x, y}} pair: {@code series.get(name)[i] = {x_i, y_i}}
     */
    public static void lines(Path png, String title, String xLabel, String yLabel, Map<String, double[][]> series)
            throws IOException {
        requireSeries(series);
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        style(chart.getStyler());
        chart.getStyler().setYAxisDecimalPattern("0.###");
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            double[][] pts = e.getValue();
            if (pts.length == 0) {
                throw new IllegalArgumentException("line series '" + e.getKey() + "' has no points");
            }
            double[] x = new double[pts.length];
            double[] y = new double[pts.length];
            for (int i = 0; i < pts.length; i++) {
                if (pts[i] == null || pts[i].length != 2) {
                    throw new IllegalArgumentException("line series '" + e.getKey() + "' point " + i
                            + " must be an {x, y} pair, got " + (pts[i] == null ? "null" : pts[i].length + " values"));
                }
                x[i] = pts[i][0];
                y[i] = pts[i][1];
            }
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        write(chart, png);
    }

    /**
     * A grid of images with optional row labels on the left.
     *
     * @param imagesCHW images as float CHW arrays (C = 1 grey or 3 RGB, inferred from the length), values in [0, 1]
     *                  (clamped; see {@link #fromSigned(float[])} for [-1, 1] images)
     * @param h         image height in pixels
     * @param w         image width in pixels
     * @param columns   images per row; rows = ceil(n / columns)
     * @param rowLabels one label per row, or empty / null for none
     * @param scale     nearest-neighbour upscaling factor, >= 1
     */
    public static void imageGrid(Path png, List<float[]> imagesCHW, int h, int w, int columns,
                                 List<String> rowLabels, int scale) throws IOException {
        imageGrid(png, imagesCHW, h, w, columns, rowLabels, null, scale);
    }

    /**
     * {@link #imageGrid(Path, List, int, int, int, List, int)} with a caption under each column (a prompt, say),
     * wrapped to the column's width; {@code columnLabels} null or empty draws none.
     */
    public static void imageGrid(Path png, List<float[]> imagesCHW, int h, int w, int columns,
                                 List<String> rowLabels, List<String> columnLabels, int scale) throws IOException {
        writePng(png, () -> renderGrid(imagesCHW, h, w, columns, rowLabels, columnLabels, scale));
    }

    /** The grid of {@link #imageGrid} as an image. */
    static BufferedImage renderGrid(List<float[]> images, int h, int w, int columns, List<String> rowLabels,
                                    int scale) {
        return renderGrid(images, h, w, columns, rowLabels, null, scale);
    }

    /** Words of {@code text} in lines no wider than {@code width} pixels (a longer word stands on a line of its own). */
    static List<String> wrap(String text, FontMetrics fm, int width) {
        List<String> lines = new java.util.ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.strip().split("\\s+")) {
            String next = line.isEmpty() ? word : line + " " + word;
            if (!line.isEmpty() && fm.stringWidth(next) > width) {
                lines.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(next);
            }
        }
        if (!line.isEmpty()) lines.add(line.toString());
        return lines;
    }

    static BufferedImage renderGrid(List<float[]> images, int h, int w, int columns, List<String> rowLabels,
                                    List<String> columnLabels, int scale) {
        Objects.requireNonNull(images, "imagesCHW");
        if (images.isEmpty()) {
            throw new IllegalArgumentException("image grid needs at least one image, got none");
        }
        if (h < 1 || w < 1 || columns < 1 || scale < 1) {
            throw new IllegalArgumentException("image grid needs h, w, columns, scale >= 1, got h=" + h + " w=" + w
                    + " columns=" + columns + " scale=" + scale);
        }
        int rows = (images.size() + columns - 1) / columns;
        List<String> labels = rowLabels == null ? List.of() : rowLabels;
        if (!labels.isEmpty() && labels.size() != rows) {
            throw new IllegalArgumentException("image grid has " + rows + " rows (" + images.size() + " images / "
                    + columns + " columns) but got " + labels.size() + " row labels");
        }
        int pad = 2;
        int cellW = w * scale;
        int cellH = h * scale;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(11, Math.min(16, cellH / 3)));
        int labelWidth = 0;
        if (!labels.isEmpty()) {
            BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = probe.createGraphics();
            FontMetrics fm = g.getFontMetrics(font);
            for (String l : labels) {
                labelWidth = Math.max(labelWidth, fm.stringWidth(l));
            }
            g.dispose();
            labelWidth += 3 * pad;
        }
        int cols = Math.min(columns, images.size());
        List<String> captions = columnLabels == null ? List.of() : columnLabels;
        if (!captions.isEmpty() && captions.size() != cols) {
            throw new IllegalArgumentException("image grid has " + cols + " columns but got " + captions.size() + " column labels");
        }
        Font small = font.deriveFont((float) Math.max(10, font.getSize() - 2));
        List<List<String>> wrapped = new java.util.ArrayList<>();
        int captionHeight = 0;
        if (!captions.isEmpty()) {
            BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            Graphics2D pg = probe.createGraphics();
            FontMetrics sfm = pg.getFontMetrics(small);
            int lines = 0;
            for (String c : captions) {
                List<String> l = wrap(c == null ? "" : c, sfm, cellW);
                wrapped.add(l);
                lines = Math.max(lines, l.size());
            }
            captionHeight = lines * sfm.getHeight() + pad;
            pg.dispose();
        }
        BufferedImage out = new BufferedImage(labelWidth + pad + cols * (cellW + pad),
                pad + rows * (cellH + pad) + captionHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(font);
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        for (int r = 0; r < labels.size(); r++) {
            int y = pad + r * (cellH + pad) + cellH / 2 + (fm.getAscent() - fm.getDescent()) / 2;
            g.drawString(labels.get(r), pad, y);
        }
        if (!wrapped.isEmpty()) {
            g.setFont(small);
            FontMetrics sfm = g.getFontMetrics();
            int top = pad + rows * (cellH + pad);
            for (int c = 0; c < wrapped.size(); c++) {
                int x0 = labelWidth + pad + c * (cellW + pad);
                for (int l = 0; l < wrapped.get(c).size(); l++) {
                    String text = wrapped.get(c).get(l);
                    g.drawString(text, x0 + Math.max(0, (cellW - sfm.stringWidth(text)) / 2), top + sfm.getAscent() + l * sfm.getHeight());
                }
            }
        }
        g.dispose();
        int plane = h * w;
        for (int i = 0; i < images.size(); i++) {
            float[] chw = images.get(i);
            if (chw == null || (chw.length != plane && chw.length != 3 * plane)) {
                throw new IllegalArgumentException("image " + i + " must hold " + plane + " (grey) or " + 3 * plane
                        + " (RGB) floats for " + h + "x" + w + ", got " + (chw == null ? "null" : chw.length));
            }
            boolean rgb = chw.length == 3 * plane;
            int x0 = labelWidth + pad + (i % columns) * (cellW + pad);
            int y0 = pad + (i / columns) * (cellH + pad);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = y * w + x;
                    int red = toByte(chw[p]);
                    int green = rgb ? toByte(chw[plane + p]) : red;
                    int blue = rgb ? toByte(chw[2 * plane + p]) : red;
                    int argb = (red << 16) | (green << 8) | blue;
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) {
                            out.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, argb);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Maps an image with values in [-1, 1] to [0, 1] (a new array): (v + 1) / 2. */
    public static float[] fromSigned(float[] image) {
        float[] out = new float[image.length];
        for (int i = 0; i < image.length; i++) {
            out[i] = (image[i] + 1f) * 0.5f;
        }
        return out;
    }

    private static int toByte(float v) {
        float c = Float.isNaN(v) ? 0f : Math.max(0f, Math.min(1f, v));
        return Math.round(c * 255f);
    }

    private static void requireSeries(Map<String, ?> series) {
        if (series == null || series.isEmpty()) {
            throw new IllegalArgumentException("a plot needs at least one series, got none");
        }
    }

    private static void style(Styler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setSeriesColors(PALETTE);
        s.setLegendPosition(Styler.LegendPosition.InsideNW);
        s.setAntiAlias(true);
    }

    private static void write(Chart<?, ?> chart, Path png) throws IOException {
        writePng(png, () -> BitmapEncoder.getBufferedImage(chart));
    }

    /** Renders, then writes the PNG; a rendering failure becomes {@link #renderingFailed}'s IOException. */
    private static void writePng(Path png, java.util.function.Supplier<BufferedImage> render) throws IOException {
        BufferedImage img;
        try {
            img = render.get();
        } catch (RuntimeException | Error e) {
            throw renderingFailed(png, e);
        }
        createParent(png);
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer available for " + png);
        }
    }

    /**
     * Drawing text needs fontconfig and at least one font; a minimal system has neither, and AWT then fails deep in
     * its font manager ("Fontconfig head is null", an UnsatisfiedLinkError for libfreetype, ...). Those become an
     * IOException that says what to install. Argument errors of this class are not rendering failures.
     */
    static IOException renderingFailed(Path png, Throwable e) {
        if (e instanceof IllegalArgumentException iae) throw iae;
        if (e instanceof VirtualMachineError vme) throw vme;
        return new IOException("could not render " + png.getFileName() + ": drawing text needs fontconfig and a font "
                + "(Debian: apt-get install fontconfig fonts-dejavu-core; scripts/setup installs them). AWT said: "
                + e, e);
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }
}
