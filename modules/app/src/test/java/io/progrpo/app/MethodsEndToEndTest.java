package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.MemoryLedger;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Every method runs one epoch end to end on a tiny model, and its counters are what its schedule implies. */
class MethodsEndToEndTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"flow-grpo", "dance-grpo", "uniform-subsample", "static-ovf", "pro-grpo", "pro-grpo-flash",
            "pro-grpo-dance"})
    void oneEpoch(String method) throws Exception {
        List<String> sets = new java.util.ArrayList<>(List.of("epochs=1", "groupsPerEpoch=1", "modelWidth=8", "imageSize=8",
                "pretrainSteps=2", "evalEvery=1", "evalPrompts=2", "evalSteps=3", "checkpointEvery=1", "guidanceScale=2.0",
                "outDir=" + tmp.resolve(method)));
        if (method.equals("dance-grpo")) sets.addAll(List.of("samplerSteps=6", "trainStepFraction=0.5"));
        // the paper's diffusion funnel 48 -> 32 -> 8, on 6 steps instead of 50
        if (method.equals("pro-grpo-dance")) sets.addAll(List.of("samplerSteps=6", "trainStepFraction=0.5", "pruneSchedule=48>32@3>8@4"));
        CACHE.point(tmp.resolve("cache"));
        TrainConfig c = TrainConfig.resolve(method, null, sets);
        long live = MemoryLedger.liveTensors();
        Map<String, Object> m;
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            List<Map<String, Object>> h = job.run(Path.of(c.outDir()), s -> { }).run(false);
            m = h.get(h.size() - 1);
        }
        assertEquals(live, MemoryLedger.liveTensors(), "every tensor of the run is freed");
        int gMax = c.groupSize();
        int steps = c.samplerSteps();
        long expectedRows = switch (method) {
            case "pro-grpo" -> 48L * 5 + 24L * 2 + 12L * 3;
            case "pro-grpo-flash" -> 24L * 5 + 16L * 2 + 12L * 3;
            case "pro-grpo-dance" -> 48L * 3 + 32L * 1 + 8L * 2;
            default -> (long) gMax * steps;
        };
        // classifier-free guidance evaluates the model on twice the rows
        assertEquals(expectedRows * 2, ((Number) m.get("nfe_sampling")).longValue(), method);
        int trained = switch (method) {
            case "uniform-subsample", "static-ovf", "pro-grpo", "pro-grpo-flash" -> 12;
            case "pro-grpo-dance" -> 8;
            default -> gMax;
        };
        assertEquals(trained, ((Number) m.get("trajectories_trained")).intValue());
        assertTrue(m.get("eval_reward") instanceof Number, "evaluated");
        assertTrue(Path.of(c.outDir()).resolve("checkpoint").resolve("policy.pt").toFile().isFile());
    }
}
