package io.progrpo.world;

import java.util.List;
import java.util.Random;

/**
 * Draws the ground-truth image of a prompt: one anti-aliased object of the prompt's color and shape on a black
 * background, its area centroid at the prompt's position. Images are float CHW (3 x H x W) with values in [0,1].
 *
 * <p>Jitter (from the caller's {@link Random}) makes every sample different: the centre moves by up to
 * {@link #OFFSET_JITTER} of the image side on each axis (about 1 px at 16 x 16, 2 px at 32 x 32), the size by
 * +-{@link #SIZE_JITTER}, the object color by up to {@link #COLOR_JITTER} per channel, and each pixel gets up to
 * {@link #PIXEL_NOISE} of noise on its object color.
 */
public final class Renderer {
    public static final int DEFAULT_SIZE = 16;
    public static final double OFFSET_JITTER = 0.06;
    public static final double SIZE_JITTER = 0.10;
    public static final double COLOR_JITTER = 0.06;
    public static final double PIXEL_NOISE = 0.02;

    private final int height;
    private final int width;

    /** A 16 x 16 renderer. */
    public Renderer() {
        this(DEFAULT_SIZE, DEFAULT_SIZE);
    }

    public Renderer(int height, int width) {
        if (height < 8 || width < 8) throw new IllegalArgumentException("image size must be at least 8 x 8, got " + height + " x " + width);
        this.height = height;
        this.width = width;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Floats per image: 3 * H * W. */
    public int imageSize() {
        return 3 * height * width;
    }

    /** The prompt's image without jitter. */
    public float[] renderExact(Prompt p) {
        float[] out = new float[imageSize()];
        draw(out, 0, p, p.position().x() * width, p.position().y() * height, Vocabulary.OBJECT_SIZE * Math.min(height, width),
                p.color().rgb(), null);
        return out;
    }

    /** A jittered ground-truth image of the prompt, CHW. */
    public float[] render(Prompt p, Random rnd) {
        float[] out = new float[imageSize()];
        renderInto(out, 0, p, rnd);
        return out;
    }

    /** N jittered images, flattened [N, 3, H, W]; deterministic in the seed. */
    public float[] renderBatch(List<Prompt> prompts, long seed) {
        Random rnd = new Random(seed);
        float[] out = new float[prompts.size() * imageSize()];
        for (int i = 0; i < prompts.size(); i++) renderInto(out, i * imageSize(), prompts.get(i), rnd);
        return out;
    }

    private void renderInto(float[] out, int offset, Prompt p, Random rnd) {
        double side = Math.min(height, width);
        double cx = (p.position().x() + uniform(rnd, OFFSET_JITTER)) * width;
        double cy = (p.position().y() + uniform(rnd, OFFSET_JITTER)) * height;
        double size = Vocabulary.OBJECT_SIZE * side * (1 + uniform(rnd, SIZE_JITTER));
        float[] rgb = p.color().rgb();
        for (int c = 0; c < 3; c++) rgb[c] = clamp01(rgb[c] + (float) uniform(rnd, COLOR_JITTER));
        draw(out, offset, p, cx, cy, size, rgb, rnd);
    }

    private void draw(float[] out, int offset, Prompt p, double cx, double cy, double size, float[] rgb, Random rnd) {
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double cov = coverage(p.shape(), x, y, cx, cy, size);
                if (cov == 0) continue;
                for (int c = 0; c < 3; c++) {
                    float noise = rnd == null ? 0f : (float) uniform(rnd, PIXEL_NOISE);
                    out[offset + c * plane + y * width + x] = clamp01((float) cov * (rgb[c] + noise));
                }
            }
        }
    }

    /**
     * Approximate fraction of pixel (x, y) covered by the shape centred at (cx, cy) with size {@code size} (pixel
     * units): 0.5 minus the signed distance of the pixel centre to the outline in pixels, clamped to [0,1]. Unlike
     * supersampling it is continuous in the centre and the size, which keeps the alignment score continuous too.
     */
    static double coverage(Vocabulary.Shape shape, int x, int y, double cx, double cy, double size) {
        double sd = shape.signedDistance((x + 0.5 - cx) / size, (y + 0.5 - cy) / size) * size;
        return sd <= -0.5 ? 1 : (sd >= 0.5 ? 0 : 0.5 - sd);
    }

    private static double uniform(Random rnd, double halfWidth) {
        return (rnd.nextDouble() * 2 - 1) * halfWidth;
    }

    private static float clamp01(float v) {
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }
}
