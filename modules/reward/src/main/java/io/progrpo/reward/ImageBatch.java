package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * A batch of RGB images copied to the Java heap: NCHW floats, as reward functions read them.
 *
 * @param pixels row-major [count, 3, height, width]
 */
public record ImageBatch(float[] pixels, int count, int height, int width) {
    public static final int CHANNELS = 3;

    public ImageBatch {
        Objects.requireNonNull(pixels, "pixels");
        if (count < 0 || height < 1 || width < 1) {
            throw new IllegalArgumentException("expected count >= 0 and a positive image size, got " + count + " x 3 x " + height + " x " + width);
        }
        long need = (long) count * CHANNELS * height * width;
        if (pixels.length != need) {
            throw new IllegalArgumentException("images [" + count + ", 3, " + height + ", " + width + "] need " + need + " floats, got " + pixels.length);
        }
    }

    /**
     * Copies {@code images} (any dtype, any device) to the heap after checking its shape.
     *
     * @param reward named in the error message
     * @throws IllegalArgumentException unless the tensor is [N, 3, H, W]
     */
    public static ImageBatch of(Tensor images, String reward) {
        Objects.requireNonNull(images, "images");
        if (images.dim() != 4 || images.size(1) != CHANNELS) {
            throw new IllegalArgumentException("reward '" + reward + "' expects images [N, 3, H, W] (RGB, values in [0,1]), got shape "
                    + Arrays.toString(images.shape()));
        }
        long[] s = images.shape();
        return new ImageBatch(images.toFloatArray(), (int) s[0], (int) s[2], (int) s[3]);
    }

    /** Floats per image. */
    public int imageSize() {
        return CHANNELS * height * width;
    }

    /** Where image i starts in {@link #pixels()}. */
    public int offset(int i) {
        Objects.checkIndex(i, count);
        return i * imageSize();
    }

    /** Channel c of pixel (y, x) of image i. */
    public float get(int i, int c, int y, int x) {
        return pixels[offset(i) + (c * height + y) * width + x];
    }

    /** Image i as a CHW copy. */
    public float[] image(int i) {
        return Arrays.copyOfRange(pixels, offset(i), offset(i) + imageSize());
    }

    /** The shape as a tensor would report it. */
    public long[] shape() {
        return new long[] {count, CHANNELS, height, width};
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageBatch b && count == b.count && height == b.height && width == b.width && Arrays.equals(pixels, b.pixels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(count, height, width, Arrays.hashCode(pixels));
    }

    @Override
    public String toString() {
        return "ImageBatch[" + count + ", 3, " + height + ", " + width + "]";
    }
}
