package io.progrpo.world.latent;

import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latent world's generator: a flow-matching transformer in miniature of SD3's shape.
 * <pre>
 * latents [B, C, S, S] -> patchify (p x p) -> Linear to d -> + position (learned, initialised to the 2D sin-cos code)
 * c = MLP(timestep features of 1000 sigma) + MLP(pooled text)              (SD3's time + pooled-text embedding)
 * context = Linear(text tokens)                                            (SD3's context embedder)
 * depth x FlowBlock(h, context, SiLU(c))    adaLN-Zero self-attention, cross-attention to the text, MLP
 * final: modulate(LN(h), Linear(SiLU(c)))  -> Linear to C p^2 (zero-initialised) -> unpatchify
 * </pre>
 * It predicts the velocity {@code v = noise - x0} at time {@code sigma} in [0, 1] ({@code FlowSdeSampler}'s
 * convention) for token-id conditioning {@code [B, L]} int64, which it encodes with the {@link TextEncoder} it was
 * given (borrowed: the caller closes it after this model); the all-padding row is the null prompt of
 * classifier-free guidance. LoRA adapters ({@link LoraLinear}, rank {@code loraRank}) sit on q, k, v and out of every
 * attention; {@link #predict} uses them, {@link #predict(Tensor, Tensor, Tensor, double)} scales them (0: the base).
 * The untrained model predicts 0 (zero output layer, zero adaLN gates).
 *
 * <p>Inputs of any float dtype; it runs in the parameters' dtype and returns float32.
 */
public final class LatentFlowTransformer extends Module implements VelocityModel {
    /** Features of the timestep sinusoid (DiT's frequency embedding size). */
    public static final int TIME_FEATURES = 256;

    private final FlowTransformerConfig config;
    private final TextEncoder text;
    private final LoraLinear patchEmbed;
    private final LoraLinear timeIn;
    private final LoraLinear timeOut;
    private final LoraLinear pooledIn;
    private final LoraLinear pooledOut;
    private final LoraLinear contextEmbed;
    private final List<FlowBlock> blocks = new ArrayList<>();
    private final LoraLinear finalAdaLN;
    private final LoraLinear finalOut;

    /** A fresh generator on the CPU in float32, conditioned through {@code text}; the same seed gives the same weights. */
    public LatentFlowTransformer(FlowTransformerConfig config, TextEncoder text, long seed) {
        this(config, text, seed, Device.CPU);
    }

    public LatentFlowTransformer(FlowTransformerConfig config, TextEncoder text, long seed, Device device) {
        if (config == null || text == null) {
            throw new IllegalArgumentException("a generator needs a config and a text encoder, got " + config + ", " + text);
        }
        TextEncoderConfig tc = text.config();
        if (tc.width() != config.textWidth() || tc.tokens() != config.textTokens()) {
            throw new IllegalArgumentException("the generator expects text states of width " + config.textWidth() + " over "
                    + config.textTokens() + " tokens, the text encoder gives width " + tc.width() + " over " + tc.tokens());
        }
        this.config = config;
        this.text = text;
        int d = config.width();
        int grid = config.latentSize() / config.patch();
        try (Generator g = Generator.create(seed, device)) {
            patchEmbed = registerModule("patchEmbed", new LoraLinear(config.patchValues(), d, true, 0, 0, g, device));
            registerParameter("position", LatentOps.sincos2dTensor(grid, grid, d, device));
            timeIn = registerModule("timeIn", new LoraLinear(TIME_FEATURES, d, true, 0, 0, g, device));
            timeOut = registerModule("timeOut", new LoraLinear(d, d, true, 0, 0, g, device));
            pooledIn = registerModule("pooledIn", new LoraLinear(config.textWidth(), d, true, 0, 0, g, device));
            pooledOut = registerModule("pooledOut", new LoraLinear(d, d, true, 0, 0, g, device));
            contextEmbed = registerModule("contextEmbed", new LoraLinear(config.textWidth(), d, true, 0, 0, g, device));
            for (int i = 0; i < config.depth(); i++) blocks.add(registerModule("block" + i, new FlowBlock(config, g, device)));
            finalAdaLN = registerModule("finalAdaLN", new LoraLinear(d, 2L * d, true, 0, 0, g, device));
            finalAdaLN.zeroBase();
            finalOut = registerModule("finalOut", new LoraLinear(d, config.patchValues(), true, 0, 0, g, device));
            finalOut.zeroBase();
        }
    }

    public FlowTransformerConfig config() {
        return config;
    }

    /** The text encoder this generator is conditioned through (borrowed). */
    public TextEncoder textEncoder() {
        return text;
    }

    public DType dtype() {
        return parameter("position").dtype();
    }

    public Device device() {
        return parameter("position").device();
    }

    /** The velocity with the adapters on (adapter scale 1). */
    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        return predict(x, t, cond, 1.0);
    }

    /**
     * The velocity for latents {@code x [B, C, S, S]}, times {@code t [B]} (sigma in [0, 1]) and token ids
     * {@code cond [B, L]} int64, with the LoRA term scaled by {@code adapterScale}; float32 {@code [B, C, S, S]}
     * in the caller's scope.
     *
     * @throws IllegalArgumentException when a shape or dtype is not the config's, naming expected and actual
     */
    public Tensor predict(Tensor x, Tensor t, Tensor cond, double adapterScale) {
        check(x, t, cond);
        long b = x.size(0);
        int d = config.width();
        int p = config.patch();
        int grid = config.latentSize() / p;
        DType dt = dtype();
        Device dev = device();
        try (Scope s = Scope.open()) {
            TextEncoder.Encoded e = text.encode(cond.to(text.device()));
            Tensor tokens = e.tokens().to(dev, dt);
            Tensor pooled = e.pooled().to(dev, dt);
            Tensor h = patchEmbed.forward(LatentOps.patchify(x.to(dev, dt), p)).add(parameter("position").reshape(1, (long) grid * grid, d));
            Tensor time = timeOut.forward(timeIn.forward(LatentOps.timestepFeatures(t.to(dev), TIME_FEATURES).to(dt)).silu());
            Tensor c = time.add(pooledOut.forward(pooledIn.forward(pooled).silu()));
            Tensor siluC = c.silu();
            Tensor context = contextEmbed.forward(tokens);
            for (FlowBlock block : blocks) h = block.forward(h, context, siluC, adapterScale);
            Tensor mod = finalAdaLN.forward(siluC);
            Tensor normed = Functional.layerNorm(h, new long[] {d}, null, null, 1e-6);
            Tensor out = finalOut.forward(LatentOps.modulate(normed, mod.narrow(1, 0, d), mod.narrow(1, d, d)));
            Tensor v = LatentOps.unpatchify(out, p, config.latentChannels(), grid, grid);
            return s.keep(v.to(DType.FLOAT32));
        }
    }

    private void check(Tensor x, Tensor t, Tensor cond) {
        int c = config.latentChannels();
        int sz = config.latentSize();
        if (x == null || t == null || cond == null) {
            throw new IllegalArgumentException("predict needs x, t and cond, got x " + x + ", t " + t + ", cond " + cond);
        }
        long[] xs = x.shape();
        if (xs.length != 4 || xs[1] != c || xs[2] != sz || xs[3] != sz || !x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("x must be float latents [B, " + c + ", " + sz + ", " + sz + "], got "
                    + x.dtype() + " " + Arrays.toString(xs));
        }
        long b = xs[0];
        if (t.dim() != 1 || t.size(0) != b || !t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("t must be a float tensor [" + b + "] (one sigma per row), got " + t.dtype() + " "
                    + Arrays.toString(t.shape()));
        }
        if (cond.dtype() != DType.INT64 || cond.dim() != 2 || cond.size(0) != b || cond.size(1) != config.textTokens()) {
            throw new IllegalArgumentException("cond must be int64 token ids [" + b + ", " + config.textTokens() + "], got "
                    + cond.dtype() + " " + Arrays.toString(cond.shape()));
        }
    }

    /** The LoRA adapters (every parameter whose name contains {@code lora_}), by dotted name; empty at rank 0. */
    public Map<String, Tensor> adapterParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> {
            if (k.contains(LoraLinear.ADAPTER_MARK)) out.put(k, v);
        });
        return out;
    }

    /**
     * What GRPO trains in {@code mode}: the adapters (LORA) or every base weight (FULL), by dotted name. The text
     * encoder is not part of either.
     *
     * @throws IllegalArgumentException for LORA on a generator built without adapters (rank 0)
     */
    public Map<String, Tensor> trainableParameters(TrainingMode mode) {
        if (mode == null) throw new IllegalArgumentException("training mode must be LORA or FULL, got null");
        if (mode == TrainingMode.LORA) {
            if (config.loraRank() == 0) {
                throw new IllegalArgumentException("LORA training needs adapters, but this generator has loraRank 0; use FULL");
            }
            return adapterParameters();
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> {
            if (!k.contains(LoraLinear.ADAPTER_MARK)) out.put(k, v);
        });
        return out;
    }

    /** Multiply-accumulates of one row's forward, the text encoder included, with the adapters on. */
    public long forwardMacsPerRow() {
        return forwardMacs(config, true) + text.macsPerRow();
    }

    /**
     * Multiply-accumulates of one row's forward of a generator of this shape, without its text encoder (linear
     * layers and the two attention products; norms, activations and additions not counted, as in the usual FLOP
     * accounting). With N image tokens, L text tokens, d width, m MLP ratio, r LoRA rank, t text width:
     * <pre>
     * embed   = N C p^2 d + 256 d + d^2 + t d + d^2 + L t d
     * block   = 9 d^2 + [4 N d^2 + 2 N^2 d] + [2 N d^2 + 2 L d^2 + 2 N L d] + 2 m N d^2
     *           + adapters: r (2d) (N + N + N + N) + r (2d) (N + L + L + N)
     * final   = 2 d^2 + N d C p^2
     * </pre>
     */
    public static long forwardMacs(FlowTransformerConfig c, boolean withAdapters) {
        long n = c.imageTokens();
        long l = c.textTokens();
        long d = c.width();
        long t = c.textWidth();
        long pv = c.patchValues();
        long m = c.mlpRatio();
        long embed = n * pv * d + (long) TIME_FEATURES * d + d * d + t * d + d * d + l * t * d;
        long block = 9 * d * d + (4 * n * d * d + 2 * n * n * d) + (2 * n * d * d + 2 * l * d * d + 2 * n * l * d) + 2 * m * n * d * d;
        if (withAdapters && c.loraRank() > 0) block += (long) c.loraRank() * 2 * d * (4 * n + 2 * n + 2 * l);
        long fin = 2 * d * d + n * d * pv;
        return embed + c.depth() * block + fin;
    }
}
