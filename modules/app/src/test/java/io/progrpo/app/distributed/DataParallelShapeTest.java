package io.progrpo.app.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.distributed.Backend;
import io.progrpo.trainer.GrpoTrainer.DataParallel;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** The split of prompt groups over ranks and steps, the job options from the environment, and the config diff. */
class DataParallelShapeTest {
    private static DataParallel dp(int rank, int world, int k) {
        return new DataParallel(rank, world, k, (p, n) -> n, v -> List.of(v));
    }

    @Test
    void everyGroupBelongsToExactlyOneRankAndStepsKeepTheirGroupsForAnyWorldSize() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            int world = 1 + rnd.nextInt(4);
            int k = world * (1 + rnd.nextInt(3));
            int groups = k * (1 + rnd.nextInt(4));
            List<Integer> all = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int[] mine = dp(r, world, k).localGroups(groups);
                assertEquals(groups / world, mine.length);
                for (int j = 0; j < mine.length; j++) {
                    // independently: the j-th local group is in step j / (k / world), block of rank r
                    int local = k / world;
                    int expected = (j / local) * k + r * local + j % local;
                    assertEquals(expected, mine[j], "world " + world + " k " + k + " rank " + r + " local " + j);
                    all.add(mine[j]);
                }
            }
            int[] sorted = all.stream().mapToInt(Integer::intValue).sorted().toArray();
            int[] expect = new int[groups];
            Arrays.setAll(expect, i -> i);
            assertArrayEquals(expect, sorted, "a partition of the epoch's groups");
        }
    }

    @Test
    void badShapesNameTheValues() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> dp(0, 2, 3));
        assertTrue(e1.getMessage().contains("world size 2, got 3"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> dp(2, 2, 2));
        assertTrue(e2.getMessage().contains("got 2"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> dp(0, 2, 4).localGroups(6));
        assertTrue(e3.getMessage().contains("groupsPerStep 4, got 6"), e3.getMessage());
        TrainConfig c = TrainConfig.defaults().withSets(List.of("groupsPerEpoch=6"));
        var e4 = assertThrows(IllegalArgumentException.class,
                () -> DistributedGrpo.shape(c, 4, new DistributedGrpo.Options(Duration.ofSeconds(1), 0, null)));
        assertTrue(e4.getMessage().contains("groupsPerStep 6 must be a multiple of the world size 4"), e4.getMessage());
        var e4b = assertThrows(IllegalArgumentException.class,
                () -> DistributedGrpo.shape(c, 2, new DistributedGrpo.Options(Duration.ofSeconds(1), 4, null)));
        assertTrue(e4b.getMessage().contains("groupsPerEpoch 6 must be a multiple of groupsPerStep 4"), e4b.getMessage());
        var e5 = assertThrows(IllegalArgumentException.class,
                () -> DistributedGrpo.shape(c, 2, new DistributedGrpo.Options(Duration.ofSeconds(1), 3, null)));
        assertTrue(e5.getMessage().contains("groupsPerStep 3 must be a multiple of the world size 2"), e5.getMessage());
        var e6 = assertThrows(IllegalArgumentException.class, () -> DistributedGrpo.Options.fromEnvironment(Map.of("PROGRPO_DIST_TIMEOUT", "soon")));
        assertTrue(e6.getMessage().contains("'soon'"), e6.getMessage());
        var e7 = assertThrows(IllegalArgumentException.class, () -> DistributedGrpo.Options.fromEnvironment(Map.of("PROGRPO_GROUPS_PER_STEP", "-1")));
        assertTrue(e7.getMessage().contains("got -1"), e7.getMessage());
    }

    @Test
    void optionsFromTheEnvironment() {
        var o = DistributedGrpo.Options.fromEnvironment(Map.of("PROGRPO_DIST_TIMEOUT", "2.5", "PROGRPO_GROUPS_PER_STEP", "8", "PROGRPO_DIST_BACKEND", "gloo"));
        assertEquals(new DistributedGrpo.Options(Duration.ofMillis(2500), 8, Backend.GLOO), o);
        var d = DistributedGrpo.Options.fromEnvironment(Map.of());
        assertEquals(new DistributedGrpo.Options(Duration.ofSeconds(300), 0, null), d);
        assertEquals(new DataParallel.Shape(2, TrainConfig.defaults().groupsPerEpoch()), DistributedGrpo.shape(TrainConfig.defaults(), 2, d),
                "by default one optimizer step per epoch");
        assertTrue(DistributedGrpo.requested(Map.of("WORLD_SIZE", "1")));
        assertTrue(!DistributedGrpo.requested(Map.of()));
    }

    @Test
    void theConfigDiffNamesEveryDifferingField() {
        TrainConfig a = TrainConfig.defaults();
        TrainConfig b = a.withSets(List.of("lr=0.001", "seed=7"));
        String d = DistributedGrpo.describeDifference(a.toJson() + "\n#groupsPerStep=2", b.toJson() + "\n#groupsPerStep=4", 1);
        assertTrue(d.contains("lr is 3.0E-4 on rank 0 but 0.001 on rank 1") || d.contains("lr is 0.0003 on rank 0 but 0.001 on rank 1"), d);
        assertTrue(d.contains("seed is 42 on rank 0 but 7 on rank 1"), d);
        assertTrue(d.contains("groupsPerStep=2 on rank 0 but groupsPerStep=4 on rank 1"), d);
        assertTrue(!d.contains("epochs"), d);
    }
}
