package io.progrpo.sampler;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

/**
 * Latents to images in [0, 1] ({@code [N, 3, H, W]}): a clamp for pixel-space models, a VAE decoder for latent ones.
 * The expand-and-prune driver decodes each checkpoint's x0 previews and the final latents through it. Returns a NEW
 * tensor (the caller closes it), never its argument.
 */
@FunctionalInterface
public interface Decoder {
    Tensor decode(Tensor latents);

    /**
     * {@code decoder} applied to at most {@code maxRows} latents at a time, each chunk in a scope of its own, the images
     * concatenated: the same images (a decoder maps each latent on its own), with the decoder's intermediates freed
     * chunk by chunk, which bounds the peak memory of decoding a large batch. At most {@code maxRows} latents go straight
     * to {@code decoder}.
     *
     * @throws IllegalArgumentException when {@code decoder} is null or {@code maxRows < 1}
     */
    static Decoder rowChunked(Decoder decoder, int maxRows) {
        if (decoder == null) throw new IllegalArgumentException("decoder must not be null");
        if (maxRows < 1) throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        return latents -> {
            long rows = latents.size(0);
            if (rows <= maxRows) return decoder.decode(latents);
            return RowChunks.concat(rows, maxRows, "decoder", true, (start, n) -> decoder.decode(latents.narrow(0, start, n)));
        };
    }

    /** Pixel-space models: latents are images in [-1, 1]; maps them to [0, 1] and clamps. */
    static Decoder pixelsFromSigned() {
        return x -> {
            try (Scope s = Scope.open()) {
                return s.keep(x.add(1).mul(0.5).clamp(0, 1));
            }
        };
    }
}
