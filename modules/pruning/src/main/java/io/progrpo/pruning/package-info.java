/**
 * Optimal Variance Filtering, subset strategies, prune schedules and the expand-and-prune driver.
 *
 * <p>The selection and schedule types ({@link io.progrpo.pruning.OptimalVarianceFilter},
 * {@link io.progrpo.pruning.SubsetStrategy}, {@link io.progrpo.pruning.PruneSchedule}) are pure Java over
 * {@code double[]} rewards and need no tensors; the driver applies them to the sampler's active rows.
 */
package io.progrpo.pruning;
