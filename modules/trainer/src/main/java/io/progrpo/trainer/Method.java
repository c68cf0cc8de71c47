package io.progrpo.trainer;

import java.util.Arrays;
import java.util.Locale;

/**
 * The training methods of the paper, all sharing one loop ({@link GrpoTrainer}); they differ only in sampler,
 * prune schedule and subset strategy.
 */
public enum Method {
    /** Flow-GRPO: flow SDE, full group of G, no pruning. */
    FLOW_GRPO("flow-grpo", false),
    /** DanceGRPO: DDIM-eta on an epsilon model, one shared initial noise per group, no KL, random subset of steps. */
    DANCE_GRPO("dance-grpo", true),
    /** Sample G, train a uniformly random k-subset (the "less is more" control). */
    UNIFORM_SUBSAMPLE("uniform-subsample", false),
    /** Sample G, train the maximum-variance k-subset (Optimal Variance Filtering after full sampling). */
    STATIC_OVF("static-ovf", false),
    /** Pro-GRPO: expand to G_max and prune with OVF on one-step previews at checkpoints (Standard 48 -> 24 -> 12). */
    PRO_GRPO("pro-grpo", false),
    /** Pro-GRPO Flash: 24 -> 16 -> 12. */
    PRO_GRPO_FLASH("pro-grpo-flash", false);

    private final String configName;
    private final boolean diffusion;

    Method(String configName, boolean diffusion) {
        this.configName = configName;
        this.diffusion = diffusion;
    }

    public String configName() {
        return configName;
    }

    /** Whether the method trains an epsilon-prediction diffusion model with DDIM (else a flow model). */
    public boolean isDiffusion() {
        return diffusion;
    }

    public static Method byName(String name) {
        for (Method m : values()) if (m.configName.equals(name.strip().toLowerCase(Locale.ROOT))) return m;
        throw new IllegalArgumentException("unknown method '" + name + "'; expected one of "
                + Arrays.stream(values()).map(Method::configName).toList());
    }
}
