package io.progrpo.world.latent;

import io.progrpo.sampler.Decoder;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Conv2d;
import io.progrpo.tensor.nn.Module;

import java.util.Arrays;

/**
 * A small VAE-style autoencoder: RGB images {@code [N, 3, S, S]} in [0, 1] to latents {@code [N, C, S/4, S/4]}.
 * <pre>
 * encoder: conv3x3 3->w @S, SiLU; conv3x3/2 w->2w @S/2, SiLU; conv3x3/2 2w->2w @S/4, SiLU;
 *          h + conv3x3(SiLU conv3x3(SiLU h)) @S/4; SiLU; conv3x3 2w->2C: (mean, log-variance), log-variance clamped to [-30, 20]
 * decoder: conv3x3 C->2w @S/4; h + conv3x3(SiLU conv3x3(SiLU h)); nearest x2, conv3x3 2w->w @S/2;
 *          h + conv3x3(SiLU conv3x3(SiLU h));
 *          nearest x2, conv3x3 w->w/2 @S; h + conv3x3(SiLU conv3x3(SiLU h)); SiLU; conv3x3 w/2->3
 *          (the image in [0, 1], clamped when decoding)
 * </pre>
 * Trained ({@link LatentPretraining#trainAutoencoder}) on reconstruction MSE plus a small weight times the KL
 * divergence of N(mean, exp(log-variance)) from N(0, 1). The flow works on SCALED latents, as SD's
 * {@code (z - shift) * scale}: {@link #encode} returns {@code (mean - shift) * scale} and {@link #decode} inverts it,
 * with {@code shift} and {@code scale} measured on encoded scenes ({@link #measureScaling}) so that the scaled latents
 * have mean 0 and variance 1 like the flow's noise.
 */
public final class LatentAutoencoder extends Module {
    /** The posterior of a batch: {@code mean}, {@code logVar} {@code [N, C, S/4, S/4]} (unscaled). */
    public record Posterior(Tensor mean, Tensor logVar) {}

    private final AutoencoderConfig config;
    private final Conv2d encIn;
    private final Conv2d encDown1;
    private final Conv2d encDown2;
    private final Conv2d encRes;
    private final Conv2d encRes2;
    private final Conv2d encOut;
    private final Conv2d decIn;
    private final Conv2d decRes1;
    private final Conv2d decRes1b;
    private final Conv2d decUp1;
    private final Conv2d decRes2;
    private final Conv2d decRes2b;
    private final Conv2d decUp2;
    private final Conv2d decRes3;
    private final Conv2d decRes3b;
    private final Conv2d decOut;
    private double shift = 0;
    private double scale = 1;

    public LatentAutoencoder(AutoencoderConfig config, long seed) {
        this(config, seed, Device.CPU);
    }

    public LatentAutoencoder(AutoencoderConfig config, long seed, Device device) {
        if (config == null) throw new IllegalArgumentException("autoencoder config must not be null");
        this.config = config;
        int w = config.width();
        int c = config.latentChannels();
        try (Generator g = Generator.create(seed, device)) {
            encIn = registerModule("encIn", new Conv2d(3, w, 3, 1, 1, g, device));
            encDown1 = registerModule("encDown1", new Conv2d(w, 2L * w, 3, 2, 1, g, device));
            encDown2 = registerModule("encDown2", new Conv2d(2L * w, 2L * w, 3, 2, 1, g, device));
            encRes = registerModule("encRes", new Conv2d(2L * w, 2L * w, 3, 1, 1, g, device));
            encRes2 = registerModule("encRes2", new Conv2d(2L * w, 2L * w, 3, 1, 1, g, device));
            encOut = registerModule("encOut", new Conv2d(2L * w, 2L * c, 3, 1, 1, g, device));
            decIn = registerModule("decIn", new Conv2d(c, 2L * w, 3, 1, 1, g, device));
            decRes1 = registerModule("decRes1", new Conv2d(2L * w, 2L * w, 3, 1, 1, g, device));
            decRes1b = registerModule("decRes1b", new Conv2d(2L * w, 2L * w, 3, 1, 1, g, device));
            decUp1 = registerModule("decUp1", new Conv2d(2L * w, w, 3, 1, 1, g, device));
            decRes2 = registerModule("decRes2", new Conv2d(w, w, 3, 1, 1, g, device));
            decRes2b = registerModule("decRes2b", new Conv2d(w, w, 3, 1, 1, g, device));
            decUp2 = registerModule("decUp2", new Conv2d(w, w / 2, 3, 1, 1, g, device));
            decRes3 = registerModule("decRes3", new Conv2d(w / 2, w / 2, 3, 1, 1, g, device));
            decRes3b = registerModule("decRes3b", new Conv2d(w / 2, w / 2, 3, 1, 1, g, device));
            decOut = registerModule("decOut", new Conv2d(w / 2, 3, 3, 1, 1, g, device));
        }
    }

