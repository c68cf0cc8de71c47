package io.progrpo.world.model;

import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Conv2d;
import io.progrpo.tensor.nn.Embedding;
import io.progrpo.tensor.nn.GroupNorm;
import io.progrpo.tensor.nn.Linear;
import io.progrpo.tensor.nn.Module;

import java.util.Arrays;
import java.util.List;

/**
 * The generator of the synthetic world: a compact pixel-space UNet conditioned on prompt tokens and time.
 *
 * <pre>
 * [x, coord_y, coord_x]            CoordConv: the prompt names an absolute position
 *   -> conv3x3 stem -> 2 x ResBlock (full resolution)  ------------------- skip
 *   -> avg-pool /2 -> conv3x3 (2w) -> 2 x ResBlock (half resolution)        |
 *   -> conv1x1 (w) -> nearest upsample x2 -> concat skip &lt;------------------
 *   -> conv3x3 -> GroupNorm, SiLU -> conv3x3 to 3 channels (zero-initialised: the net starts at output 0)
 * ResBlock(h) = h + conv3x3(SiLU(FiLM(GroupNorm(h), e)))
 * FiLM(h, e)  = h * (1 + scale(e)) + shift(e)
 * e = SiLU(Linear(concat of the L token embeddings) + MLP(sinusoid(tau)))
 * tau = 1000 sigma (VELOCITY) or the timestep t itself (EPSILON): both span [0, 1000]
 * </pre>
 * The token embeddings are concatenated, not summed, so the slot of each word (color, shape, position) is kept and the
 * all-padding row (the unconditional prompt of classifier-free guidance) has an embedding of its own.
 *
 * <p>{@link #predict} takes float32 (or any float) inputs, runs in the parameters' dtype (float32 or bfloat16 after
 * {@link #to(Device, DType)}) and returns float32. What it predicts depends on {@link WorldModelConfig#p()}:
 * the velocity v = noise - x0 at time sigma in [0, 1] ({@code FlowSdeSampler}'s convention), or the noise at the
 * training timestep t in [0, 1000) ({@code DdimSampler} feeds the timestep value itself).
 *
 * <p>Images live in the renderer's space: CHW floats, black background 0, colors up to 1. The sampler's x0 is the
 * image as is (decoding is the identity).
 */
public final class WorldModel extends Module implements VelocityModel {

    private final WorldModelConfig config;
    private final int timeFeatures;
    private final double timeScale;
    private final Embedding tokenEmbedding;
    private final Linear condProjection;
    private final Linear timeIn;
    private final Linear timeOut;
    private final Conv2d stem;
    private final ResBlock down0;
    private final ResBlock down1;
    private final Conv2d toHalf;
    private final ResBlock mid0;
    private final ResBlock mid1;
    private final Conv2d fromHalf;
    private final Conv2d fuse;
    private final GroupNorm outNorm;
    private final Conv2d out;

    /** A freshly initialised model on the CPU in float32; the same seed gives the same parameters. */
    public WorldModel(WorldModelConfig config, long seed) {
        this(config, seed, Device.CPU);
    }

    public WorldModel(WorldModelConfig config, long seed, Device device) {
        if (config == null) throw new IllegalArgumentException("config must not be null");
        this.config = config;
        int w = config.width();
        int e = 4 * w;
        this.timeFeatures = w;
        // the sinusoid's frequencies are laid out for timestep-like values in [0, 1000]
        this.timeScale = config.p() == Parameterization.VELOCITY ? 1000 : 1;
        try (Generator g = Generator.create(seed, device)) {
            tokenEmbedding = registerModule("tokenEmbedding", new Embedding(config.vocabSize(), w, g, device));
            condProjection = registerModule("condProjection", new Linear((long) config.tokens() * w, e, true, g, device));
            timeIn = registerModule("timeIn", new Linear(timeFeatures, e, true, g, device));
            timeOut = registerModule("timeOut", new Linear(e, e, true, g, device));
            stem = registerModule("stem", new Conv2d(5, w, 3, 1, 1, g, device));
            down0 = registerModule("down0", new ResBlock(w, e, g, device));
            down1 = registerModule("down1", new ResBlock(w, e, g, device));
            toHalf = registerModule("toHalf", new Conv2d(w, 2L * w, 3, 1, 1, g, device));
            mid0 = registerModule("mid0", new ResBlock(2 * w, e, g, device));
            mid1 = registerModule("mid1", new ResBlock(2 * w, e, g, device));
            fromHalf = registerModule("fromHalf", new Conv2d(2L * w, w, 1, 1, 0, g, device));
            fuse = registerModule("fuse", new Conv2d(2L * w, w, 3, 1, 1, g, device));
            outNorm = registerModule("outNorm", new GroupNorm(groups(w), w, 1e-5, device));
            out = registerModule("out", new Conv2d(w, 3, 3, 1, 1, g, device));
        }
        // Zero output layer: the untrained model predicts 0 and the first steps learn the mean target, not noise.
        try (var ng = Autograd.noGrad()) {
            out.namedParameters().values().forEach(t -> t.fill(0));
        }
    }

