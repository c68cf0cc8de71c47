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

    /** Pixel-space models: latents are images in [-1, 1]; maps them to [0, 1] and clamps. */
    static Decoder pixelsFromSigned() {
        return x -> {
            try (Scope s = Scope.open()) {
                return s.keep(x.add(1).mul(0.5).clamp(0, 1));
            }
        };
    }
}
