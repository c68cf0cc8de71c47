package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.pruning.SubsetStrategy;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.Method;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The objective and storage options of issue 21: GRPO-Guard's regulated ratio (against the identity
 * {@code mean(eps (mu - mu_old))} in doubles), the EMA of the trained parameters (against its recurrence in doubles),
 * and lean trajectories (float16 / bfloat16 latents: half the trajectory bytes, and the first update still on-policy).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TrainingOptionsTest {

    private static GrpoTrainer.Settings settings(double emaDecay, GrpoObjective.RatioNorm norm, DType trajectoryDtype, double lr) {
        return new GrpoTrainer.Settings(5, 2, 4.5, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                lr, 0.9, 0.999, 0, 1e9, 5, 0, Device.CPU, 0, GrpoObjective.KlForm.CODE, 0.75, 1.0,
                emaDecay, norm, trajectoryDtype);
    }

    private static GrpoTrainer trainer(GrpoTrainer.Settings s, MicroBatchInvarianceTest.AffineVelocity policy) {
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                PruneSchedule.none(8, 5), SubsetStrategy.byName("ovf"), false);
        return new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(),
                LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6));
    }

    private static double[] params(MicroBatchInvarianceTest.AffineVelocity p) {
        Map<String, Tensor> m = p.namedParameters();
        return new double[] {m.get("w").item(), m.get("u").item(), m.get("b").item()};
    }

    // ------------------------------------------------------------------ GRPO-Guard

    /** s (logp - logp_old) + mean(d^2) / (2 s) equals mean(eps d), eps = (x' - mu_old) / s, d = mu - mu_old. */
    @Test
    void guardLogRatioIsTheCentredNoiseProjection() {
        Random r = new Random(7);
        int b = 5;
        int n = 12;
        float[] mu = new float[b * n];
        float[] muOld = new float[b * n];
        float[] next = new float[b * n];
        float[] std = new float[b];
        for (int i = 0; i < b; i++) std[i] = (float) (0.05 + 0.5 * r.nextDouble());
        for (int i = 0; i < b * n; i++) {
            muOld[i] = (float) r.nextGaussian();
            mu[i] = muOld[i] + (float) (0.01 * r.nextGaussian());
            next[i] = muOld[i] + std[i / n] * (float) r.nextGaussian();
        }
        double[] got;
        try (Scope s = Scope.open()) {
            Tensor m = Tensor.of(mu, b, n);
            Tensor mo = Tensor.of(muOld, b, n);
            Tensor xn = Tensor.of(next, b, n);
            Tensor sd = Tensor.of(std, b);
            Tensor lp = io.progrpo.sampler.GaussianPolicy.logProb(xn, m, sd);
            Tensor lpOld = io.progrpo.sampler.GaussianPolicy.logProb(xn, mo, sd);
            got = GrpoObjective.guardLogRatio(lp, lpOld, m, mo, sd).toDoubleArray();
        }
        for (int i = 0; i < b; i++) {
            double expect = 0;
            for (int j = 0; j < n; j++) {
                int k = i * n + j;
                double eps = ((double) next[k] - muOld[k]) / std[i];
                expect += eps * ((double) mu[k] - muOld[k]);
            }
            expect /= n;
            assertEquals(expect, got[i], 2e-5 * (1 + Math.abs(expect)), "row " + i);
        }
    }

    @Test
    void guardRatioNeedsTheSamplingMeansAndIsOnPolicyAtTheFirstUpdate() {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(settings(0, GrpoObjective.RatioNorm.GRPO_GUARD, DType.FLOAT32, 0.05), policy)) {
            assertTrue(settings(0, GrpoObjective.RatioNorm.GRPO_GUARD, DType.FLOAT32, 0.05).trajectoryLayout().storeMeans());
            double[] before = params(policy);
            Map<String, Object> m = t.runEpoch(0, new Phases(p -> { }));
            // mu == mu_old for every row of the first (single) update: log r = 0 exactly up to float rounding
            assertEquals(1.0, ((Number) m.get("ratio_mean")).doubleValue(), 1e-6);
            assertEquals(0.0, ((Number) m.get("clip_fraction")).doubleValue());
            assertNotEquals(before[0], params(policy)[0], "the update moved the parameters");
        }
    }

    // ------------------------------------------------------------------ EMA

    @Test
    void emaFollowsItsRecurrenceAndSwapsBackBitForBit() {
        double d = 0.6;
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = trainer(settings(d, GrpoObjective.RatioNorm.NONE, DType.FLOAT32, 0.05), policy)) {
            double[] ema = params(policy);
            for (int epoch = 0; epoch < 3; epoch++) {
                t.runEpoch(epoch, new Phases(p -> { }));
                double[] theta = params(policy);
                for (int i = 0; i < ema.length; i++) ema[i] = d * ema[i] + (1 - d) * theta[i];
            }
            double[] raw = params(policy);
            double[] inside = t.ema().withAverage(() -> params(policy));
            for (int i = 0; i < ema.length; i++) assertEquals(ema[i], inside[i], 1e-6 * (1 + Math.abs(ema[i])), "EMA of parameter " + i);
            double[] after = params(policy);
            for (int i = 0; i < raw.length; i++) assertEquals(raw[i], after[i], 0.0, "raw parameter " + i + " restored exactly");
            assertThrows(IllegalStateException.class, () -> t.ema().withAverage(() -> {
                throw new IllegalStateException("an evaluation that fails");
            }));
            double[] afterThrow = params(policy);
            for (int i = 0; i < raw.length; i++) assertEquals(raw[i], afterThrow[i], 0.0, "restored after a throw too");
        }
    }

    @Test
    void emaSkipsFrozenParametersAndRefusesAStateOfAnotherShape() {
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0)) {
            policy.namedParameters().get("b").setRequiresGrad(false);
            try (EmaWeights ema = new EmaWeights(policy, 0.9)) {
                assertEquals(java.util.Set.of("w", "u"), ema.state().keySet());
                try (Tensor wrong = Tensor.zeros(DType.FLOAT32, Device.CPU, 2); Tensor u = Tensor.zeros(DType.FLOAT32, Device.CPU, 1)) {
                    var e = assertThrows(IllegalArgumentException.class, () -> ema.load(Map.of("w", wrong, "u", u)));
                    assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("[1]") && e.getMessage().contains("[2]"), e.getMessage());
                    var missing = assertThrows(IllegalArgumentException.class, () -> ema.load(Map.of("u", u)));
                    assertTrue(missing.getMessage().contains("[u]"), missing.getMessage());
                }
            }
            assertThrows(IllegalArgumentException.class, () -> new EmaWeights(policy, 1.0));
        }
    }

    // ------------------------------------------------------------------ lean trajectories

    @Test
    void leanTrajectoriesHalveTheLatentBytesAndStayOnPolicy() {
        long[] bytes = new long[3];
        DType[] dtypes = {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16};
        for (int k = 0; k < dtypes.length; k++) {
            try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
                 GrpoTrainer t = trainer(settings(0, GrpoObjective.RatioNorm.NONE, dtypes[k], 0.05), policy)) {
                Map<String, Object> m = t.runEpoch(0, new Phases(p -> { }));
                bytes[k] = ((Number) m.get("trajectory_bytes")).longValue();
                // the stored log-prob is that of the rounded sample, recomputed from the rounded latents: ratio 1
                assertEquals(1.0, ((Number) m.get("ratio_mean")).doubleValue(), 1e-6, dtypes[k] + " ratio on-policy");
                assertEquals(0.0, ((Number) m.get("clip_fraction")).doubleValue(), dtypes[k] + " clip fraction");
            }
        }
        assertTrue(bytes[1] < bytes[0] && bytes[2] == bytes[1], "bytes float32 " + bytes[0] + ", float16 " + bytes[1] + ", bfloat16 " + bytes[2]);
        // the stored latents take half; the float32 log-probs and the float32 chain state beside them do not
        // (this tiny world: 3392 of 4928 bytes, 0.69)
        assertTrue(bytes[1] < 0.75 * bytes[0], "float16 trajectories take " + bytes[1] + " bytes against " + bytes[0]);
    }

    /** Pruning keeps rows of a lean trajectory (its stored tensors and the chain state) and the update stays on-policy. */
    @Test
    void leanTrajectoriesSurvivePruning() {
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.PRO_GRPO, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 5, "ovf"), SubsetStrategy.byName("ovf"), false);
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = new GrpoTrainer(settings(0.5, GrpoObjective.RatioNorm.GRPO_GUARD, DType.FLOAT16, 0.05), plan, policy, null,
                     new LearningDirectionTest.World(), LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            Map<String, Object> m = t.runEpoch(0, new Phases(p -> { }));
            assertEquals(4, ((Number) m.get("trajectories_trained")).intValue(), "2 groups of 2 survivors");
            assertEquals(1.0, ((Number) m.get("ratio_mean")).doubleValue(), 1e-6);
            assertEquals(0.0, ((Number) m.get("clip_fraction")).doubleValue());
        }
    }

    /** Trains the one-parameter policy with EMA in {@code out} for {@code epochs} (evaluating every epoch). */
    private static void trainWithEma(java.nio.file.Path out, int epochs, boolean resume, java.util.List<String> log) throws java.io.IOException {
        GrpoTrainer.Settings s = new GrpoTrainer.Settings(5, 2, 1.0, true, 1.0, 1e-4, 5.0, GroupAdvantages.StdMode.GROUP, 0,
                0.05, 0.9, 0.999, 0, 1.0, 8, 0, Device.CPU, 0, GrpoObjective.KlForm.CODE, 0.75, 1.0, 0.7,
                GrpoObjective.RatioNorm.NONE, DType.FLOAT32);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, new FlowSdeSampler(4, 1.0, 0.7), FlowSdeSampler.ode(4, 1.0),
                PruneSchedule.none(8, 4), SubsetStrategy.byName("ovf"), false);
        io.progrpo.trainer.config.TrainConfig c = io.progrpo.trainer.config.TrainConfig.resolve("flow-grpo", null, java.util.List.of(
                "epochs=" + epochs, "checkpointEvery=1", "evalEvery=1", "emaDecay=0.7", "outDir=" + out));
        try (LearningDirectionTest.ConstantVelocity policy = new LearningDirectionTest.ConstantVelocity();
             GrpoTrainer t = new GrpoTrainer(s, plan, policy, null, new LearningDirectionTest.World(),
                     LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), out, log::add).run(resume);
        }
    }

    /** The EMA is evaluated every evaluation, checkpointed in ema.pt, and a resumed run continues the same average. */
    @Test
    void emaIsCheckpointedAndAResumedRunContinuesTheSameAverage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path whole = tmp.resolve("whole");
        trainWithEma(whole, 3, false, new java.util.ArrayList<>());
        java.nio.file.Path split = tmp.resolve("split");
        trainWithEma(split, 2, false, new java.util.ArrayList<>());
        assertTrue(java.nio.file.Files.exists(split.resolve("checkpoint/ema.pt")));
        assertTrue(java.nio.file.Files.readString(split.resolve("checkpoint/manifest.sha256")).contains("ema.pt"), "ema.pt is in the manifest");
        java.util.List<String> log = new java.util.ArrayList<>();
        trainWithEma(split, 3, true, log);
        var a = MetricsLog.withoutTimings(MetricsLog.read(whole.resolve("metrics.jsonl")));
        var b = MetricsLog.withoutTimings(MetricsLog.read(split.resolve("metrics.jsonl")));
        assertEquals(4, a.size(), "the base evaluation and 3 epochs");
        for (int i = 1; i < a.size(); i++) {
            @SuppressWarnings("unchecked")
            Map<String, Object> ea = (Map<String, Object>) a.get(i).get("eval_ema");
            @SuppressWarnings("unchecked")
            Map<String, Object> eb = (Map<String, Object>) b.get(i).get("eval_ema");
            assertEquals(ea, eb, "eval_ema of epoch " + (i - 1) + " (resumed after epoch 1)");
            assertNotEquals(a.get(i).get("eval_reward"), ea.get("reward"), "the average is not the raw parameter");
        }
        assertTrue(log.stream().noneMatch(l -> l.contains("ema.pt")), "no warning about a missing average: " + log);
    }

    // ------------------------------------------------------------------ the run's listener

    /**
     * A user's listener hears, in order, the run start, each phase, every sampler step with the active rows and each
     * prune of the training batches, then the epoch's row, which the metrics log (the first listener) has written by then.
     */
    @Test
    void aRunListenerHearsPhasesStepsAndPrunesAfterTheMetricsLog(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out) throws Exception {
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.PRO_GRPO, new FlowSdeSampler(5, 1.0, 0.7), FlowSdeSampler.ode(5, 1.0),
                new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 5, "ovf"), SubsetStrategy.byName("ovf"), false);
        io.progrpo.trainer.config.TrainConfig c = io.progrpo.trainer.config.TrainConfig.resolve("pro-grpo", null, java.util.List.of(
                "epochs=1", "checkpointEvery=0", "evalEvery=0", "groupSize=8", "pruneSchedule=8>4@2>2@3", "samplerSteps=5",
                "groupsPerEpoch=2", "outDir=" + out));
        java.util.List<String> heard = new java.util.ArrayList<>();
        Map<Integer, Long> released = new java.util.TreeMap<>();
        RunListener user = new RunListener() {
            @Override
            public void runStarted(String method, int firstEpoch, int epochs) {
                heard.add("start " + method + " " + firstEpoch + ".." + epochs);
            }

            @Override
            public void phaseEntered(int epoch, String phase) {
                heard.add("enter " + phase);
            }

            @Override
            public void phaseLeft(int epoch, String phase) {
                heard.add("leave " + phase);
            }

            @Override
            public void stepTaken(int step, int totalSteps, int rows) {
                heard.add("step " + step + "/" + totalSteps + " rows " + rows);
            }

            @Override
            public void checkpointPruned(io.progrpo.pruning.ExpandAndPruneDriver.CheckpointStats stats, long bytesReleased) {
                heard.add("prune " + stats.sizeBefore() + ">" + stats.sizeAfter() + "@" + stats.step() + (bytesReleased > 0 ? " freed" : " none freed"));
                released.put(stats.step(), bytesReleased);
            }

            @Override
            public void epochDone(int epoch, Map<String, Object> metrics) {
                try {
                    var rows = MetricsLog.read(out.resolve("metrics.jsonl"));
                    heard.add("done " + epoch + " rows on disk " + rows.size() + " same " + rows.get(rows.size() - 1).get("reward_mean").equals(metrics.get("reward_mean")));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public void runFinished() {
                heard.add("finished");
            }
        };
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = new GrpoTrainer(settings(0, GrpoObjective.RatioNorm.NONE, DType.FLOAT32, 0.05), plan, policy, null,
                     new LearningDirectionTest.World(), LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            new TrainingRun(c, t, LearningDirectionTest.meanPixel(Double.MAX_VALUE), out, l -> { }).listener(user).run(false);
        }
        assertEquals(java.util.List.of("start pro-grpo 0..1", "enter SAMPLING",
                "step 1/5 rows 16", "step 2/5 rows 16", "prune 8>4@2 freed", "step 3/5 rows 8", "prune 4>2@3 freed",
                "step 4/5 rows 4", "step 5/5 rows 4", "leave SAMPLING", "enter REWARD", "leave REWARD", "enter TRAINING",
                "leave TRAINING", "done 0 rows on disk 1 same true", "finished"), heard);
        // the row's memory.prunes: the bytes each checkpoint released, as the listener heard them (one batch)
        @SuppressWarnings("unchecked")
        var prunes = (java.util.List<Map<String, Object>>) ((Map<String, Object>) MetricsLog.read(out.resolve("metrics.jsonl")).get(0)
                .get("memory")).get("prunes");
        assertEquals(2, prunes.size(), String.valueOf(prunes));
        for (Map<String, Object> p : prunes) {
            int step = ((Number) p.get("step")).intValue();
            assertEquals(released.get(step), ((Number) p.get("bytes_released")).longValue(), "step " + step);
            assertEquals(1, ((Number) p.get("batches")).intValue());
        }
    }

    /** A sliding window's epoch sampler is the window at the epoch's position, and each epoch trains its LEN steps. */
    @Test
    void aSlidingWindowTrainsTheEpochsPosition() {
        io.progrpo.sampler.SdeWindowSampler w = new io.progrpo.sampler.SdeWindowSampler(new FlowSdeSampler(5, 1.0, 0.7), 0, 2, 1);
        GrpoTrainer.Plan plan = new GrpoTrainer.Plan(Method.FLOW_GRPO, w, FlowSdeSampler.ode(5, 1.0),
                PruneSchedule.none(8, 5), SubsetStrategy.byName("ovf"), false);
        try (MicroBatchInvarianceTest.AffineVelocity policy = new MicroBatchInvarianceTest.AffineVelocity(0.1, 0.2, 0.0);
             GrpoTrainer t = new GrpoTrainer(settings(0, GrpoObjective.RatioNorm.NONE, DType.FLOAT32, 0.05), plan, policy, null,
                     new LearningDirectionTest.World(), LearningDirectionTest.meanPixel(Double.MAX_VALUE), x -> x.clamp(-1e6, 1e6))) {
            // T = 5: starts 0..2 (3 positions), so epochs 0, 1, 2, 3 start at 0, 1, 2, 0
            int[] starts = new int[4];
            for (int e = 0; e < 4; e++) starts[e] = ((io.progrpo.sampler.SdeWindowSampler) t.samplerOf(e)).start();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {0, 1, 2, 0}, starts);
            for (int e = 0; e < 3; e++) {
                Map<String, Object> m = t.runEpoch(e, new Phases(p -> { }));
                assertEquals(2, ((Number) m.get("trained_steps")).intValue(), "epoch " + e);
                assertEquals(1.0, ((Number) m.get("ratio_mean")).doubleValue(), 1e-6, "epoch " + e + " on-policy with its own window");
            }
        }
    }
}
