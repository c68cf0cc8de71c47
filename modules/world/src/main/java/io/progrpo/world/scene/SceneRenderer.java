package io.progrpo.world.scene;

import io.progrpo.tensor.Tensor;

import java.util.List;
import java.util.Random;

/**
 * Renders scenes to float RGB images, CHW (3 x size x size) with values in [0, 1], anti-aliased (each object's
 * coverage of a pixel from its signed distance, {@link SceneShape#coverage}), objects composited over the
 * background in order, each object pixel with up to +-{@value #PIXEL_NOISE} of noise.
 */
public final class SceneRenderer {
    public static final int DEFAULT_SIZE = 32;
    public static final int MIN_SIZE = 32;
    public static final double PIXEL_NOISE = 0.02;

    private final int size;

    /** A 32 x 32 renderer. */
    public SceneRenderer() {
        this(DEFAULT_SIZE);
    }

    /** A renderer of size x size images, size >= {@value #MIN_SIZE}. */
    public SceneRenderer(int size) {
        if (size < MIN_SIZE) throw new IllegalArgumentException("scene images need a side of at least " + MIN_SIZE + " pixels, got " + size);
        this.size = size;
    }

    public int size() {
        return size;
    }

    /** Floats per image: 3 * size * size. */
    public int imageSize() {
        return 3 * size * size;
    }

    /** The scene as a CHW image. */
    public float[] render(Scene s) {
        float[] out = new float[imageSize()];
        renderInto(s, out, 0);
        return out;
    }

    /** A random valid image of the prompt ({@link SceneLayout#sample}), CHW. */
    public float[] render(ScenePrompt p, Random rnd) {
        return render(SceneLayout.sample(p, rnd));
    }

    /** N random images of the prompts, flattened [N, 3, size, size]; deterministic in the seed. */
    public float[] renderBatch(List<ScenePrompt> prompts, long seed) {
        Random rnd = new Random(seed);
        float[] out = new float[prompts.size() * imageSize()];
        for (int i = 0; i < prompts.size(); i++) renderInto(SceneLayout.sample(prompts.get(i), rnd), out, i * imageSize());
        return out;
    }

    /** {@link #renderBatch} as a float32 CPU tensor [N, 3, size, size] (the caller owns it). */
    public Tensor batch(List<ScenePrompt> prompts, long seed) {
        return Tensor.of(renderBatch(prompts, seed), prompts.size(), 3, size, size);
    }

    /** The scenes as a float32 CPU tensor [N, 3, size, size] (the caller owns it). */
    public Tensor scenes(List<Scene> scenes) {
        float[] out = new float[scenes.size() * imageSize()];
        for (int i = 0; i < scenes.size(); i++) renderInto(scenes.get(i), out, i * imageSize());
        return Tensor.of(out, scenes.size(), 3, size, size);
    }

    /** Draws the scene into {@code out} at {@code offset}. */
    public void renderInto(Scene s, float[] out, int offset) {
        s.background().paint(out, offset, size, size);
        int plane = size * size;
        Random noise = new Random(s.noise());
        for (PlacedObject o : s.objects()) {
            double cx = o.cx() * size;
            double cy = o.cy() * size;
            double d = o.size() * size;
            float[] rgb = o.rgb();
            int x0 = Math.max(0, (int) Math.floor(cx - d) - 1);
            int x1 = Math.min(size - 1, (int) Math.ceil(cx + d) + 1);
            int y0 = Math.max(0, (int) Math.floor(cy - d) - 1);
            int y1 = Math.min(size - 1, (int) Math.ceil(cy + d) + 1);
            for (int y = y0; y <= y1; y++) {
                for (int x = x0; x <= x1; x++) {
                    double cov = o.shape().coverage(x, y, cx, cy, d);
                    if (cov == 0) continue;
                    for (int c = 0; c < 3; c++) {
                        int i = offset + c * plane + y * size + x;
                        double v = rgb[c] + (noise.nextDouble() * 2 - 1) * PIXEL_NOISE;
                        out[i] = (float) (out[i] * (1 - cov) + v * cov);
                    }
                }
            }
        }
        for (int i = offset; i < offset + imageSize(); i++) out[i] = out[i] < 0 ? 0 : (out[i] > 1 ? 1 : out[i]);
    }
}
