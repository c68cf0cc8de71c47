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
 *
 * <p>Forwards without gradient recording (sampling, the unconditional branch of guidance, evaluation) use the
 * adapter merged into the weight, {@code x (W + s (alpha / r) B A)^T + b}: one matmul instead of three and two
 * element-wise ops (PEFT's merged inference). The merged weight is computed on the first such forward and kept
 * while the three parameters are the same tensors at the same version counters ({@link Tensor#version()}: an
 * optimizer step, {@code copyFrom}, {@code fill} and the distributed broadcast all advance it) and the scale is
 * the same; otherwise it is computed again. A forward that records gradients frees it (training would make it
 * stale with its next optimizer step), so it costs memory only between training phases. It equals the per-call
 * adapter up to float rounding (the order of the sums differs). Writes into a parameter's memory through
 * {@link Tensor#dataSegment()} do not advance the version: change parameters with tensor ops. {@code -Dprogrpo.lora.merge=false} turns merging off (every forward then
 * computes the adapter). Model-FLOP accounting ({@link MacCounter}) counts the adapter either way: it is the model's
 * cost, not the kernel's.
 */
public final class LoraLinear extends Module {
    /** Every adapter parameter's name contains this (the trainable pattern of LoRA fine-tuning). */
    public static final String ADAPTER_MARK = "lora_";

    private final long in;
    private final long out;
    private final boolean bias;
    private final int rank;
    private final double alpha;

    /** Whether no-grad forwards use the merged weight (default true; {@code -Dprogrpo.lora.merge=false}: never). */
    static final boolean MERGE = !"false".equalsIgnoreCase(System.getProperty("progrpo.lora.merge", "true").trim());

    /** The merged weight and what it was computed from (tensor identities, version counters, scale). */
    private Tensor merged;
    private Tensor mergedFromW;
    private Tensor mergedFromA;
    private Tensor mergedFromB;
    private long versionW;
    private long versionA;
    private long versionB;
    private double mergedScale;

    /** Whether no-grad forwards use the merged weight in this JVM ({@code -Dprogrpo.lora.merge}, read once). */
    public static boolean merging() {
        return MERGE;
    }

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
        if (MERGE && !Autograd.isGradEnabled()) {
            return Functional.linear(x, mergedWeight(adapterScale), bias ? parameter("bias") : null);
        }
        if (merged != null) dropMerged(); // training: the optimizer step will make it stale anyway; free it now
        try (Scope s = Scope.open()) {
            Tensor y = Functional.linear(x, parameter("weight"), bias ? parameter("bias") : null);
            Tensor low = Functional.linear(x, parameter("lora_A"), null);
            Tensor up = Functional.linear(low, parameter("lora_B"), null);
            return s.keep(y.add(up.mul(adapterScale * alpha / rank)));
        }
    }

    /** {@code W + scale (alpha / r) B A}, from the cache when W, A, B and the scale are unchanged (see the class doc). */
    private Tensor mergedWeight(double adapterScale) {
        Tensor w = parameter("weight");
        Tensor a = parameter("lora_A");
        Tensor b = parameter("lora_B");
        long vw = w.version();
        long va = a.version();
        long vb = b.version();
        if (merged != null && w == mergedFromW && a == mergedFromA && b == mergedFromB && vw == versionW && va == versionA
                && vb == versionB && adapterScale == mergedScale) {
            return merged;
        }
        Tensor fresh;
        try (Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            fresh = s.keep(w.add(b.matmul(a).mul(adapterScale * alpha / rank)));
        }
        own(fresh);
        dropMerged();
        merged = fresh;
        mergedFromW = w;
        mergedFromA = a;
        mergedFromB = b;
        versionW = vw;
        versionA = va;
        versionB = vb;
        mergedScale = adapterScale;
        return merged;
    }

    private void dropMerged() {
        if (merged != null) merged.close();
        merged = null;
        mergedFromW = mergedFromA = mergedFromB = null;
    }

    /** Whether a merged weight is cached now (for tests). */
    boolean hasMergedWeight() {
        return merged != null && !merged.isClosed();
    }

    @Override
    public void close() {
        if (merged != null) merged.close(); // on the wrong thread this throws before anything is freed, as Module's close
        merged = null;
        mergedFromW = mergedFromA = mergedFromB = null;
        super.close();
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
