package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The driver with a fake sampler and reward: each row's latents are a constant that the sampler shifts by +1 per step,
 * the preview is the latents themselves and the reward is the mean pixel, so every proxy reward is known in advance.
 * Survivors, counters and released memory must be exactly what the schedule implies.
 */
class ExpandAndPruneDriverTest {
    static final long[] SHAPE = {3, 2, 2};
    static final int D = 12;

    /** next = x + 1 + small per-row noise-free shift; std 0.1; logProb 0; preview = x. */
    static final class ShiftSampler implements Sampler {
        final int steps;

        ShiftSampler(int steps) {
            this.steps = steps;
        }

        @Override
        public int steps() {
            return steps;
        }

        @Override
        public double time(int stepIndex) {
            return 1 - (double) stepIndex / steps;
        }

        @Override
        public StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen) {
            try (Scope s = Scope.open()) {
                Tensor v = model.predict(x, Tensor.full(time(stepIndex), io.progrpo.tensor.DType.FLOAT32, Device.CPU, x.size(0)), cond);
                Tensor next = x.add(v).add(1);
                Tensor std = Tensor.full(0.1, io.progrpo.tensor.DType.FLOAT32, Device.CPU, x.size(0));
                Tensor lp = Tensor.zeros(x.size(0));
                return new StepOutput(next, next.clone_(), std, lp, x.clone_(), v).keep(s);
            }
        }

