package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code progrpo eval} with {@code evalSamples}: one sample per prompt reproduces the run's own last evaluation, more
 * samples are another estimate, and eval.json says how many stand behind it.
 */
class EvalSamplesTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    @BeforeEach
    void cache() {
        CACHE.point(tmp.resolve("cache"));
    }

    @Test
    void oneSampleReproducesTheRunsEvaluationAndMoreSamplesAreCountedInEvalJson() throws Exception {
        Path run = tmp.resolve("run");
        List<String> small = List.of("modelWidth=8", "imageSize=8", "pretrainSteps=2", "evalSteps=2", "epochs=1", "evalEvery=1",
                "checkpointEvery=1", "outDir=" + run);
        TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, small);
        ProgrpoCommands commands = new ProgrpoCommands();
        assertEquals(0, commands.train(c, false));
        List<Map<String, Object>> rows = MetricsLog.read(run.resolve("metrics.jsonl"));
        double runs = ((Number) rows.get(rows.size() - 1).get("eval_reward")).doubleValue();

        assertEquals(0, commands.eval(c, run.resolve("checkpoint"), tmp.resolve("one.json")));
        Map<?, ?> one = new ObjectMapper().readValue(tmp.resolve("one.json").toFile(), Map.class);
        assertEquals(runs, ((Number) one.get("eval_reward")).doubleValue(), 1e-6, "the run's own last evaluation");
        assertEquals(1, ((Number) one.get("samples_per_prompt")).intValue());

        TrainConfig three = TrainConfig.resolve("flow-grpo+quick", null,
                java.util.stream.Stream.concat(small.stream(), java.util.stream.Stream.of("evalSamples=3")).toList());
        assertEquals(0, commands.eval(three, run.resolve("checkpoint"), tmp.resolve("three.json")));
        Map<?, ?> more = new ObjectMapper().readValue(tmp.resolve("three.json").toFile(), Map.class);
        assertEquals(3, ((Number) more.get("samples_per_prompt")).intValue());
        assertEquals(one.get("eval_prompts"), more.get("eval_prompts"));
        assertNotEquals(((Number) one.get("eval_reward")).doubleValue(), ((Number) more.get("eval_reward")).doubleValue(),
                "three samples per prompt are another estimate");
    }
}
