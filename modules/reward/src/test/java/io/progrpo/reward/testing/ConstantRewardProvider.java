package io.progrpo.reward.testing;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.reward.RewardProvider;
import io.progrpo.tensor.Tensor;

import java.util.List;

/**
 * A reward written outside io.progrpo.reward, as a third party would, registered only through
 * src/test/resources/META-INF/services/io.progrpo.reward.RewardProvider.
 */
public final class ConstantRewardProvider implements RewardProvider {
    public static final String NAME = "test_constant";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "test reward: 0.25 for every image";
    }

    @Override
    public RewardFunction create() {
        return new RewardFunction() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                double[] s = new double[(int) images.size(0)];
                java.util.Arrays.fill(s, 0.25);
                return RewardOutput.of(s);
            }
        };
    }
}
