package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.job.Jobs;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shadow groups on the pixel world (EmbeddedWorld, 8 x 8, a tiny base model) through the job and the run: a pro-grpo
 * run with a shadow group every epoch trains bit for bit like one without (every non-timing metric and every parameter),
 * its metrics.jsonl lines carry {@code shadow} and {@code shadow_nfe}, its time is its own phase; flow-grpo ignores
 * shadowEvery.
 */
class ShadowGroupPixelWorldTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    record Outcome(List<Map<String, Object>> lines, List<float[]> params, String jsonl) {}

    Outcome run(String method, int shadowEvery, String name) throws Exception {
        List<String> sets = new ArrayList<>(List.of("epochs=2", "groupsPerEpoch=2", "modelWidth=8", "imageSize=8",
                "pretrainSteps=2", "evalEvery=1", "evalPrompts=2", "evalSteps=3", "checkpointEvery=0", "samplerSteps=3",
                "groupSize=8", "shadowEvery=" + shadowEvery, "outDir=" + tmp.resolve(name)));
        if (method.equals("pro-grpo")) sets.add("pruneSchedule=8>4@1>2@2");
        CACHE.point(tmp.resolve("cache"));
        TrainConfig c = TrainConfig.resolve(method, null, sets);
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            List<Map<String, Object>> h = job.run(Path.of(c.outDir()), s -> { }).run(false);
            List<float[]> params = new ArrayList<>();
            for (Tensor p : job.policy().namedParameters().values()) params.add(p.toFloatArray());
            return new Outcome(h, params, Files.readString(Path.of(c.outDir()).resolve("metrics.jsonl")));
        }
    }

    static Map<String, Object> comparable(Map<String, Object> m) {
        Map<String, Object> c = new LinkedHashMap<>(m);
        EpochGoldenMain.TIMING_KEYS.forEach(c::remove);
        c.remove("shadow");
        c.remove("shadow_nfe");
        return c;
    }

    @Test
    @SuppressWarnings("unchecked")
    void proGrpoWithShadowGroupsTrainsLikeWithoutAndLogsThem() throws Exception {
        Outcome plain = run("pro-grpo", 0, "plain");
        Outcome shadowed = run("pro-grpo", 1, "shadowed");
        assertEquals(plain.lines().size(), shadowed.lines().size());
        for (int i = 0; i < plain.lines().size(); i++) {
            assertEquals(comparable(plain.lines().get(i)), comparable(shadowed.lines().get(i)), "line " + i);
        }
        assertEquals(plain.params().size(), shadowed.params().size());
        for (int i = 0; i < plain.params().size(); i++) assertArrayEquals(plain.params().get(i), shadowed.params().get(i), "parameter " + i);
        assertFalse(plain.jsonl().contains("\"shadow\""));
        assertTrue(plain.jsonl().contains("proxy_final_correlation_pooled"));
        long epochs = shadowed.lines().stream().filter(m -> m.containsKey("shadow")).count();
        assertEquals(2, epochs, "shadowEvery 1: every epoch");
        for (Map<String, Object> m : shadowed.lines()) {
            if (!m.containsKey("shadow")) continue;
            Map<String, Object> sh = (Map<String, Object>) m.get("shadow");
            // 8 rows x 3 steps x 2 (guidance 4.5)
            assertEquals(48L, ((Number) m.get("shadow_nfe")).longValue());
            assertEquals(2, ((List<?>) sh.get("checkpoints")).size());
            assertTrue(((Map<String, Object>) m.get("seconds")).containsKey("shadow"), "its own phase: " + m.get("seconds"));
        }
        assertEquals(2, shadowed.jsonl().lines().filter(l -> l.contains("\"shadow_nfe\"") && l.contains("\"overlap_best_k\"")).count(),
                "both epochs' metrics.jsonl lines carry it");
    }

    @Test
    void flowGrpoIgnoresShadowEvery() throws Exception {
        Outcome shadowed = run("flow-grpo", 1, "flow");
        for (Map<String, Object> m : shadowed.lines()) assertFalse(m.containsKey("shadow") || m.containsKey("shadow_nfe"), m.toString());
    }
}
