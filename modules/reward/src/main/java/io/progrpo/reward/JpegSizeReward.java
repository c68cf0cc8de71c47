package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * DDPO's JPEG rewards: the size in kB (bytes / 1000) of the image encoded as JPEG at quality 95 by the JDK's ImageIO.
 * {@code jpeg_compressibility} = -size (smaller files are better), {@code jpeg_incompressibility} = +size.
 * Pixels are clamped to [0,1] and rounded to 8 bits first. The prompt is ignored. Metric: {@code size_kb}.
 */
public final class JpegSizeReward implements RewardFunction {
    public static final String COMPRESSIBILITY = "jpeg_compressibility";
    public static final String INCOMPRESSIBILITY = "jpeg_incompressibility";
    /** DDPO's quality setting. */
    public static final float QUALITY = 0.95f;

    private final boolean incompressibility;

    /** @param incompressibility true for +size, false for -size */
    public JpegSizeReward(boolean incompressibility) {
        this.incompressibility = incompressibility;
    }

    @Override
    public String name() {
        return incompressibility ? INCOMPRESSIBILITY : COMPRESSIBILITY;
    }

    @Override
    public RewardOutput score(Tensor images, List<String> prompts) {
        ImageBatch batch = ImageBatch.of(images, name());
        double[] kb = new double[batch.count()];
        double[] scores = new double[batch.count()];
        for (int i = 0; i < batch.count(); i++) {
            kb[i] = jpegBytes(batch, i) / 1000.0;
            scores[i] = incompressibility ? kb[i] : -kb[i];
        }
        return new RewardOutput(scores, Map.of("size_kb", kb));
    }

    /**
     * java.desktop is an optional dependency (`requires static`): a runtime without it (a jlink image with java.base
     * only) gets this message instead of a NoClassDefFoundError.
     */
    static void requireDesktop() {
        Module me = JpegSizeReward.class.getModule();
        boolean ok = me.isNamed()
                ? me.getLayer() != null && me.getLayer().findModule("java.desktop").map(me::canRead).orElse(false)
                : ModuleLayer.boot().findModule("java.desktop").isPresent();
        if (!ok) {
            throw new IllegalStateException("the JPEG rewards need the java.desktop module (javax.imageio): run with "
                    + "--add-modules java.desktop, or use a runtime that has it");
        }
    }

    /** The JPEG-encoded size in bytes of image i at {@link #QUALITY}. */
    public static int jpegBytes(ImageBatch batch, int i) {
        requireDesktop();
        int h = batch.height();
        int w = batch.width();
        float[] px = batch.pixels();
        int off = batch.offset(i);
        int plane = h * w;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int k = off + y * w + x;
                img.setRGB(x, y, (to8(px[k]) << 16) | (to8(px[k + plane]) << 8) | to8(px[k + 2 * plane]));
            }
        }
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        if (!writers.hasNext()) throw new IllegalStateException("no JPEG writer in javax.imageio");
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(QUALITY);
            writer.setOutput(out);
            writer.write(null, new IIOImage(img, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG encoding of image " + i + " failed", e);
        } finally {
            writer.dispose();
        }
        return bytes.size();
    }

    static int to8(float v) {
        // NaN -> 0: a broken image still encodes, the reward stays finite
        double c = v >= 0 ? Math.min(v, 1f) : 0;
        return (int) Math.round(c * 255);
    }

    /** Provider of {@code jpeg_compressibility}. */
    public static final class CompressibilityProvider implements RewardProvider {
        @Override
        public String name() {
            return COMPRESSIBILITY;
        }

        @Override
        public String description() {
            return "DDPO: minus the JPEG size (kB) at quality 95; higher for simpler images";
        }

        @Override
        public RewardFunction create() {
            return new JpegSizeReward(false);
        }
    }

    /** Provider of {@code jpeg_incompressibility}. */
    public static final class IncompressibilityProvider implements RewardProvider {
        @Override
        public String name() {
            return INCOMPRESSIBILITY;
        }

        @Override
        public String description() {
            return "DDPO: the JPEG size (kB) at quality 95; higher for more detailed images";
        }

        @Override
        public RewardFunction create() {
            return new JpegSizeReward(true);
        }
    }
}
