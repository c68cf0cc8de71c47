package io.progrpo.reward;

/**
 * The service through which {@link RewardRegistry} finds rewards by name ({@link java.util.ServiceLoader}).
 *
 * <p>A reward outside this module registers a provider either in its module descriptor,
 * {@code provides io.progrpo.reward.RewardProvider with com.example.MyRewardProvider;}, or, on the class path, with a
 * line naming the class in {@code META-INF/services/io.progrpo.reward.RewardProvider}. The class needs a public
 * no-argument constructor.
 */
public interface RewardProvider {
    /** The name the reward is looked up by; unique among the providers found. */
    String name();

    /** One line saying what the reward measures and its range. */
    String description();

    /** A new reward instance (rewards may hold state such as caches; callers create one per use). */
    RewardFunction create();
}
