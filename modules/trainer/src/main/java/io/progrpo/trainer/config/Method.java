package io.progrpo.trainer.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The training methods of the paper, all sharing one loop ({@code io.progrpo.trainer.GrpoTrainer}); they differ only
 * in sampler, prune schedule and subset strategy. The one list of methods: the config's {@code method} field, its
 * presets and the reports take their names from here.
 */
public enum Method {
    /** Flow-GRPO: flow SDE, full group of G, no pruning. */
    FLOW_GRPO("flow-grpo", false, Sampling.FULL_GROUP),
    /** DanceGRPO: DDIM-eta on an epsilon model, one shared initial noise per group, no KL, random subset of steps. */
    DANCE_GRPO("dance-grpo", true, Sampling.FULL_GROUP),
    /** Sample G, train a uniformly random k-subset (the "less is more" control). */
    UNIFORM_SUBSAMPLE("uniform-subsample", false, Sampling.SUBSET_AFTER_SAMPLING),
    /** Sample G, train the maximum-variance k-subset (Optimal Variance Filtering after full sampling). */
    STATIC_OVF("static-ovf", false, Sampling.SUBSET_AFTER_SAMPLING),
    /** Pro-GRPO: expand to G_max and prune with OVF on one-step previews at checkpoints (Standard 48 -> 24 -> 12). */
    PRO_GRPO("pro-grpo", false, Sampling.PRUNED_DURING_SAMPLING),
    /** Pro-GRPO Flash: 24 -> 16 -> 12. */
    PRO_GRPO_FLASH("pro-grpo-flash", false, Sampling.PRUNED_DURING_SAMPLING),
    /**
     * Adaptive expand-and-prune: the funnel (G_max, checkpoints, sizes down to k) is chosen from the preview agreement
     * measured on shadow groups, where it clears {@code adaptiveThreshold}, under {@code computeBudget}.
     */
    PRO_GRPO_ADAPTIVE("pro-grpo-adaptive", false, Sampling.PRUNED_DURING_SAMPLING),
    /**
     * Pro-GRPO in the paper's second setting, on DanceGRPO's: DDIM-eta on an epsilon model, one shared initial noise
     * per group, expand-and-prune 48 -> 32 @30 -> 8 @40 of 50 steps (the baseline is dance-grpo with G = 16).
     */
    PRO_GRPO_DANCE("pro-grpo-dance", true, Sampling.PRUNED_DURING_SAMPLING);

    /** How a method's group reaches training. */
    private enum Sampling { FULL_GROUP, SUBSET_AFTER_SAMPLING, PRUNED_DURING_SAMPLING }

    private final String configName;
    private final boolean diffusion;
    private final Sampling sampling;

    Method(String configName, boolean diffusion, Sampling sampling) {
        this.configName = configName;
        this.diffusion = diffusion;
        this.sampling = sampling;
    }

    public String configName() {
        return configName;
    }

    /** Whether the method trains an epsilon-prediction diffusion model with DDIM (else a flow model). */
    public boolean isDiffusion() {
        return diffusion;
    }

    /** Whether the method prunes during sampling (expand and prune), and so needs a {@code pruneSchedule}. */
    public boolean prunesDuringSampling() {
        return sampling == Sampling.PRUNED_DURING_SAMPLING;
    }

    /** Whether the method chooses its own funnel from measured preview agreement (pro-grpo-adaptive). */
    public boolean adaptsSchedule() {
        return this == PRO_GRPO_ADAPTIVE;
    }

    /** Whether the method trains a k-subset ({@code subsetSize}) of the sampled group, chosen after sampling. */
    public boolean trainsSubset() {
        return sampling == Sampling.SUBSET_AFTER_SAMPLING;
    }

    /** Every method's config name, in the order reports list them. */
    public static List<String> configNames() {
        return Arrays.stream(values()).map(Method::configName).toList();
    }

    /** The config names of the methods with {@code test} true, in order (for messages). */
    static List<String> configNames(java.util.function.Predicate<Method> test) {
        return Arrays.stream(values()).filter(test).map(Method::configName).toList();
    }

    /**
     * The method of a config name (surrounding blanks and case ignored).
     *
     * @throws IllegalArgumentException for an unknown name, listing the names
     */
    public static Method byName(String name) {
        if (name != null) {
            for (Method m : values()) if (m.configName.equals(name.strip().toLowerCase(Locale.ROOT))) return m;
        }
        throw new IllegalArgumentException("unknown method " + (name == null ? "null" : "'" + name + "'") + "; expected one of "
                + configNames());
    }
}
