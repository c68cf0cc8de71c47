package io.progrpo.app.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.ExpandAndPruneDriver;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.RewardFunction;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The job's reward (Jobs.reward: a MultiReward) normalises within the driver's prompt groups, which the driver passes
 * to it, even when the groups share a prompt; the adapter it replaced rebuilt the groups from the prompt strings and
 * merged them (this test failed on it: the first group's advantages summed to 2.22).
 */
class JobRewardGroupsTest {
    @Test
    void groupsAreTheDriversEvenWithOnePrompt() {
        int groups = 3, g = 8;
        PruneSchedule schedule = new PruneSchedule(g, new int[] {2, 3}, new int[] {5, 3}, 5, "ovf");
        RewardFunction reward = Jobs.reward(TrainConfig.defaults().withSets(List.of("reward=jpeg_compressibility", "rewardAggregation=advantage-sum")));
        VelocityModel model = (x, t, c) -> { try (Scope s = Scope.open()) { return s.keep(x.mul(-0.7).add(c)); } };
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(schedule, SubsetStrategy.OVF, x -> x.clamp(0, 1), new SplittableRandom(1));
        try (Generator gen = Generator.create(5); Tensor noise = Tensor.randn(gen, groups * g, 3, 8, 8);
             Tensor cond = Tensor.randn(gen, groups * g, 3, 8, 8);
             var res = driver.run(FlowSdeSampler.sde(5, 3.0), model, List.of("same", "same", "same"), noise, cond, reward, reward, gen)) {
            double[] got = res.finalReward().scores();
            double[] raw = res.finalReward().metrics().get("jpeg_compressibility");
            for (int grp = 0; grp < groups; grp++) {
                double sum = 0;
                double mean = 0;
                for (int i = 0; i < 3; i++) mean += raw[grp * 3 + i] / 3;
                double ss = 0;
                for (int i = 0; i < 3; i++) ss += (raw[grp * 3 + i] - mean) * (raw[grp * 3 + i] - mean);
                for (int i = 0; i < 3; i++) {
                    sum += got[grp * 3 + i];
                    assertEquals((raw[grp * 3 + i] - mean) / (Math.sqrt(ss / 3) + 1e-4), got[grp * 3 + i], 1e-9, "group " + grp);
                }
                assertEquals(0, sum, 1e-9, "each group's advantages sum to 0, group " + grp);
                assertTrue(ss > 0, "the group's raw rewards differ, so its advantages are not trivially 0");
            }
        }
    }
}