        @Override
        public LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isStochastic(int stepIndex) {
            return true;
        }
    }

    static final RewardFunction MEAN_PIXEL = new RewardFunction() {
        @Override
        public String name() {
            return "mean_pixel";
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            try (Scope s = Scope.open()) {
                return RewardOutput.of(images.reshape(images.size(0), -1).mean(false, 1).toDoubleArray());
            }
        }
    };

    /** Brute force: the k-subset of maximal population variance (ties: first found in lexicographic order). */
    static double bestVariance(double[] r, int k) {
        double best = -1;
        int n = r.length;
        for (int mask = 0; mask < (1 << n); mask++) {
            if (Integer.bitCount(mask) != k) continue;
            double m = 0;
            for (int i = 0; i < n; i++) if ((mask >> i & 1) != 0) m += r[i] / k;
            double v = 0;
            for (int i = 0; i < n; i++) if ((mask >> i & 1) != 0) v += (r[i] - m) * (r[i] - m) / k;
            best = Math.max(best, v);
        }
        return best;
    }

    @Test
    void survivorsCountersAndReleasedMemoryFollowTheSchedule() {
        int groups = 2;
        PruneSchedule schedule = new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 4, "ovf");
        Random rnd = new Random(11);
        float[] noise = new float[groups * 8 * D];
        double[] rowValue = new double[groups * 8];
        for (int r = 0; r < rowValue.length; r++) {
            rowValue[r] = Math.round(rnd.nextGaussian() * 100) / 10.0;
            for (int j = 0; j < D; j++) noise[r * D + j] = (float) rowValue[r];
        }
        long[] calls = {0, 0};
        VelocityModel zero = (x, t, cond) -> {
            calls[0]++;
            calls[1] += x.size(0);
            return Tensor.zeros(x.shape());
        };
        long bytesBefore = MemoryLedger.bytes(Device.CPU);
        long liveBefore = MemoryLedger.liveTensors();
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(schedule, SubsetStrategy.byName("ovf"), x -> x.clamp(-1e9, 1e9),
                new SplittableRandom(1));
        Tensor nz = Tensor.of(noise, groups * 8, 3, 2, 2);
        try (nz; ExpandAndPruneDriver.Result res = driver.run(new ShiftSampler(4), zero, List.of("a", "b"), nz, null,
                MEAN_PIXEL, MEAN_PIXEL, null)) {
            // forwards: 8 rows x 2 steps, 4 rows x 1 step, 2 rows x 1 step, per group
            assertEquals(groups * (8 * 2 + 4 + 2), res.counts().modelForwardRows());
            assertEquals(groups * (8 * 2 + 4 + 2), schedule.nfe() * groups);
            assertEquals(4, res.counts().modelCalls());
            assertEquals(groups * (8 + 4), res.counts().previews());
            assertEquals(3, res.counts().rewardCalls());
            // the preview at checkpoint 2 is x after 1 step = value + 1; at checkpoint 3, value + 2
            List<Integer> expectedRows = new ArrayList<>();
            for (int g = 0; g < groups; g++) {
                double[] r = Arrays.copyOfRange(rowValue, g * 8, g * 8 + 8);
                int[] keep1 = OptimalVarianceFilter.select(r, 4);
                double[] r1 = new double[4];
                for (int i = 0; i < 4; i++) r1[i] = r[keep1[i]];
                assertEquals(bestVariance(r, 4), OptimalVarianceFilter.variance(r, keep1), 1e-9);
                int[] keep2 = OptimalVarianceFilter.select(r1, 2);
                for (int i : keep2) expectedRows.add(g * 8 + keep1[i]);
            }
            assertArrayEquals(expectedRows.stream().mapToInt(Integer::intValue).toArray(), res.originalRow());
            assertArrayEquals(new int[] {0, 0, 1, 1}, res.groupOf());
            // final latents = value + 4 steps; final reward = that
            for (int i = 0; i < 4; i++) assertEquals(rowValue[res.originalRow()[i]] + 4, res.finalReward().scores()[i], 1e-5);
            assertEquals(2, res.checkpoints().size());
            assertEquals(8, res.checkpoints().get(0).sizeBefore());
            assertEquals(4, res.checkpoints().get(0).sizeAfter());
            assertTrue(res.checkpoints().get(0).withinGroupStdAfter() >= res.checkpoints().get(0).withinGroupStdBefore());
            // proxy and final rewards differ by a constant shift: perfectly correlated
            for (double c : res.proxyFinalCorrelation()) assertEquals(1.0, c, 1e-9);
            // memory: the pruned rows are gone; survivors hold 4 stored steps of (x, next, mean) [2 rows... per group]
            assertEquals(4, res.trajectory().rows());
            assertEquals(4, res.trajectory().stepsStored());
            long rowBytes = D * 4L;
            // per stored step: x (shared with the previous next, except step 0), next and logProb (no means)
            long expectedTraj = 4L * (4 * rowBytes + 4 * 4) + 4 * rowBytes;
            assertEquals(expectedTraj, res.trajectory().bytes());
            assertEquals(expectedTraj + 4 * rowBytes, MemoryLedger.bytes(Device.CPU) - bytesBefore - groups * 8 * rowBytes,
                    "live bytes are the survivors' trajectory and final images, nothing of the pruned rows");
        }
        assertEquals(liveBefore, MemoryLedger.liveTensors());
        assertEquals(bytesBefore, MemoryLedger.bytes(Device.CPU));
    }

    @Test
    void staticPruningAtTheLastStepScoresOnce() {
        PruneSchedule schedule = PruneSchedule.staticOvf(6, 2, 3);
        float[] noise = new float[6 * D];
        for (int r = 0; r < 6; r++) Arrays.fill(noise, r * D, (r + 1) * D, r);
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(schedule, SubsetStrategy.byName("ovf"), x -> x.clamp(-1e9, 1e9),
                new SplittableRandom(1));
        try (Tensor nz = Tensor.of(noise, 6, 3, 2, 2);
             var res = driver.run(new ShiftSampler(3), (x, t, c) -> Tensor.zeros(x.shape()), List.of("p"), nz, null,
                     MEAN_PIXEL, MEAN_PIXEL, null)) {
            assertEquals(1, res.counts().rewardCalls());
            assertEquals(0, res.counts().previews());
            assertArrayEquals(new int[] {0, 5}, res.originalRow());
            assertArrayEquals(new double[] {3, 8}, res.finalReward().scores(), 1e-6);
        }
    }

    /**
     * Preview-only steps: the preview after step s is x after s - 1 steps = value + s - 1 (ShiftSampler's preview is the
     * step's input), recorded for every row still active, NaN for pruned ones; nothing pruned there; the checkpoint
     * that is also a preview step gives its own proxies without a second reward call.
     */
    @Test
    void previewOnlyStepsRecordEveryActiveRowAndPruneNothing() {
        int gMax = 6;
        float[] noise = new float[2 * gMax * D];
        double[] value = new double[2 * gMax];
        Random rnd = new Random(13);
        for (int r = 0; r < value.length; r++) {
            value[r] = Math.round(rnd.nextGaussian() * 100) / 10.0;
            Arrays.fill(noise, r * D, (r + 1) * D, (float) value[r]);
        }
        // a shadow group: no pruning, previews after steps 1, 2 and 3 of 4
        ExpandAndPruneDriver shadow = new ExpandAndPruneDriver(PruneSchedule.none(gMax, 4), SubsetStrategy.byName("ovf"),
                x -> x.clamp(-1e9, 1e9), new SplittableRandom(1)).recordingPreviews(1, 2, 3);
        try (Tensor nz = Tensor.of(noise, 2 * gMax, 3, 2, 2);
             var res = shadow.run(new ShiftSampler(4), (x, t, c) -> Tensor.zeros(x.shape()), List.of("a", "b"), nz, null,
                     MEAN_PIXEL, MEAN_PIXEL, null)) {
            assertEquals(2 * gMax, res.originalRow().length, "nothing pruned");
            assertEquals(3, res.previews().size());
            for (int k = 0; k < 3; k++) {
                assertEquals(k + 1, res.previews().get(k).step());
                for (int r = 0; r < value.length; r++) assertEquals(value[r] + k, res.previews().get(k).proxy()[r], 1e-5);
            }
            assertEquals(4, res.counts().rewardCalls(), "three previews and the final reward");
            assertEquals(3L * 2 * gMax, res.counts().previews());
            assertEquals(4L * 2 * gMax, res.counts().modelForwardRows());
        }
        // with pruning: 6 -> 3 at step 2; previews after 2 (the checkpoint's own) and 3 (survivors only)
        ExpandAndPruneDriver pruned = new ExpandAndPruneDriver(new PruneSchedule(gMax, new int[] {2}, new int[] {3}, 4, "ovf"),
                SubsetStrategy.byName("ovf"), x -> x.clamp(-1e9, 1e9), new SplittableRandom(1)).recordingPreviews(2, 3);
        try (Tensor nz = Tensor.of(noise, 2 * gMax, 3, 2, 2);
             var res = pruned.run(new ShiftSampler(4), (x, t, c) -> Tensor.zeros(x.shape()), List.of("a", "b"), nz, null,
                     MEAN_PIXEL, MEAN_PIXEL, null)) {
            assertEquals(3, res.counts().rewardCalls(), "the checkpoint, one preview-only step and the final reward");
            double[] atCheckpoint = res.previews().get(0).proxy();
            double[] after = res.previews().get(1).proxy();
            java.util.Set<Integer> kept = new java.util.HashSet<>();
            for (int r : res.originalRow()) kept.add(r);
            for (int r = 0; r < value.length; r++) {
                assertEquals(value[r] + 1, atCheckpoint[r], 1e-5);
                if (kept.contains(r)) assertEquals(value[r] + 2, after[r], 1e-5);
                else assertTrue(Double.isNaN(after[r]), "row " + r + " was pruned at step 2: NaN, got " + after[r]);
            }
        }
        ExpandAndPruneDriver base = new ExpandAndPruneDriver(PruneSchedule.none(4, 3), SubsetStrategy.byName("ovf"),
                x -> x, new SplittableRandom(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> base.recordingPreviews(1, 4));
        assertTrue(e.getMessage().contains("[1, 3]") && e.getMessage().contains("got 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> base.recordingPreviews(2, 2));
        assertTrue(e.getMessage().contains("strictly increasing"), e.getMessage());
    }

    @Test
    void mismatchedInputsAreNamed() {
        ExpandAndPruneDriver driver = new ExpandAndPruneDriver(PruneSchedule.none(4, 3), SubsetStrategy.byName("ovf"),
                x -> x.clamp(0, 1), new SplittableRandom(1));
        try (Tensor nz = Tensor.zeros(5, 3, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> driver.run(new ShiftSampler(3), (x, t, c) -> Tensor.zeros(x.shape()), List.of("p"), nz, null, MEAN_PIXEL, MEAN_PIXEL, null));
            assertTrue(e.getMessage().contains("5 rows") && e.getMessage().contains("1 x 4"), e.getMessage());
        }
        try (Tensor nz = Tensor.zeros(4, 3, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> driver.run(new ShiftSampler(5), (x, t, c) -> Tensor.zeros(x.shape()), List.of("p"), nz, null, MEAN_PIXEL, MEAN_PIXEL, null));
            assertTrue(e.getMessage().contains("3 steps") && e.getMessage().contains("5"), e.getMessage());
        }
    }
}
