package io.progrpo.app.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotsTest {

    /** Rendered samples are also copied here so a person can look at them. */
    private static final Path CHECK_DIR = Path.of(System.getProperty("java.io.tmpdir"), "plot-check");

    private static BufferedImage decodeAndKeep(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img != null, "not a decodable PNG: " + png);
        Files.createDirectories(CHECK_DIR);
        Files.copy(png, CHECK_DIR.resolve(png.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        return img;
    }

    @Test
    void binCountsMatchAnIndependentCount() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + rnd.nextInt(200);
            int bins = 1 + rnd.nextInt(30);
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = rnd.nextGaussian();
            }
            double min = Arrays.stream(v).min().orElseThrow();
            double max = Arrays.stream(v).max().orElseThrow();
            if (min == max) {
                continue;
            }
            long[] expected = new long[bins];
            for (double x : v) {
                // bin b covers [min + b w, min + (b+1) w), the last one closed
                for (int b = 0; b < bins; b++) {
                    double lo = min + b * (max - min) / bins;
                    double hi = min + (b + 1) * (max - min) / bins;
                    if (x >= lo && (x < hi || b == bins - 1)) {
                        expected[b]++;
                        break;
                    }
                }
            }
            long[] got = Plots.binCounts(v, min, max, bins);
            assertEquals(n, Arrays.stream(got).sum());
            // floating edges may move a value by one bin; totals per bin agree except at such ties
            long diff = 0;
            for (int b = 0; b < bins; b++) {
                diff += Math.abs(expected[b] - got[b]);
            }
            assertTrue(diff <= 2, Arrays.toString(expected) + " vs " + Arrays.toString(got));
        }
        assertArrayEquals(new long[]{1, 1, 2}, Plots.binCounts(new double[]{0, 1, 2, 3, 7}, 0, 3, 3));
    }

    @Test
    void histogramOfAGroupAndItsSubsets(@TempDir Path dir) throws IOException {
        SplittableRandom rnd = new SplittableRandom(11);
        double[] full = new double[24];
        for (int i = 0; i < full.length; i++) {
            full[i] = 0.5 + 0.1 * rnd.nextGaussian();
        }
        double[] sorted = full.clone();
        Arrays.sort(sorted);
        double[] uniform = Arrays.copyOf(full, 12); // the first 12 of a random draw is a uniform subset
        double[] ovf = new double[12]; // 6 lowest + 6 highest: the kind of subset OVF keeps
        System.arraycopy(sorted, 0, ovf, 0, 6);
        System.arraycopy(sorted, 18, ovf, 6, 6);
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("full group G=24", full);
        series.put("uniform k=12", uniform);
        series.put("OVF k=12", ovf);
        Path png = dir.resolve("histogram-group-vs-subsets.png");
        Plots.histogram(png, "Reward distribution: full group vs uniform vs OVF subsets", series, 10);
        BufferedImage img = decodeAndKeep(png);
        assertEquals(Plots.WIDTH, img.getWidth());
        assertEquals(Plots.HEIGHT, img.getHeight());
    }

    @Test
    void linesOfEvalRewardAgainstWallTime(@TempDir Path dir) throws IOException {
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("flow-grpo", curve(1.0, 0.30));
        series.put("pro-grpo", curve(0.8, 0.38));
        Path png = dir.resolve("lines-eval-reward-vs-time.png");
        Plots.lines(png, "Eval reward vs wall time", "wall time (s)", "eval reward", series);
        BufferedImage img = decodeAndKeep(png);
        assertEquals(Plots.WIDTH, img.getWidth());
        assertEquals(Plots.HEIGHT, img.getHeight());
    }

    private static double[][] curve(double secondsPerEpoch, double plateau) {
        double[][] pts = new double[10][];
        for (int e = 0; e < pts.length; e++) {
            pts[e] = new double[]{e * 10 * secondsPerEpoch, plateau * (1 - Math.exp(-e / 3.0))};
        }
        return pts;
    }

    @Test
    void imageGridWithRowLabels(@TempDir Path dir) throws IOException {
        int h = 16;
        int w = 16;
        List<float[]> images = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            float[] chw = new float[3 * h * w];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    chw[y * w + x] = x / (w - 1f);                 // red ramps left to right
                    chw[h * w + y * w + x] = y / (h - 1f);         // green ramps top to bottom
                    chw[2 * h * w + y * w + x] = i / 7f;           // blue by image index
                }
            }
            images.add(chw);
        }
        Path png = dir.resolve("grid-2x4-rgb-ramps.png");
        Plots.imageGrid(png, images, h, w, 4, List.of("flow-grpo", "pro-grpo"), 4);
        BufferedImage img = decodeAndKeep(png);
        BufferedImage direct = Plots.renderGrid(images, h, w, 4, List.of("flow-grpo", "pro-grpo"), 4);
        assertEquals(direct.getWidth(), img.getWidth());
        assertEquals(2 + 2 * (h * 4 + 2), img.getHeight());
        int labelWidth = img.getWidth() - 2 - 4 * (w * 4 + 2);
        assertTrue(labelWidth > 20, "label margin " + labelWidth);
        // top-right pixel of the first image's last column: red 255, green 0, blue 0
        int x0 = labelWidth + 2;
        assertEquals(0xFF0000, img.getRGB(x0 + w * 4 - 1, 2) & 0xFFFFFF);
        // grey image, no labels: exact size and value
        float[] grey = new float[h * w];
        Arrays.fill(grey, 0.5f);
        BufferedImage g = Plots.renderGrid(List.of(grey), h, w, 3, null, 2);
        assertEquals(2 + (w * 2 + 2), g.getWidth());
        assertEquals(0x808080, g.getRGB(2, 2) & 0xFFFFFF);
    }

    @Test
    void columnLabelsAreWrappedUnderTheirColumns(@TempDir Path dir) throws IOException {
        int h = 8;
        int w = 8;
        List<float[]> images = new ArrayList<>();
        for (int i = 0; i < 6; i++) images.add(new float[3 * h * w]);  // black images
        List<String> prompts = List.of("a red circle left of a blue square", "two green crosses", "a circle");
        BufferedImage plain = Plots.renderGrid(images, h, w, 3, List.of("base", "flow-grpo"), null, 4);
        BufferedImage captioned = Plots.renderGrid(images, h, w, 3, List.of("base", "flow-grpo"), prompts, 4);
        assertEquals(plain.getWidth(), captioned.getWidth());
        assertTrue(captioned.getHeight() > plain.getHeight() + 10, captioned.getHeight() + " vs " + plain.getHeight());
        // the caption area holds dark text pixels under the first column, the grid above it is unchanged
        int dark = 0;
        for (int y = plain.getHeight(); y < captioned.getHeight(); y++) {
            for (int x = captioned.getWidth() - 3 * (w * 4 + 2); x < captioned.getWidth() - 2 * (w * 4 + 2); x++) {
                if ((captioned.getRGB(x, y) & 0xFF) < 128) dark++;
            }
        }
        assertTrue(dark > 5, "text pixels under column 0: " + dark);
        for (int y = 0; y < plain.getHeight(); y++) assertEquals(plain.getRGB(plain.getWidth() - 3, y), captioned.getRGB(plain.getWidth() - 3, y));
        // a 32 px column wraps the long prompt onto several lines
        java.awt.FontMetrics fm = plain.createGraphics().getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        List<String> lines = Plots.wrap(prompts.get(0), fm, 32);
        assertTrue(lines.size() >= 3, lines.toString());
        assertEquals(prompts.get(0), String.join(" ", lines));
        Plots.imageGrid(dir.resolve("captioned.png"), images, h, w, 3, List.of("base", "flow-grpo"), prompts, 4);
        assertEquals(captioned.getHeight(), decodeAndKeep(dir.resolve("captioned.png")).getHeight());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Plots.renderGrid(images, h, w, 3, null, List.of("one", "two"), 4));
        assertTrue(e.getMessage().contains("3 columns") && e.getMessage().contains("2 column labels"), e.getMessage());
    }

    @Test
    void badInputsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Plots.renderGrid(List.of(new float[10]), 4, 4, 2, null, 1));
        assertTrue(e.getMessage().contains("got 10"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Plots.renderGrid(List.of(new float[16], new float[16], new float[16]), 4, 4, 2,
                        List.of("only one"), 1));
        assertTrue(e.getMessage().contains("2 rows") && e.getMessage().contains("1 row labels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Plots.lines(Path.of("x.png"), "t", "x", "y",
                Map.of("s", new double[][]{{1, 2}, {3}})));
        assertTrue(e.getMessage().contains("'s' point 1") && e.getMessage().contains("1 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Plots.histogram(Path.of("x.png"), "t",
                Map.of("s", new double[]{1, Double.NaN}), 5));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Plots.histogram(Path.of("x.png"), "t",
                Map.of("s", new double[]{1}), 0));
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    }

    @Test
    void aFontFailureBecomesAnIOExceptionThatSaysWhatToInstall() {
        // What AWT throws on a system without fontconfig or fonts (seen on a minimal Debian root).
        IOException e = Plots.renderingFailed(Path.of("out/fig.png"),
                new RuntimeException("Fontconfig head is null, check your fonts or fonts configuration"));
        assertTrue(e.getMessage().contains("fig.png") && e.getMessage().contains("fonts-dejavu-core")
                && e.getMessage().contains("Fontconfig head is null"), e.getMessage());
        e = Plots.renderingFailed(Path.of("g.png"), new UnsatisfiedLinkError("libfreetype.so.6: cannot open"));
        assertTrue(e.getMessage().contains("libfreetype"), e.getMessage());
        // Argument errors and the JVM's own errors are not rendering failures: they pass through unchanged.
        var bad = new IllegalArgumentException("bins must be >= 1");
        assertEquals(bad, assertThrows(IllegalArgumentException.class, () -> Plots.renderingFailed(Path.of("x.png"), bad)));
        var oom = new OutOfMemoryError("heap");
        assertEquals(oom, assertThrows(OutOfMemoryError.class, () -> Plots.renderingFailed(Path.of("x.png"), oom)));
    }

    @Test
    void fromSignedMapsToUnitRange() {
        assertArrayEquals(new float[]{0f, 0.5f, 1f}, Plots.fromSigned(new float[]{-1f, 0f, 1f}));
    }
}