    public WorldModelConfig config() {
        return config;
    }

    /** The parameters' dtype (float32, or what {@link #to(Device, DType)} chose). */
    public DType dtype() {
        return stem.namedParameters().get("weight").dtype();
    }

    public Device device() {
        return stem.namedParameters().get("weight").device();
    }

    /**
     * The model output for latents {@code x} [B, 3, S, S], per-row times {@code t} [B] and token ids {@code cond}
     * [B, L] int64 (a row of zeros is the unconditional prompt). Returns float32 [B, 3, S, S], owned by the caller's
     * scope (or the caller).
     *
     * @throws IllegalArgumentException when a shape or dtype differs from the config, naming expected and actual
     */
    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        check(x, t, cond);
        long b = x.size(0);
        int s = config.imageSize();
        int w = config.width();
        DType dt = dtype();
        Device dev = device();
        // Every intermediate is closed as soon as the next op has consumed it, so that (without autograd) its memory
        // goes back to the allocator at once and the next op reuses a cache-warm block, as in eager PyTorch. With
        // autograd the graph holds its own references to what backward needs: closing a handle early is safe there
        // and frees nothing it needs. The result is bit-identical either way (the same ops in the same order).
        try (Scope scope = Scope.open()) {
            Tensor e = embed(t, cond.to(dev), dev, dt, b);
            Tensor h;
            try (Scope in = Scope.open()) {
                Tensor xin = x.to(dev, dt);
                Tensor ys = Tensor.linspace(-1, 1, s, dt, dev).reshape(1, 1, s, 1).expand(b, 1, s, s);
                Tensor xs = Tensor.linspace(-1, 1, s, dt, dev).reshape(1, 1, 1, s).expand(b, 1, s, s);
                h = in.keep(stem.forward(Tensor.cat(List.of(xin, ys, xs), 1)));
            }
            h = consumed(h, down0.forward(h, e));
            Tensor skip = consumed(h, down1.forward(h, e));

            Tensor pooled = Functional.avgPool2d(skip, 2);
            h = consumed(pooled, toHalf.forward(pooled));
            h = consumed(h, mid0.forward(h, e));
            h = consumed(h, mid1.forward(h, e));
            e.close();
            h = consumed(h, fromHalf.forward(h));
            h = consumed(h, Functional.interpolate(h, s, s, Functional.Interpolation.NEAREST));

            Tensor joined = Tensor.cat(List.of(h, skip), 1);
            h.close();
            skip.close();
            h = consumed(joined, fuse.forward(joined));
            h = consumed(h, outNorm.forward(h));
            h = consumed(h, h.silu());
            h = consumed(h, out.forward(h));
            return scope.keep(h.dtype() == DType.FLOAT32 ? h : h.to(DType.FLOAT32));
        }
    }

    /** Closes {@code used} (an intermediate its successor was computed from) and returns the successor. */
    private static Tensor consumed(Tensor used, Tensor next) {
        used.close();
        return next;
    }

    /**
     * e = SiLU(Linear(concat token embeddings) + MLP(sinusoid(tau))), [B, 4w] in the parameter dtype, in the current
     * scope; its intermediates are freed before it returns.
     */
    private Tensor embed(Tensor t, Tensor cond, Device dev, DType dt, long b) {
        int half = timeFeatures / 2;
        try (Scope scope = Scope.open()) {
            Tensor t32 = t.to(dev, DType.FLOAT32);
            // frequencies 10000^(-i/half), computed in float32 whatever the parameter dtype
            Tensor freqs = Tensor.arange(0, half, 1, DType.FLOAT32, t32.device()).mul(-Math.log(10000) / half).exp();
            Tensor args = t32.mul(timeScale).reshape(b, 1).mul(freqs.reshape(1, half));
            Tensor sinusoid = Tensor.cat(List.of(args.sin(), args.cos()), 1).to(dt);
            Tensor time = timeOut.forward(timeIn.forward(sinusoid).silu());
            Tensor words = tokenEmbedding.forward(cond).reshape(b, (long) config.tokens() * config.width());
            return scope.keep(condProjection.forward(words).add(time).silu());
        }
    }

    private void check(Tensor x, Tensor t, Tensor cond) {
        int s = config.imageSize();
        if (x == null || t == null || cond == null) {
            throw new IllegalArgumentException("predict needs x, t and cond, got x " + x + ", t " + t + ", cond " + cond);
        }
        long[] xs = x.shape();
        if (xs.length != 4 || xs[1] != 3 || xs[2] != s || xs[3] != s || !x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("x must be a float tensor [B, 3, " + s + ", " + s + "], got " + x);
        }
        long b = xs[0];
        if (t.dim() != 1 || t.size(0) != b || !t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("t must be a float tensor [" + b + "] (one time per row), got " + t);
        }
        if (cond.dtype() != DType.INT64) {
            throw new IllegalArgumentException("cond must hold int64 token ids, got dtype " + cond.dtype() + " (" + cond + ")");
        }
        if (cond.dim() != 2 || cond.size(0) != b || cond.size(1) != config.tokens()) {
            throw new IllegalArgumentException("cond must be int64 [" + b + ", " + config.tokens() + "], got "
                    + Arrays.toString(cond.shape()));
        }
    }

    private static int groups(int channels) {
        for (int g : new int[] {8, 4, 2}) if (channels % g == 0) return g;
        return 1;
    }

    /** h + conv3x3(SiLU(FiLM(GroupNorm(h), e))): one residual block with FiLM conditioning. */
    private static final class ResBlock extends Module {
        private final int channels;
        private final GroupNorm norm;
        private final Linear film;
        private final Conv2d conv;

        ResBlock(int channels, int embedding, Generator g, Device device) {
            this.channels = channels;
            norm = registerModule("norm", new GroupNorm(groups(channels), channels, 1e-5, device));
            film = registerModule("film", new Linear(embedding, 2L * channels, true, g, device));
            conv = registerModule("conv", new Conv2d(channels, channels, 3, 1, 1, g, device));
        }

        /** The block's output belongs to the caller's scope; its intermediates are freed as they are consumed. */
        Tensor forward(Tensor h, Tensor e) {
            long b = h.size(0);
            try (Scope scope = Scope.open()) {
                Tensor ss = film.forward(e).reshape(b, 2L * channels, 1, 1);
                Tensor scale = ss.narrow(1, 0, channels).add(1);
                Tensor shift = ss.narrow(1, channels, channels);
                Tensor y = norm.forward(h);
                y = consumed(y, y.mul(scale));
                scale.close();
                y = consumed(y, y.add(shift));
                ss.close();
                shift.close();
                y = consumed(y, y.silu());
                y = consumed(y, conv.forward(y));
                return scope.keep(h.add(y));
            }
        }
    }

    /**
     * Multiply-accumulates of one forward of one row (conv and linear layers; norms, activations and the embedding
     * lookup are not counted, as in the usual FLOP accounting), for this model's layout: S = image size,
     * w = width, e = 4w, H = S/2.
     */
    public static long forwardMacs(int imageSize, int width, int tokens) {
        long s2 = (long) imageSize * imageSize;
        long h2 = s2 / 4;
        long w = width;
        long e = 4L * w;
        long embed = tokens * w * e + w * e + e * e;
        long film = 2 * (e * 2 * w) + 2 * (e * 4 * w);
        long full = s2 * 9 * (5 * w + 2 * w * w + 2 * w * w + 3 * w); // stem, 2 res convs, fuse (2w -> w), out
        long half = h2 * 9 * (w * 2 * w + 2 * (2 * w * 2 * w)) + h2 * (2 * w * w); // toHalf, 2 res convs, fromHalf 1x1
        return embed + film + full + half;
    }
}
