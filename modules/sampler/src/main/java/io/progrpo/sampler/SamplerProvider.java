package io.progrpo.sampler;

/**
 * The service through which {@link SamplerRegistry} finds samplers by name ({@link java.util.ServiceLoader}); the
 * trainer's config selects one with {@code sampler=NAME}.
 *
 * <p>A sampler outside this module registers a provider either in its module descriptor,
 * {@code provides io.progrpo.sampler.SamplerProvider with com.example.MySamplerProvider;}, or, on the class path, with
 * a line naming the class in {@code META-INF/services/io.progrpo.sampler.SamplerProvider}. The class needs a public
 * no-argument constructor (or, in a module, a public static {@code provider()} method).
 *
 * <p>A job asks for two samplers: a stochastic one to train with (its steps have log-probs) and one to evaluate
 * with (usually deterministic: the ODE, DDIM eta = 0). Each must have exactly the steps asked for.
 */
public interface SamplerProvider {
    /** The name the sampler is looked up by; unique among the providers found. */
    String name();

    /** One line saying what the sampler does and which models it suits. */
    String description();

    /**
     * The sampler of training, with {@code s.steps()} steps (at least one of them stochastic).
     *
     * @throws IllegalArgumentException when the settings do not suit this sampler, saying why
     */
    Sampler trainSampler(SamplerSettings s);

    /**
     * The sampler of evaluation, with {@code s.evalSteps()} steps.
     *
     * @throws IllegalArgumentException when the settings do not suit this sampler, saying why
     */
    Sampler evalSampler(SamplerSettings s);

    /** Whether this sampler suits a model that predicts {@code p}; the default: every model. */
    default boolean supports(SamplerSettings.Prediction p) {
        return true;
    }
}
