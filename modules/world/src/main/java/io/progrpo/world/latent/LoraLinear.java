package io.progrpo.world.latent;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

/**
 * A linear layer with an optional LoRA adapter: {@code y = x W^T + b + s (alpha / r) (x A^T) B^T}, where
 * {@code A [r, in]} starts as PyTorch's Kaiming-uniform (U(-1/sqrt(in), 1/sqrt(in)), as PEFT) and {@code B [out, r]}
 * starts at zero, so the adapted layer starts equal to the base one. {@code s} is the adapter scale of the call:
 * 1 for the policy, 0 for the adapters-disabled reference (the adapter is then not computed at all).
 * Parameters: {@code weight}, {@code bias} (optional), {@code lora_A}, {@code lora_B} (rank > 0 only).
 */
public final class LoraLinear extends Module {
    /** Every adapter parameter's name contains this (the trainable pattern of LoRA fine-tuning). */
    public static final String ADAPTER_MARK = "lora_";

    private final long in;
    private final long out;
    private final boolean bias;
    private final int rank;
    private final double alpha;

    public LoraLinear(long in, long out, boolean bias, int rank, double alpha, Generator gen, Device device) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("LoraLinear needs in, out >= 1, got " + in + ", " + out);
        if (rank < 0) throw new IllegalArgumentException("LoRA rank must be >= 0 (0: no adapter), got " + rank);
        if (rank > 0 && !(alpha > 0 && Double.isFinite(alpha))) {
            throw new IllegalArgumentException("LoRA alpha must be finite and > 0, got " + alpha);
        }
        this.in = in;
        this.out = out;
        this.bias = bias;
        this.rank = rank;
        this.alpha = alpha;
        double bound = 1 / Math.sqrt(in);
        registerParameter("weight", uniform(gen, bound, device, out, in));
        if (bias) registerParameter("bias", uniform(gen, bound, device, out));
        if (rank > 0) {
            registerParameter("lora_A", uniform(gen, bound, device, rank, in));
            registerParameter("lora_B", Tensor.zeros(io.progrpo.tensor.DType.FLOAT32, device, out, rank));
        }
    }

    /** The base layer only, as {@code forward(x, 0)}. */
    public Tensor forward(Tensor x) {
        return forward(x, 0);
    }

    /** {@code x [..., in]} to {@code [..., out]}; the adapter term is scaled by {@code adapterScale}. */
    public Tensor forward(Tensor x, double adapterScale) {
        if (x.size(-1) != in) {
            throw new IllegalArgumentException("LoraLinear(" + in + " -> " + out + ") expects last dimension " + in + ", got " + x);
        }
        long rows = x.numel() / in;
        MacCounter.add(rows * in * out);
        if (rank == 0 || adapterScale == 0) return Functional.linear(x, parameter("weight"), bias ? parameter("bias") : null);
        MacCounter.add(rows * rank * (in + out));
        try (Scope s = Scope.open()) {
            Tensor y = Functional.linear(x, parameter("weight"), bias ? parameter("bias") : null);
            Tensor low = Functional.linear(x, parameter("lora_A"), null);
            Tensor up = Functional.linear(low, parameter("lora_B"), null);
            return s.keep(y.add(up.mul(adapterScale * alpha / rank)));
        }
    }

    /** Sets every base parameter (weight and bias) to zero: adaLN-Zero's modulation and the zero output layer. */
    void zeroBase() {
        try (var ng = Autograd.noGrad()) {
            parameter("weight").fill(0);
            if (bias) parameter("bias").fill(0);
        }
    }

    public long inFeatures() {
        return in;
    }

    public long outFeatures() {
        return out;
    }

    public int rank() {
        return rank;
    }

    public double alpha() {
        return alpha;
    }

    /** Multiply-accumulates of {@code rows} rows, with or without the adapter. */
    public long macs(long rows, boolean withAdapter) {
        return rows * in * out + (withAdapter && rank > 0 ? rows * rank * (in + out) : 0);
    }
}
