package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.Device;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The adaptive method end to end on the trainer's tiny world (G_L = 8, k = 2, T = 5, guidance): every epoch's funnel is
 * the chooser's on the estimate recomputed in the test from the epochs' {@code shadow_curve} lines, the epoch samples
 * and trains with it (counters recomputed), the shadow figures follow it; a run resumed from a checkpoint chooses the
 * funnels of an uninterrupted one.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AdaptiveScheduleTest {
    static final PruneSchedule CONFIGURED = new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 5, "ovf");
    static final double TAU = 0.5;
    static final double BUDGET = 1.5;

    @TempDir
    Path tmp;

    static GrpoTrainer trainer(MicroBatchInvarianceTest.AffineVelocity policy, int shadowEvery) {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 4.5, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 5, 0, Device.CPU, shadowEvery, GrpoObjective.KlForm.CODE, TAU, BUDGET);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.PRO_GRPO_ADAPTIVE, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                CONFIGURED, SubsetStrategy.byName("ovf"), false);
        return new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(), OneEpochPathTest.twoPartReward(),
                x -> x.clamp(-1e6, 1e6));
    }

    /** The cost model of these settings, written out: T 5, 4 trained steps, CFG (detached: 4 per transition), 2 groups. */
    static ScheduleChooser.CostModel costModel(int shadowEvery) {
        return new ScheduleChooser.CostModel(5, 4, 2, 4, 2, 8.0 * 5 * 2 / shadowEvery);
    }

    static int rowsAt(PruneSchedule s, int step) {
        int rows = s.initialGroupSize();
        for (int i = 0; i < s.checkpointCount(); i++) if (s.checkpoints()[i] <= step) rows = s.survivors()[i];
        return rows;
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyEpochSamplesAndTrainsTheFunnelChosenFromTheShadowGroupsSoFar() {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(policy, 2)) {
            for (int e = 0; e < 3; e++) rows.add(t.runEpoch(e, new Phases(p -> { })));
        }
        double[] sum = new double[4];
        int[] count = new int[4];
        int groups = 0;
        for (int e = 0; e < 3; e++) {
            Map<String, Object> m = rows.get(e);
            if (e % 2 == 0) {
                List<Map<String, Object>> curve = (List<Map<String, Object>>) m.get("shadow_curve");
                assertNotNull(curve, "epoch " + e + " has a shadow group");
                assertEquals(List.of(1, 2, 3, 4), curve.stream().map(c -> c.get("step")).toList(), "every step 1..T-1");
                for (Map<String, Object> c : curve) {
                    if (c.get("spearman") == null) continue;
                    sum[(Integer) c.get("step") - 1] += ((Number) c.get("spearman")).doubleValue();
                    count[(Integer) c.get("step") - 1]++;
                }
                groups++;
                assertEquals(80L, ((Number) m.get("shadow_nfe")).longValue(), "8 rows x 5 steps x 2 (guidance)");
            } else {
                assertFalse(m.containsKey("shadow_curve") || m.containsKey("shadow"), "shadowEvery 2: no shadow group in epoch " + e);
            }
            double[] estimate = new double[4];
            boolean any = false;
            for (int i = 0; i < 4; i++) {
                estimate[i] = count[i] == 0 ? Double.NaN : sum[i] / count[i];
                any |= count[i] > 0;
            }
            ScheduleChooser.Decision expected = any ? ScheduleChooser.choose(estimate, TAU, 2, 8, costModel(2), BUDGET)
                    : ScheduleChooser.initial(CONFIGURED, estimate, TAU, costModel(2), BUDGET);
            PruneSchedule s = expected.schedule();
            assertEquals(s.spec(), m.get("schedule"), "epoch " + e);
            Map<String, Object> d = (Map<String, Object>) m.get("schedule_decision");
            assertEquals(expected.reason(), d.get("reason"));
            assertEquals(expected.costRatio(), ((Number) d.get("cost_ratio")).doubleValue(), 1e-12);
            assertEquals(groups, d.get("shadow_groups"));
            assertEquals(TAU, d.get("tau"));
            assertEquals(BUDGET, d.get("budget"));
            assertEquals(4, ((List<?>) d.get("agreement_curve")).size());
            // the epoch ran that funnel: G_max x groups started, k x groups reached the reward, rows x steps x 2 forwards
            assertEquals(2L * s.initialGroupSize(), ((Number) m.get("trajectories_sampled")).longValue(), "epoch " + e);
            assertEquals(2L * 2, ((Number) m.get("trajectories_trained")).longValue());
            long rowSteps = 0;
            for (int step = 0; step < 5; step++) rowSteps += rowsAt(s, step);
            assertEquals(2L * 2 * rowSteps, ((Number) m.get("nfe_sampling")).longValue(), "epoch " + e + " " + s.spec());
            List<Map<String, Object>> cps = (List<Map<String, Object>>) m.get("checkpoints");
            assertEquals(s.checkpointCount(), cps.size());
            for (int i = 0; i < cps.size(); i++) assertEquals(s.checkpoints()[i], cps.get(i).get("step"));
            if (m.containsKey("shadow")) {
                // the shadow figures are those of the funnel the epoch used
                List<Map<String, Object>> sc = (List<Map<String, Object>>) ((Map<String, Object>) m.get("shadow")).get("checkpoints");
                assertEquals(cps.stream().map(c -> c.get("step")).toList(), sc.stream().map(c -> c.get("step")).toList());
            }
        }
        assertTrue(count[3] > 0, "the tiny world's previews are not all constant");
    }

    static TrainConfig config(Path out, int epochs) {
        return TrainConfig.resolve("pro-grpo-adaptive", null, List.of("epochs=" + epochs, "checkpointEvery=1", "evalEvery=0",
                "outDir=" + out));
    }

    static List<Map<String, Object>> train(Path out, int epochs, boolean resume, List<String> log) throws IOException {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(policy, 1)) {
            new TrainingRun(config(out, epochs), t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), out, log::add).run(resume);
        }
        return MetricsLog.read(out.resolve("metrics.jsonl"));
    }

    @Test
    void aResumedRunChoosesTheFunnelsOfAnUninterruptedOne() throws IOException {
        List<String> log = new ArrayList<>();
        List<Map<String, Object>> whole = train(tmp.resolve("whole"), 4, false, log);
        assertTrue(log.stream().anyMatch(l -> l.startsWith("[pro-grpo-adaptive] epoch 1 funnel ") && l.contains("tau 0.5")), log.toString());
        Path split = tmp.resolve("split");
        train(split, 2, false, new ArrayList<>());
        JsonNode state = new ObjectMapper().readTree(Files.readString(split.resolve("checkpoint").resolve("state.json")));
        assertEquals(2, state.get("schedule_agreement").get("shadow_groups").intValue(), "the estimate of epochs 0 and 1 is kept");
        List<Map<String, Object>> resumed = train(split, 4, true, new ArrayList<>());
        assertEquals(4, whole.size());
        assertEquals(4, resumed.size());
        for (int e = 0; e < 4; e++) {
            assertEquals(whole.get(e).get("schedule"), resumed.get(e).get("schedule"), "epoch " + e);
            assertEquals(whole.get(e).get("schedule_decision"), resumed.get(e).get("schedule_decision"), "epoch " + e);
            assertEquals(whole.get(e).get("shadow_curve"), resumed.get(e).get("shadow_curve"), "epoch " + e);
        }
        assertEquals(4, ((Map<?, ?>) resumed.get(3).get("schedule_decision")).get("shadow_groups"));
    }

    static List<Map<String, Object>> epochs(GrpoTrainer.DataParallel dp, int epochs) {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(policy, 1)) {
            t.dataParallel(dp);
            List<Map<String, Object>> m = new ArrayList<>();
            for (int e = 0; e < epochs; e++) m.add(t.runEpoch(e, new Phases(p -> { })));
            return m;
        }
    }

    @Test
    void everyRankOfADataParallelJobChoosesRankZerosFunnel() throws Exception {
        List<Map<String, Object>> one = epochs(GrpoTrainer.DataParallel.single(2), 3);
        OneEpochPathTest.ThreadGroup group = new OneEpochPathTest.ThreadGroup(2);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        List<List<Map<String, Object>>> ranks = new ArrayList<>();
        try {
            List<java.util.concurrent.Future<List<Map<String, Object>>>> f = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                f.add(pool.submit(() -> epochs(group.rank(rank), 3)));
            }
            for (var x : f) ranks.add(x.get(120, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        for (int e = 0; e < 3; e++) {
            Map<String, Object> r0 = ranks.get(0).get(e);
            Map<String, Object> r1 = ranks.get(1).get(e);
            assertEquals(r0.get("schedule"), r1.get("schedule"), "epoch " + e);
            assertEquals(r0.get("schedule_decision"), r1.get("schedule_decision"), "epoch " + e + ": one estimate on both ranks");
            assertTrue(r0.containsKey("shadow_curve") && !r1.containsKey("shadow_curve"), "rank 0 samples the shadow group");
            assertEquals(r0.get("trajectories_sampled"), one.get(e).get("trajectories_sampled"), "epoch " + e);
        }
        // before any training the job is the one-rank job's, bit for bit (later epochs differ by the gradient average's rounding)
        assertEquals(one.get(0).get("schedule_decision"), ranks.get(0).get(0).get("schedule_decision"));
        assertEquals(one.get(0).get("shadow_curve"), ranks.get(0).get(0).get("shadow_curve"));
    }

    @Test
    void theAdaptiveMethodNeedsShadowGroups() {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0)) {
            var e = assertThrows(IllegalArgumentException.class, () -> trainer(policy, 0));
            assertTrue(e.getMessage().contains("needs shadowEvery >= 1, got 0"), e.getMessage());
        }
    }
}
