package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class AsyncRewardTest {
    /** Mean pixel of each image plus the prompt's length: depends on both inputs. */
    static final class MeanPixel implements RewardFunction {
        final List<String> threads = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String name() {
            return "mean_pixel";
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            threads.add(Thread.currentThread().getName());
            ImageBatch b = ImageBatch.of(images, name());
            double[] s = new double[b.count()];
            for (int i = 0; i < b.count(); i++) {
                double sum = 0;
                for (int k = 0; k < b.imageSize(); k++) sum += b.pixels()[b.offset(i) + k];
                s[i] = sum / b.imageSize() + prompts.get(i).length();
            }
            return RewardOutput.of(s);
        }
    }

    @Test
    void resultsComeBackInSubmissionOrderAndMatchSynchronousScoring() {
        MeanPixel reward = new MeanPixel();
        List<double[]> expected = new ArrayList<>();
        List<CompletableFuture<RewardOutput>> futures = new ArrayList<>();
        try (AsyncReward async = new AsyncReward(reward)) {
            for (int b = 0; b < 8; b++) {
                try (Scope _ = Scope.open()) {
                    float[] px = new float[(b + 1) * 3 * 4 * 4];
                    for (int i = 0; i < px.length; i++) px[i] = (i * 7 + b) % 11 / 10f;
                    Tensor images = Tensor.of(px, b + 1, 3, 4, 4);
                    List<String> prompts = Collections.nCopies(b + 1, "x".repeat(b));
                    expected.add(reward.score(images, prompts).scores());
                    futures.add(async.submit(images, prompts));
                } // the caller's tensors are freed here, possibly before the worker ran: the worker scores its own copy
            }
            assertEquals(8, async.outstanding());
            List<RewardOutput> all = async.awaitAll();
            assertEquals(0, async.outstanding());
            for (int b = 0; b < 8; b++) {
                assertArrayEquals(expected.get(b), all.get(b).scores(), 0, "batch " + b);
                assertArrayEquals(expected.get(b), futures.get(b).join().scores(), 0, "batch " + b);
            }
        }
        assertTrue(reward.threads.stream().anyMatch(t -> t.startsWith("reward-mean_pixel")), reward.threads.toString());
    }

    @Test
    void submitReturnsWhileTheRewardIsStillRunning() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RewardFunction blocking = new RewardFunction() {
            @Override
            public String name() {
                return "blocking";
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                started.countDown();
                try {
                    if (!release.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return RewardOutput.of(new double[(int) images.size(0)]);
            }
        };
        try (AsyncReward async = new AsyncReward(blocking); Scope _ = Scope.open()) {
            Tensor images = Tensor.zeros(2, 3, 4, 4);
            CompletableFuture<RewardOutput> first = async.submit(images, List.of("a", "b"));
            assertTrue(started.await(60, TimeUnit.SECONDS), "the worker started scoring");
            // the caller is free (it could be sampling the next batch) while the first batch is being scored
            CompletableFuture<RewardOutput> second = async.submit(images, List.of("c", "d"));
            assertFalse(first.isDone());
            assertFalse(second.isDone());
            release.countDown();
            assertEquals(2, first.get(60, TimeUnit.SECONDS).size());
            assertEquals(2, second.get(60, TimeUnit.SECONDS).size());
        }
    }

    @Test
    void failuresAreDeliveredThroughTheFuture() {
        RewardFunction nan = new RewardFunction() {
            @Override
            public String name() {
                return "nan";
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                return RewardOutput.of(0, Double.NaN);
            }
        };
        try (AsyncReward async = new AsyncReward(nan); Scope _ = Scope.open()) {
            Tensor images = Tensor.zeros(2, 3, 4, 4);
            var e = assertThrows(ExecutionException.class, () -> async.submit(images, List.of("a", "b")).get(60, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("'nan'") && e.getCause().getMessage().contains("index 1"), e.getCause().getMessage());
            assertThrows(CompletionException.class, async::awaitAll);
            var bad = assertThrows(IllegalArgumentException.class, () -> async.submit(images, List.of("a")));
            assertTrue(bad.getMessage().contains("2 images and 1 prompts"), bad.getMessage());
        }
    }

    @Test
    void callerExecutorIsLeftRunningAndClosedInstanceRefusesWork() throws Exception {
        var pool = Executors.newFixedThreadPool(2);
        try {
            MeanPixel reward = new MeanPixel();
            AsyncReward async = new AsyncReward(reward, pool);
            try (Scope _ = Scope.open()) {
                Tensor images = Tensor.ones(1, 3, 2, 2);
                assertEquals(2.0, async.submit(images, List.of("p")).get(60, TimeUnit.SECONDS).score(0), 1e-12);
                async.close();
                var e = assertThrows(IllegalStateException.class, () -> async.submit(images, List.of("p")));
                assertTrue(e.getMessage().contains("mean_pixel"), e.getMessage());
            }
            assertFalse(pool.isShutdown());
            assertNotEquals(Thread.currentThread().getName(), reward.threads.getFirst());
        } finally {
            pool.shutdownNow();
        }
    }
}
