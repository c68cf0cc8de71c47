package io.progrpo.app.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.SdeWindowSampler;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The samplers of issue 21 as a job sees them: {@code sampler=dance-sde} and {@code sampler=cps} build their
 * dynamics, {@code sdeWindow} wraps the flow sampler (trained steps = the window's, only they stored), and each trains
 * a quick pixel epoch; the window's config errors name the field.
 */
class SamplerChoicesTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    private Map<String, Object> lastRow(String name, List<String> sets) throws Exception {
        return lastRow("flow-grpo+quick", name, sets);
    }

    private Map<String, Object> lastRow(String preset, String name, List<String> sets) throws Exception {
        CACHE.point(tmp.resolve("cache"));
        List<String> all = new java.util.ArrayList<>(List.of("groupsPerEpoch=2", "evalEvery=0", "outDir=" + tmp.resolve(name)));
        all.addAll(sets);
        TrainConfig c = TrainConfig.resolve(preset, null, all);
        try (Jobs.Job job = Jobs.build(c, s -> { })) {
            List<Map<String, Object>> rows = job.run(tmp.resolve(name), s -> { }).run(false);
            return rows.get(rows.size() - 1);
        }
    }

    @Test
    void eachSamplerAndWindowTrainsAnEpoch() throws Exception {
        TrainConfig base = TrainConfig.resolve("flow-grpo+quick", null, List.of());
        assertEquals(FlowSdeSampler.Dynamics.DANCE_SDE,
                assertInstanceOf(FlowSdeSampler.class, Jobs.trainSampler(base.withSets(List.of("sampler=dance-sde")))).dynamics());
        assertEquals(FlowSdeSampler.Dynamics.CPS,
                assertInstanceOf(FlowSdeSampler.class, Jobs.trainSampler(base.withSets(List.of("sampler=cps")))).dynamics());
        SdeWindowSampler w = assertInstanceOf(SdeWindowSampler.class, Jobs.trainSampler(base.withSets(List.of("sdeWindow=2:3", "sampler=cps"))));
        assertEquals(FlowSdeSampler.Dynamics.CPS, w.inner().dynamics());
        assertEquals(3, base.withSets(List.of("sdeWindow=2:3")).trainedStepsPerTrajectory());

        Map<String, Object> flow = lastRow("flow", List.of());
        Map<String, Object> dance = lastRow("dance", List.of("sampler=dance-sde"));
        Map<String, Object> cps = lastRow("cps", List.of("sampler=cps"));
        Map<String, Object> window = lastRow("window", List.of("sdeWindow=2:2"));
        int t = base.samplerSteps();
        assertEquals(t - 1, ((Number) flow.get("trained_steps")).intValue());
        assertEquals(t - 1, ((Number) dance.get("trained_steps")).intValue());
        // CPS's last step (onto sigma = 0) is deterministic and not stored: T - 1 stored, T - 2 of them trained
        assertEquals(t - 2, ((Number) cps.get("trained_steps")).intValue());
        assertEquals(2, ((Number) window.get("trained_steps")).intValue(), "the window's steps only");
        assertEquals(((Number) flow.get("nfe_sampling")).longValue(), ((Number) window.get("nfe_sampling")).longValue(),
                "sampling still takes every step");
        assertTrue(((Number) window.get("trajectory_bytes")).longValue() < ((Number) flow.get("trajectory_bytes")).longValue() / 2,
                "window " + window.get("trajectory_bytes") + " bytes against " + flow.get("trajectory_bytes"));
        assertTrue(((Number) window.get("nfe_training")).longValue() * (t - 1) == ((Number) flow.get("nfe_training")).longValue() * 2,
                "training forwards scale with the trained steps: " + window.get("nfe_training") + " vs " + flow.get("nfe_training"));
        for (Map<String, Object> m : List.of(dance, cps, window)) {
            assertTrue(Double.isFinite(((Number) m.get("loss")).doubleValue()), m.toString());
            assertEquals(1.0, ((Number) m.get("ratio_mean")).doubleValue(), 1e-5, "on-policy first update: " + m);
        }
    }

    @Test
    void expandAndPruneWorksWithAWindow() throws Exception {
        // checkpoints @5 and @7 after the window 2..4: the previews of ODE steps prune as those of SDE steps
        Map<String, Object> m = lastRow("pro-grpo+quick", "pruned", List.of("sdeWindow=2:3"));
        assertEquals(3, ((Number) m.get("trained_steps")).intValue());
        assertEquals(2, ((List<?>) m.get("checkpoints")).size());
        assertEquals(1.0, ((Number) m.get("ratio_mean")).doubleValue(), 1e-5);
    }

    @Test
    void aSlidingWindowMovesEveryEpoch() throws Exception {
        Map<String, Object> last = lastRow("sliding", List.of("sdeWindow=0:2:3", "epochs=3"));
        assertEquals(2, ((Number) last.get("trained_steps")).intValue());
    }

    @Test
    void windowErrorsNameTheField() {
        for (String[] bad : new String[][] {
                {"flow-grpo+quick", "sdeWindow=8:2", "trainable steps"},
                {"flow-grpo+quick", "sdeWindow=2", "START:LEN"},
                {"flow-grpo+quick", "sdeWindow=2:0", "LEN >= 1"},
                {"dance-grpo+quick", "sdeWindow=1:2", "flow samplers"}}) {
            var e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(bad[0], null, List.of(bad[1])), bad[1]);
            assertEquals("sdeWindow", e.field(), bad[1]);
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
        var e = assertThrows(ConfigException.class,
                () -> TrainConfig.resolve("flow-grpo+quick", null, List.of("sdeWindow=1:2", "trainStepFraction=0.5")));
        assertTrue(e.getMessage().contains("trainStepFraction must stay 1.0"), e.getMessage());
    }
}
