package io.progrpo.pruning;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A rule that keeps k of a group's G trajectories, looked up by its config name.
 *
 * <p>Built-in strategies (spec section 4):
 * <ul>
 *   <li>{@code ovf}: {@link OptimalVarianceFilter}, the maximal-variance k-subset (Pro-GRPO);</li>
 *   <li>{@code uniform}: a uniformly random k-subset drawn from the given generator (same seed, same subset);</li>
 *   <li>{@code extremes}: the k/2 lowest plus the k - k/2 highest rewards (the fixed baseline);</li>
 *   <li>{@code none}: keeps everything; valid only for k == G (schedules without pruning).</li>
 * </ul>
 * Every strategy returns k distinct indices in ascending order and rejects NaN or infinite rewards.
 */
public interface SubsetStrategy {

    /** Maximal-variance subset, see {@link OptimalVarianceFilter}. */
    SubsetStrategy OVF = new BuiltinStrategy("ovf");
    /** Uniformly random k-subset. */
    SubsetStrategy UNIFORM = new BuiltinStrategy("uniform");
    /** k/2 lowest plus k - k/2 highest. */
    SubsetStrategy EXTREMES = new BuiltinStrategy("extremes");
    /** Keep all; k must equal G. */
    SubsetStrategy NONE = new BuiltinStrategy("none");

    /** The config name of this strategy. */
    String name();

    /**
     * Indices (ascending) of the k trajectories to keep.
     *
     * @param rewards the (proxy) rewards of the group, all finite
     * @param k       how many to keep, 1 &lt;= k &lt;= G
     * @param rng     the random source; only {@code uniform} uses it, the others accept null
     */
    int[] select(double[] rewards, int k, RandomGenerator rng);

    /** The names {@link #byName} accepts. */
    static List<String> names() {
        return List.of(OVF.name(), UNIFORM.name(), EXTREMES.name(), NONE.name());
    }

    /**
     * The built-in strategy with this config name.
     *
     * @throws IllegalArgumentException for an unknown name; the message lists the known names
     */
    static SubsetStrategy byName(String name) {
        for (SubsetStrategy s : List.of(OVF, UNIFORM, EXTREMES, NONE)) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown subset strategy '" + name + "', expected one of " + names());
    }
}
