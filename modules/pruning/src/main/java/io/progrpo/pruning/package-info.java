/** Optimal Variance Filtering, subset strategies, prune schedules and the expand-and-prune driver. */
package io.progrpo.pruning;
