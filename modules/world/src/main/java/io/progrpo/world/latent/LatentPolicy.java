package io.progrpo.world.latent;

import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

import java.util.Map;

/**
 * The GRPO policy over a {@link LatentFlowTransformer}: a {@link Module} whose parameters are aliases of the
 * generator's trainable subset (the LoRA adapters, or every base weight for {@link TrainingMode#FULL}), with every
 * other parameter of the generator and its text encoder frozen. An optimizer over {@link #parameters()} trains the
 * generator in place, and the trainer's checkpoints ({@code stateDict}) hold just that subset, so
 * {@code GrpoTrainer} takes it as its policy unchanged.
 *
 * <p>{@link #reference()} is the KL reference: for LORA the same generator with its adapters off (adapter scale 0, no
 * extra memory); for FULL a frozen copy of the generator as it is now (sharing the frozen text encoder).
 * A FULL policy runs with the adapters off (they stay at zero).
 */
public final class LatentPolicy extends Module implements VelocityModel {
    private final LatentFlowTransformer generator;
    private final boolean ownsGenerator;
    private final TrainingMode mode;
    private final double adapterScale;

    private LatentPolicy(LatentFlowTransformer generator, boolean ownsGenerator, TrainingMode mode, double adapterScale,
                         Map<String, Tensor> trainable) {
        this.generator = generator;
        this.ownsGenerator = ownsGenerator;
        this.mode = mode;
        this.adapterScale = adapterScale;
        // new handles on the same tensors: gradients and optimizer steps reach the generator's own parameters
        trainable.forEach((name, t) -> registerParameterAlias(name, t.to(t.device(), t.dtype())));
    }

    /**
     * The policy training {@code mode}'s subset of {@code generator} (borrowed: close this policy, then the
     * generator). Freezes the rest of the generator and its text encoder. Build it after moving the generator to its
     * device.
     *
     * @throws IllegalArgumentException for LORA on a generator without adapters
     */
    public static LatentPolicy of(LatentFlowTransformer generator, TrainingMode mode) {
        if (generator == null) throw new IllegalArgumentException("generator must not be null");
        Map<String, Tensor> trainable = generator.trainableParameters(mode);
        for (Tensor t : generator.parameters()) freeze(t);
        for (Tensor t : generator.textEncoder().parameters()) freeze(t);
        return new LatentPolicy(generator, false, mode, mode == TrainingMode.LORA ? 1.0 : 0.0, trainable);
    }

    /**
     * The reference policy for the KL term (no trainable parameters). LORA: this generator with adapter scale 0
     * (shares the generator: close it before or with this policy). FULL: a frozen copy of the generator's current
     * weights, which the reference owns.
     */
    public LatentPolicy reference() {
        if (mode == TrainingMode.LORA) return new LatentPolicy(generator, false, mode, 0.0, Map.of());
        LatentFlowTransformer copy = new LatentFlowTransformer(generator.config(), generator.textEncoder(), 0, generator.device());
        try {
            copy.to(generator.device(), generator.dtype());
            copy.loadStateDict(generator.stateDict(), true);
            copy.requiresGrad(false).eval();
            return new LatentPolicy(copy, true, mode, 0.0, Map.of());
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /** No gradient and none left over (e.g. from pretraining), so a frozen weight holds no gradient memory. */
    private static void freeze(Tensor t) {
        t.setRequiresGrad(false);
        t.zeroGrad();
    }

    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        return generator.predict(x, t, cond, adapterScale);
    }

    public LatentFlowTransformer generator() {
        return generator;
    }

    public TrainingMode mode() {
        return mode;
    }

    /** 1 for a LORA policy, 0 for its reference and for FULL (adapters off). */
    public double adapterScale() {
        return adapterScale;
    }

    /** Multiply-accumulates of one row's forward as this policy runs it (text encoder included). */
    public long forwardMacsPerRow() {
        return LatentFlowTransformer.forwardMacs(generator.config(), adapterScale != 0) + generator.textEncoder().macsPerRow();
    }

    /** Not supported: the parameters alias the generator's; move the models first, then build the policy. */
    @Override
    public Module to(Device device, DType dtype) {
        throw new UnsupportedOperationException("a latent policy's parameters alias its generator's: move the models "
                + "(LatentModels.to) before building the policy");
    }

    /** Closes the parameter aliases, and the generator when this is a FULL reference that owns its copy. */
    @Override
    public void close() {
        super.close();
        if (ownsGenerator) generator.close();
    }
}