    public AutoencoderConfig config() {
        return config;
    }

    public Device device() {
        return encIn.namedParameters().get("weight").device();
    }

    /** The latent shift (subtracted before scaling). */
    public double shiftFactor() {
        return shift;
    }

    /** The latent scaling factor (SD's 0.18215): scaled latents are {@code (z - shift) * scale}. */
    public double scalingFactor() {
        return scale;
    }

    /** Sets the latent normalisation, e.g. from {@link #measureScaling} or a checkpoint. */
    public void setLatentScaling(double shift, double scale) {
        if (!Double.isFinite(shift) || !(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("latent shift must be finite and scale finite and > 0, got shift " + shift + ", scale " + scale);
        }
        this.shift = shift;
        this.scale = scale;
    }

    /** The posterior of images {@code [N, 3, S, S]}, in the caller's scope. */
    public Posterior posterior(Tensor images) {
        checkImages(images);
        int c = config.latentChannels();
        try (Scope s = Scope.open()) {
            Tensor h = conv(encIn, images.to(device(), DType.FLOAT32), 1).silu();
            h = conv(encDown1, h, 2).silu();
            h = conv(encDown2, h, 2).silu();
            h = h.add(conv(encRes2, conv(encRes, h.silu(), 1).silu(), 1)).silu();
            Tensor moments = conv(encOut, h, 1);
            return new Posterior(s.keep(moments.narrow(1, 0, c).contiguous()), s.keep(moments.narrow(1, c, c).clamp(-30, 20)));
        }
    }

    /** Unscaled latents {@code z} to images (not clamped), {@code [N, 3, S, S]}. */
    public Tensor decodeRaw(Tensor z) {
        checkLatents(z);
        int half = config.imageSize() / 2;
        int full = config.imageSize();
        try (Scope s = Scope.open()) {
            Tensor h = conv(decIn, z.to(device(), DType.FLOAT32), 1);
            h = h.add(conv(decRes1b, conv(decRes1, h.silu(), 1).silu(), 1));
            h = conv(decUp1, Functional.interpolate(h, half, half, Functional.Interpolation.NEAREST), 1);
            h = h.add(conv(decRes2b, conv(decRes2, h.silu(), 1).silu(), 1));
            h = conv(decUp2, Functional.interpolate(h, full, full, Functional.Interpolation.NEAREST), 1);
            h = h.add(conv(decRes3b, conv(decRes3, h.silu(), 1).silu(), 1));
            return s.keep(conv(decOut, h.silu(), 1));
        }
    }

    /** Scaled latents {@code (mean - shift) * scale} of images (the posterior's mode), float32, in the caller's scope. */
    public Tensor encode(Tensor images) {
        try (Scope s = Scope.open()) {
            return s.keep(posterior(images).mean().sub(shift).mul(scale));
        }
    }

    /** Images in [0, 1] of scaled latents: {@code clamp(decodeRaw(z / scale + shift), 0, 1)}. */
    public Tensor decode(Tensor scaledLatents) {
        try (Scope s = Scope.open()) {
            return s.keep(decodeRaw(scaledLatents.to(DType.FLOAT32).div(scale).add(shift)).clamp(0, 1));
        }
    }

    /** The world's {@link Decoder}: scaled latents to images in [0, 1] (a new tensor, never its argument). */
    public Decoder decoder() {
        return this::decode;
    }

    /**
     * KL(N(mean, exp(logVar)) || N(0, 1)) averaged over every latent element:
     * {@code mean(0.5 (mean^2 + exp(logVar) - 1 - logVar))}, a scalar.
     */
    public static Tensor klDivergence(Posterior p) {
        try (Scope s = Scope.open()) {
            Tensor lv = p.logVar();
            return s.keep(p.mean().square().add(lv.exp()).sub(1).sub(lv).mul(0.5).mean());
        }
    }

    /** The reparameterised sample {@code mean + exp(logVar / 2) * eps}, eps ~ N(0, 1) from {@code gen}. */
    public static Tensor sample(Posterior p, Generator gen) {
        try (Scope s = Scope.open()) {
            Tensor eps = Tensor.randn(gen, p.mean().shape()).to(p.mean().device());
            return s.keep(p.mean().add(p.logVar().mul(0.5).exp().mul(eps)));
        }
    }

    /**
     * Measures the latent normalisation on {@code images}: shift = the mean of the posterior means over every
     * element, scale = 1 / their standard deviation; sets and returns {@code {shift, scale}}.
     */
    public double[] measureScaling(Tensor images) {
        try (Scope s = Scope.open(); var ng = io.progrpo.tensor.Autograd.noGrad()) {
            Tensor z = posterior(images).mean();
            double m = z.mean().item();
            double sd = Math.sqrt(z.sub(m).square().mean().item());
            if (!(sd > 0)) throw new IllegalStateException("the encoded latents have no spread (std " + sd + "): is the encoder trained?");
            setLatentScaling(m, 1 / sd);
            return new double[] {m, 1 / sd};
        }
    }

    /** Multiply-accumulates of decoding one image (convolutions; activations, upsampling, additions not counted). */
    public static long decoderMacsPerImage(AutoencoderConfig c) {
        long w = c.width();
        long q = (long) c.latentSize() * c.latentSize();
        long h = 4 * q;
        long f = 16 * q;
        return 9 * (q * (c.latentChannels() * 2 * w + 2 * (2 * w * 2 * w)) + h * (2 * w * w + 2 * w * w) + f * (w * (w / 2) + 2 * (w / 2) * (w / 2) + (w / 2) * 3));
    }

    /** Multiply-accumulates of encoding one image. */
    public static long encoderMacsPerImage(AutoencoderConfig c) {
        long w = c.width();
        long q = (long) c.latentSize() * c.latentSize();
        long h = 4 * q;
        long f = 16 * q;
        return 9 * (f * 3 * w + h * w * 2 * w + q * (2 * w * 2 * w + 2 * (2 * w * 2 * w) + 2 * w * 2 * c.latentChannels()));
    }

    public long decoderMacsPerImage() {
        return decoderMacsPerImage(config);
    }

    /** A 3x3 convolution (padding 1), counted for {@link MacCounter}. */
    private static Tensor conv(Conv2d layer, Tensor x, int stride) {
        Tensor y = layer.forward(x);
        MacCounter.add(y.numel() * x.size(1) * 9);
        return y;
    }

    private void checkImages(Tensor x) {
        int sz = config.imageSize();
        if (x == null || x.dim() != 4 || x.size(1) != 3 || x.size(2) != sz || x.size(3) != sz || !x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("images must be float [N, 3, " + sz + ", " + sz + "], got "
                    + (x == null ? "null" : x.dtype() + " " + Arrays.toString(x.shape())));
        }
    }

    private void checkLatents(Tensor z) {
        int c = config.latentChannels();
        int sz = config.latentSize();
        if (z == null || z.dim() != 4 || z.size(1) != c || z.size(2) != sz || z.size(3) != sz || !z.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("latents must be float [N, " + c + ", " + sz + ", " + sz + "], got "
                    + (z == null ? "null" : z.dtype() + " " + Arrays.toString(z.shape())));
        }
    }
}
