package io.progrpo.reward;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import javax.imageio.ImageIO;

/** PNG encoding of one image of a batch (8-bit RGB), for the HTTP reward's {@code png} encoding. Needs java.desktop. */
final class PngImages {
    private PngImages() {}

    static byte[] encode(ImageBatch batch, int i) {
        JpegSizeReward.requireDesktop();
        int h = batch.height();
        int w = batch.width();
        float[] px = batch.pixels();
        int off = batch.offset(i);
        int plane = h * w;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int k = off + y * w + x;
                img.setRGB(x, y, (JpegSizeReward.to8(px[k]) << 16) | (JpegSizeReward.to8(px[k + plane]) << 8) | JpegSizeReward.to8(px[k + 2 * plane]));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) throw new IllegalStateException("no PNG writer in javax.imageio");
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding of image " + i + " failed", e);
        }
        return out.toByteArray();
    }
}
