package io.progrpo.world.scene.reward;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Locale;
import java.util.Random;

/**
 * How the reward model's training images (the scenes and the hard-negative images alike) are degraded toward the
 * generator's output, which is smoother, blotchier and less exact than a render. Per image, in this order, each with
 * its own draw from the trainer's {@link Random}:
 * <ol>
 *   <li>with probability {@code roundTrip}: through the {@link ImageRoundTrip} (the latent autoencoder), with Gaussian
 *       noise of a standard deviation uniform in [0, {@code latentNoise}] added to the scaled latents;</li>
 *   <li>with probability {@code blur}: one 3 x 3 binomial blur ([1 2 1] / 4 each way, edges replicated);</li>
 *   <li>Gaussian pixel noise of a standard deviation uniform in [0, {@code noise}], then a clamp to [0, 1].</li>
 * </ol>
 * A label stays true under all of them (they move no object and change no colour), so the captions are unchanged.
 *
 * @param roundTrip   probability of the autoencoder round trip, in [0, 1]
 * @param latentNoise the largest latent noise standard deviation of a round trip (>= 0)
 * @param blur        probability of a blur, in [0, 1]
 * @param noise       the largest pixel-noise standard deviation (>= 0)
 */
public record RewardAugmentation(double roundTrip, double latentNoise, double blur, double noise) {
    /** No augmentation: the renders as they are. */
    public static final RewardAugmentation NONE = new RewardAugmentation(0, 0, 0, 0);

    public RewardAugmentation {
        if (!(roundTrip >= 0 && roundTrip <= 1)) throw new IllegalArgumentException("roundTrip must be a probability in [0, 1], got " + roundTrip);
        if (!(blur >= 0 && blur <= 1)) throw new IllegalArgumentException("blur must be a probability in [0, 1], got " + blur);
        if (!(latentNoise >= 0) || Double.isInfinite(latentNoise)) throw new IllegalArgumentException("latentNoise must be finite and >= 0, got " + latentNoise);
        if (!(noise >= 0) || Double.isInfinite(noise)) throw new IllegalArgumentException("noise must be finite and >= 0, got " + noise);
    }

    public boolean isNone() {
        return equals(NONE);
    }

    /** For cache keys. */
    public String identity() {
        return String.format(Locale.ROOT, "roundTrip=%s,latentNoise=%s,blur=%s,noise=%s", roundTrip, latentNoise, blur, noise);
    }

    /**
     * Augments {@code n} images {@code [n, 3, s, s]} (CHW floats in [0, 1]) in place.
     *
     * @throws IllegalArgumentException when a round trip is asked for and {@code rt} is null
     */
    public void apply(float[] images, int n, int s, ImageRoundTrip rt, Random rnd) {
        if (n == 0 || isNone()) return;
        int px = 3 * s * s;
        if (images.length != n * px) throw new IllegalArgumentException("expected " + n + " images of " + px + " floats, got " + images.length + " floats");
        if (roundTrip > 0) {
            if (rt == null) throw new IllegalArgumentException("the augmentation asks for an autoencoder round trip (p " + roundTrip + ") but none was given");
            roundTrip(images, n, px, s, rt, rnd);
        }
        float[] tmp = new float[s * s];
        for (int i = 0; i < n; i++) {
            if (blur > 0 && rnd.nextDouble() < blur) for (int c = 0; c < 3; c++) blur(images, i * px + c * s * s, s, tmp);
            if (noise > 0) {
                double sd = noise * rnd.nextDouble();
                for (int k = i * px; k < (i + 1) * px; k++) images[k] = (float) Math.min(1, Math.max(0, images[k] + sd * rnd.nextGaussian()));
            }
        }
    }

    private void roundTrip(float[] images, int n, int px, int s, ImageRoundTrip rt, Random rnd) {
        int[] chosen = new int[n];
        int m = 0;
        for (int i = 0; i < n; i++) if (rnd.nextDouble() < roundTrip) chosen[m++] = i;
        if (m == 0) return;
        int le = rt.latentElements();
        double[] sd = new double[m];
        float[] eps = new float[m * le];
        float[] in = new float[m * px];
        for (int j = 0; j < m; j++) {
            System.arraycopy(images, chosen[j] * px, in, j * px, px);
            sd[j] = latentNoise * rnd.nextDouble();
            if (sd[j] > 0) for (int k = 0; k < le; k++) eps[j * le + k] = (float) rnd.nextGaussian();
        }
        float[] out;
        try (Scope scope = Scope.open()) {
            out = rt.apply(Tensor.of(in, m, 3, s, s), sd, eps).contiguous().toFloatArray();
        }
        if (out.length != in.length) throw new IllegalStateException("the round trip returned " + out.length + " floats for " + in.length);
        for (int j = 0; j < m; j++) System.arraycopy(out, j * px, images, chosen[j] * px, px);
    }

    /** One separable [1 2 1] / 4 blur of the s x s plane at {@code off}, edges replicated. */
    static void blur(float[] v, int off, int s, float[] tmp) {
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                int l = Math.max(0, x - 1);
                int r = Math.min(s - 1, x + 1);
                tmp[y * s + x] = 0.25f * v[off + y * s + l] + 0.5f * v[off + y * s + x] + 0.25f * v[off + y * s + r];
            }
        }
        for (int y = 0; y < s; y++) {
            int u = Math.max(0, y - 1);
            int d = Math.min(s - 1, y + 1);
            for (int x = 0; x < s; x++) v[off + y * s + x] = 0.25f * tmp[u * s + x] + 0.5f * tmp[y * s + x] + 0.25f * tmp[d * s + x];
        }
    }
}
