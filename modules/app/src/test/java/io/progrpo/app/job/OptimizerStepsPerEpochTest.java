package io.progrpo.app.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** optimizerStepsPerEpoch: the epoch's groups split over that many AdamW steps; a value that does not divide is refused. */
class OptimizerStepsPerEpochTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @Test
    void anEpochTakesTheConfiguredSteps() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        for (int steps : new int[] {1, 2, 4}) {
            TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null,
                    List.of("groupsPerEpoch=4", "optimizerStepsPerEpoch=" + steps, "evalEvery=0", "outDir=" + tmp.resolve("r" + steps)));
            try (Jobs.Job job = Jobs.build(c, s -> { })) {
                List<Map<String, Object>> rows = job.run(tmp.resolve("r" + steps), s -> { }).run(false);
                Map<String, Object> m = rows.get(rows.size() - 1);
                assertEquals(steps, ((Number) m.get("optimizer_steps")).intValue(), m.toString());
                assertEquals(4 / steps, ((Number) m.get("groups_per_step")).intValue(), m.toString());
            }
        }
        var e = assertThrows(ConfigException.class, () -> TrainConfig.resolve("flow-grpo+quick", null, List.of("groupsPerEpoch=4", "optimizerStepsPerEpoch=3")));
        assertEquals("optimizerStepsPerEpoch", e.field());
        assertTrue(e.getMessage().contains("divide groupsPerEpoch (4)") && e.getMessage().contains("got 3"), e.getMessage());
        assertThrows(ConfigException.class, () -> TrainConfig.resolve("flow-grpo+quick", null, List.of("optimizerStepsPerEpoch=0")));
    }
}
