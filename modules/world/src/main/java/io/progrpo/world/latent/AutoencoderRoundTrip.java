package io.progrpo.world.latent;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.scene.reward.ImageRoundTrip;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The latent world's autoencoder as the reward model's round-trip augmentation: images to scaled latents
 * ({@link LatentAutoencoder#encode}), plus {@code sd_i * eps} per image when asked, back to images
 * ({@link LatentAutoencoder#decode}, clamped to [0, 1]). Renders come back with the autoencoder's smoothing and
 * colour bleeding, and with latent noise with blotches and wobbly edges, as generated images have. Frozen; the
 * identity is the autoencoder's cache hash, so a reward model trained through another autoencoder is another file.
 */
public final class AutoencoderRoundTrip implements ImageRoundTrip, AutoCloseable {
    private final Supplier<LatentAutoencoder> loader;
    private final String identity;
    private final boolean owned;
    private LatentAutoencoder autoencoder;

    /** A round trip through {@code autoencoder} (borrowed: the caller closes it), named {@code identity}. */
    public AutoencoderRoundTrip(LatentAutoencoder autoencoder, String identity) {
        this(() -> autoencoder, identity, false);
        if (autoencoder == null) throw new IllegalArgumentException("a round trip needs an autoencoder, got null");
    }

    private AutoencoderRoundTrip(Supplier<LatentAutoencoder> loader, String identity, boolean owned) {
        if (identity == null || identity.isBlank()) throw new IllegalArgumentException("a round trip needs an identity, got '" + identity + "'");
        this.loader = loader;
        this.identity = identity;
        this.owned = owned;
    }

    /**
     * The round trip through the scene world's default autoencoder ({@code LatentConfig.defaults(new SceneWorldScenes())})
     * cached in {@code cacheDir}. Its identity is known at once (the autoencoder's cache hash); the autoencoder itself
     * is loaded on the first {@link #apply} (pretrained there first when absent, about 2 minutes), so a reward model
     * that is already cached never loads it. It owns the autoencoder.
     */
    public static AutoencoderRoundTrip sceneWorldDefault(Path cacheDir, Consumer<String> log) {
        SceneWorldScenes scenes = new SceneWorldScenes();
        LatentConfig cfg = LatentConfig.defaults(scenes);
        return new AutoencoderRoundTrip(() -> LatentModels.loadOrPretrainAutoencoder(cacheDir, cfg, scenes, Device.CPU, log),
                LatentModels.autoencoderIdentity(cfg, scenes), true);
    }

    /** The autoencoder, loaded now if it was not yet. */
    public LatentAutoencoder autoencoder() {
        if (autoencoder == null) autoencoder = loader.get();
        return autoencoder;
    }

    @Override
    public Tensor apply(Tensor images, double[] latentNoise, float[] noise) {
        int n = (int) images.size(0);
        int le = latentElements();
        if (latentNoise == null || latentNoise.length != n || noise == null || noise.length != n * le) {
            throw new IllegalArgumentException("a round trip of " + n + " images needs " + n + " noise levels and " + (n * le) + " noise values, got "
                    + (latentNoise == null ? "null" : latentNoise.length) + " and " + (noise == null ? "null" : noise.length));
        }
        LatentAutoencoder ae = autoencoder();
        long[] shape = ae.config().latentShape();
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad()) {
            Tensor z = ae.encode(images);
            if (Arrays.stream(latentNoise).anyMatch(v -> v != 0)) {
                float[] sd = new float[n];
                for (int i = 0; i < n; i++) sd[i] = (float) latentNoise[i];
                Device dev = z.device();
                Tensor eps = Tensor.of(noise, n, shape[0], shape[1], shape[2]).to(dev);
                z = z.add(eps.mul(Tensor.of(sd, n, 1, 1, 1).to(dev)));
            }
            return scope.keep(ae.decode(z).to(Device.CPU, DType.FLOAT32));
        }
    }

    @Override
    public int latentElements() {
        long[] s = autoencoder().config().latentShape();
        return (int) (s[0] * s[1] * s[2]);
    }

    @Override
    public String identity() {
        return identity;
    }

    /** Closes the autoencoder when this round trip loaded it ({@link #sceneWorldDefault}); a borrowed one stays open. */
    @Override
    public void close() {
        if (owned && autoencoder != null) autoencoder.close();
        autoencoder = null;
    }
}
