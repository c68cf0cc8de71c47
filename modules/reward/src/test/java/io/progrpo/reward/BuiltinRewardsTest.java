package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

import org.junit.jupiter.api.Test;

class BuiltinRewardsTest {
    @Test
    void registryListsTheBuiltIns() {
        List<String> names = RewardRegistry.available();
        assertTrue(names.containsAll(List.of("jpeg_compressibility", "jpeg_incompressibility")), names.toString());
        assertEquals(names.stream().sorted().toList(), names);
        assertTrue(RewardRegistry.descriptions().get("jpeg_compressibility").contains("JPEG"));
        assertEquals("jpeg_compressibility", RewardRegistry.create("jpeg_compressibility").name());
    }

    @Test
    void unknownNameListsTheAvailableRewards() {
        var e = assertThrows(IllegalArgumentException.class, () -> RewardRegistry.create("pickscore"));
        assertTrue(e.getMessage().contains("'pickscore'"), e.getMessage());
        assertTrue(e.getMessage().contains("jpeg_compressibility"), e.getMessage());
    }

    @Test
    void flatImageCompressesBetterThanNoise() {
        int n = 4;
        int h = 32;
        int w = 32;
        float[] px = new float[n * 3 * h * w];
        Random rnd = new Random(1);
        int img = 3 * h * w;
        // image 0: flat gray; 1: noise; 2: flat red; 3: half noise
        for (int i = 0; i < img; i++) px[i] = 0.5f;
        for (int i = 0; i < img; i++) px[img + i] = rnd.nextFloat();
        for (int i = 0; i < h * w; i++) px[2 * img + i] = 1f;
        for (int i = 0; i < img; i++) px[3 * img + i] = (i % w) < w / 2 ? rnd.nextFloat() : 0f;
        List<String> prompts = Collections.nCopies(n, "anything");
        try (Scope _ = Scope.open()) {
            Tensor images = Tensor.of(px, n, 3, h, w);
            RewardOutput comp = RewardRegistry.create("jpeg_compressibility").score(images, prompts);
            RewardOutput incomp = RewardRegistry.create("jpeg_incompressibility").score(images, prompts);
            double[] c = comp.scores();
            assertTrue(c[0] > c[3] && c[3] > c[1], "flat > half noise > noise: " + java.util.Arrays.toString(c));
            assertTrue(c[2] > c[1]);
            double[] kb = comp.metrics().get("size_kb");
            ImageBatch batch = new ImageBatch(px, n, h, w);
            for (int i = 0; i < n; i++) {
                assertEquals(-c[i], incomp.score(i), 0);
                assertEquals(kb[i], -c[i], 0);
                assertEquals(independentJpegBytes(batch, i) / 1000.0, kb[i], 1e-12, "image " + i);
                assertTrue(kb[i] > 0);
            }
        }
    }

    /** Encodes image i with ImageIO directly (raster access, not the reward's setRGB path) at quality 0.95. */
    private static int independentJpegBytes(ImageBatch b, int i) throws RuntimeException {
        try {
            BufferedImage img = new BufferedImage(b.width(), b.height(), BufferedImage.TYPE_INT_RGB);
            var raster = img.getRaster();
            for (int y = 0; y < b.height(); y++) {
                for (int x = 0; x < b.width(); x++) {
                    for (int c = 0; c < 3; c++) raster.setSample(x, y, c, Math.round(Math.clamp(b.get(i, c, y, x), 0f, 1f) * 255));
                }
            }
            ImageWriter wr = ImageIO.getImageWritersByFormatName("jpg").next();
            ImageWriteParam param = wr.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.95f);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (var out = new MemoryCacheImageOutputStream(bytes)) {
                wr.setOutput(out);
                wr.write(null, new IIOImage(img, null, null), param);
            }
            wr.dispose();
            return bytes.size();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void wrongImageShapesAreRejectedWithTheShape() {
        try (Scope _ = Scope.open()) {
            for (String name : List.of("jpeg_incompressibility", "jpeg_compressibility")) {
                RewardFunction f = RewardRegistry.create(name);
                Tensor gray = Tensor.zeros(2, 1, 16, 16);
                var e = assertThrows(IllegalArgumentException.class, () -> f.score(gray, List.of("a red circle at the left", "a red circle at the left")));
                assertTrue(e.getMessage().contains("[2, 1, 16, 16]") && e.getMessage().contains(name), e.getMessage());
                Tensor chw = Tensor.zeros(3, 16, 16);
                e = assertThrows(IllegalArgumentException.class, () -> f.score(chw, List.of("a", "b", "c")));
                assertTrue(e.getMessage().contains("[3, 16, 16]"), e.getMessage());
                Tensor ok = Tensor.zeros(2, 3, 16, 16);
                e = assertThrows(IllegalArgumentException.class, () -> f.score(ok, List.of("a red circle at the left")));
                assertTrue(e.getMessage().contains("2 images and 1 prompts"), e.getMessage());
            }
        }
    }

    @Test
    void imageBatchReadsNchw() {
        float[] px = new float[2 * 3 * 2 * 4];
        for (int i = 0; i < px.length; i++) px[i] = i / 100f;
        try (Scope _ = Scope.open()) {
            ImageBatch b = ImageBatch.of(Tensor.of(px, 2, 3, 2, 4), "test");
            assertArrayEquals(new long[] {2, 3, 2, 4}, b.shape());
            assertEquals(px[24 + 2 * 8 + 1 * 4 + 3], b.get(1, 2, 1, 3));
            assertEquals(24, b.offset(1));
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new ImageBatch(new float[10], 1, 2, 2));
        assertTrue(e.getMessage().contains("12") && e.getMessage().contains("10"), e.getMessage());
    }
}
