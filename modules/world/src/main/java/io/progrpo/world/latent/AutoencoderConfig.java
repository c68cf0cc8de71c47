package io.progrpo.world.latent;

/**
 * The shape of a {@link LatentAutoencoder}: RGB images {@code [3, S, S]} to latents {@code [C, S/4, S/4]}.
 *
 * @param imageSize      S (a multiple of 4; 32 by default)
 * @param latentChannels C (4 by default, as SD's VAE)
 * @param width          w: channels at full resolution; 2w at half and quarter resolution (32 by default)
 */
public record AutoencoderConfig(int imageSize, int latentChannels, int width) {
    /** The spatial factor between images and latents. */
    public static final int FACTOR = 4;
    public static final int DEFAULT_IMAGE_SIZE = 32;
    public static final int DEFAULT_LATENT_CHANNELS = 4;
    public static final int DEFAULT_WIDTH = 32;
    public static final AutoencoderConfig DEFAULTS = new AutoencoderConfig(DEFAULT_IMAGE_SIZE, DEFAULT_LATENT_CHANNELS, DEFAULT_WIDTH);

    public AutoencoderConfig {
        if (imageSize < 8 || imageSize % FACTOR != 0) {
            throw new IllegalArgumentException("imageSize must be a multiple of " + FACTOR + " and >= 8, got " + imageSize);
        }
        if (latentChannels < 1) throw new IllegalArgumentException("latentChannels must be >= 1, got " + latentChannels);
        if (width < 2 || width % 2 != 0) throw new IllegalArgumentException("width must be even and >= 2, got " + width);
    }

    /** S / 4. */
    public int latentSize() {
        return imageSize / FACTOR;
    }

    /** The latent shape {@code {C, S/4, S/4}}. */
    public long[] latentShape() {
        return new long[] {latentChannels, latentSize(), latentSize()};
    }
}
