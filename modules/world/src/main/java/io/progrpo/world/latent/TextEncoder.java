package io.progrpo.world.latent;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Embedding;
import io.progrpo.tensor.nn.LayerNorm;
import io.progrpo.tensor.nn.Module;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The latent world's text encoder, SD3's frozen encoders in miniature: token embeddings plus learned positions,
 * {@code layers} pre-LN transformer layers ({@code h + attn(LN(h))}, {@code h + mlp(LN(h))}, GELU MLP of 4x width),
 * a final LayerNorm. It gives the token states (the generator's cross-attention context) and a pooled vector (their
 * mean over the L positions, padding included: the generator's adaLN input, as CLIP's pooled output in SD3).
 * Trained jointly with the generator in pretraining, frozen during GRPO.
 */
public final class TextEncoder extends Module {
    /** The encoder's output for a batch of prompts: {@code tokens [B, L, width]}, {@code pooled [B, width]}. */
    public record Encoded(Tensor tokens, Tensor pooled) {}

    private final TextEncoderConfig config;
    private final Embedding tokenEmbedding;
    private final List<Layer> layers = new ArrayList<>();
    private final LayerNorm finalNorm;

    public TextEncoder(TextEncoderConfig config, long seed) {
        this(config, seed, Device.CPU);
    }

    public TextEncoder(TextEncoderConfig config, long seed, Device device) {
        if (config == null) throw new IllegalArgumentException("text encoder config must not be null");
        this.config = config;
        int w = config.width();
        try (Generator g = Generator.create(seed, device); Scope s = Scope.open()) {
            tokenEmbedding = registerModule("tokenEmbedding", new Embedding(config.vocabSize(), w, g, device));
            registerParameter("position", s.keep(Tensor.randn(g, DType.FLOAT32, device, config.tokens(), w).mul(0.1)));
            for (int i = 0; i < config.layers(); i++) {
                layers.add(registerModule("layer" + i, new Layer(w, config.heads(), g, device)));
            }
            finalNorm = registerModule("finalNorm", new LayerNorm(w, 1e-5, device));
        }
    }

    public TextEncoderConfig config() {
        return config;
    }

    /**
     * Token states and pooled vector of token ids {@code ids [B, L]} int64 (ids in {@code [0, vocabSize)}), in the
     * parameters' dtype, owned by the caller's scope.
     *
     * @throws IllegalArgumentException when the ids are not int64 {@code [B, L]} or hold an id outside the vocabulary
     */
    public Encoded encode(Tensor ids) {
        check(ids);
        long b = ids.size(0);
        int w = config.width();
        try (Scope s = Scope.open()) {
            Tensor h = tokenEmbedding.forward(ids.to(device())).add(parameter("position").reshape(1, config.tokens(), w));
            for (Layer layer : layers) h = layer.forward(h);
            Tensor tokens = finalNorm.forward(h);
            Tensor pooled = tokens.mean(false, 1);
            return new Encoded(s.keep(tokens), s.keep(pooled));
        }
    }

    private void check(Tensor ids) {
        if (ids == null) throw new IllegalArgumentException("token ids must be int64 [B, " + config.tokens() + "], got null");
        if (ids.dtype() != DType.INT64 || ids.dim() != 2 || ids.size(1) != config.tokens()) {
            throw new IllegalArgumentException("token ids must be int64 [B, " + config.tokens() + "], got " + ids.dtype() + " "
                    + Arrays.toString(ids.shape()));
        }
        if (ids.numel() == 0) return;
        try (Scope s = Scope.open()) {
            long lo = ids.amin().itemLong();
            long hi = ids.amax().itemLong();
            if (lo < 0 || hi >= config.vocabSize()) {
                throw new IllegalArgumentException("token ids must lie in [0, " + config.vocabSize() + "), got values from " + lo + " to " + hi);
            }
        }
    }

    public Device device() {
        return parameter("position").device();
    }

    /** Multiply-accumulates of one prompt's encoding (linear layers and attention products; norms not counted). */
    public long macsPerRow() {
        return macsPerRow(config);
    }

    /**
     * Multiply-accumulates of one prompt's encoding by an encoder of this shape: per layer, with L tokens of width w,
     * {@code 4 L w^2} (q, k, v, out) {@code + 2 L^2 w} (the two attention products) {@code + 8 L w^2} (the MLP).
     */
    public static long macsPerRow(TextEncoderConfig c) {
        long l = c.tokens();
        long w = c.width();
        return c.layers() * (4 * l * w * w + 2 * l * l * w + 8 * l * w * w);
    }

    /** One pre-LN transformer layer. */
    private static final class Layer extends Module {
        private final LayerNorm norm1;
        private final Attention attention;
        private final LayerNorm norm2;
        private final LoraLinear fc1;
        private final LoraLinear fc2;

        Layer(int w, int heads, Generator g, Device device) {
            norm1 = registerModule("norm1", new LayerNorm(w, 1e-5, device));
            attention = registerModule("attention", new Attention(w, w, heads, 0, 0, g, device));
            norm2 = registerModule("norm2", new LayerNorm(w, 1e-5, device));
            fc1 = registerModule("fc1", new LoraLinear(w, 4L * w, true, 0, 0, g, device));
            fc2 = registerModule("fc2", new LoraLinear(4L * w, w, true, 0, 0, g, device));
        }

        Tensor forward(Tensor h) {
            try (Scope s = Scope.open()) {
                Tensor a = norm1.forward(h);
                Tensor h1 = h.add(attention.forward(a, a, 0));
                Tensor m = fc2.forward(fc1.forward(norm2.forward(h1)).gelu());
                return s.keep(h1.add(m));
            }
        }
    }
}
