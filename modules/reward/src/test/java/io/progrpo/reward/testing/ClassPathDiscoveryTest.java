package io.progrpo.reward.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.MultiReward;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardRegistry;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Discovery of a reward provider that lives outside the reward module's package, through ServiceLoader and a
 * class-path services file.
 *
 * <p>Runs only in the "class-path" Surefire execution (useModulePath=false, see the module's pom): in the default
 * execution Surefire patches the test classes into the named module io.progrpo.reward, where ServiceLoader ignores
 * META-INF/services files and the provider could only be declared by a {@code provides} clause of the main module
 * descriptor. This execution also proves the main jar's own services file lists the built-ins for class-path users.
 */
class ClassPathDiscoveryTest {
    @Test
    void providerOutsideTheModuleIsFoundByName() {
        assertFalse(RewardRegistry.class.getModule().isNamed(), "this test is meant for the class-path execution");
        List<String> names = RewardRegistry.available();
        assertTrue(names.contains(ConstantRewardProvider.NAME), names.toString());
        assertTrue(names.containsAll(List.of("jpeg_compressibility", "jpeg_incompressibility")), names.toString());
        assertEquals("test reward: 0.25 for every image", RewardRegistry.descriptions().get(ConstantRewardProvider.NAME));
        RewardFunction f = RewardRegistry.create(ConstantRewardProvider.NAME);
        try (Scope _ = Scope.open()) {
            Tensor images = Tensor.zeros(3, 3, 8, 8);
            assertArrayEquals(new double[] {0.25, 0.25, 0.25}, f.score(images, List.of("a", "b", "c")).scores());
            var multi = MultiReward.parse("{\"test_constant\": 2.0, \"jpeg_compressibility\": 1.0}", MultiReward.Aggregation.WEIGHTED_SUM);
            var out = multi.scoreDetailed(images, List.of("a", "b", "c"), null);
            double[] jpeg = out.raw("jpeg_compressibility");
            for (int i = 0; i < 3; i++) assertEquals(0.5 + jpeg[i], out.scores()[i], 1e-12);
        }
    }
}
