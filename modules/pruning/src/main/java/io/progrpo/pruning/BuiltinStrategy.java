package io.progrpo.pruning;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/** The four built-in {@link SubsetStrategy}s; a record so that equality and printing follow the name. */
record BuiltinStrategy(String name) implements SubsetStrategy {
    @Override
    public int[] select(double[] rewards, int k, RandomGenerator rng) {
        return switch (name) {
            case "ovf" -> OptimalVarianceFilter.select(rewards, k);
            case "uniform" -> uniform(rewards, k, rng);
            case "extremes" -> extremes(rewards, k);
            case "none" -> none(rewards, k);
            default -> throw new IllegalStateException("no built-in strategy named " + name);
        };
    }

    private static int[] uniform(double[] rewards, int k, RandomGenerator rng) {
        OptimalVarianceFilter.checkRewardsAndK(rewards, k);
        if (rng == null) {
            throw new IllegalArgumentException("strategy 'uniform' needs a random generator, got null");
        }
        int g = rewards.length;
        int[] idx = OptimalVarianceFilter.allIndices(g);
        for (int i = 0; i < k; i++) { // partial Fisher-Yates: the first k slots are a uniform k-subset
            int j = i + rng.nextInt(g - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] out = Arrays.copyOf(idx, k);
        Arrays.sort(out);
        return out;
    }

    private static int[] extremes(double[] rewards, int k) {
        OptimalVarianceFilter.checkRewardsAndK(rewards, k);
        return OptimalVarianceFilter.lowPlusHigh(OptimalVarianceFilter.sortedOrder(rewards), k / 2, k);
    }

    private static int[] none(double[] rewards, int k) {
        OptimalVarianceFilter.checkRewardsAndK(rewards, k);
        if (k != rewards.length) {
            throw new IllegalArgumentException(
                    "strategy 'none' keeps the whole group: k must equal G = " + rewards.length + ", got k = " + k);
        }
        return OptimalVarianceFilter.allIndices(k);
    }
}
