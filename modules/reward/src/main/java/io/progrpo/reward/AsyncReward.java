package io.progrpo.reward;

import io.progrpo.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a {@link RewardFunction} on another thread, so that CPU-side scoring of one batch overlaps the sampling of
 * the next. Each {@link #submit} returns its own future; {@link #awaitAll()} collects the outstanding results in
 * submission order. With the default single worker thread the rewards also run in submission order, so a reward
 * that is not thread-safe is safe here.
 *
 * <h2>Tensors and threads</h2>
 * Tensors are confined to the thread that created them and may be freed by the caller's scope at any time after
 * {@code submit} returns. So {@code submit} copies the images to the Java heap on the calling thread
 * ({@link Tensor#toFloatArray()}, which also brings GPU images to the host), and the worker builds its own fresh CPU
 * float32 tensor from that copy, owns it and closes it after scoring. No tensor crosses threads, and the caller may
 * close or overwrite its images as soon as {@code submit} returns.
 */
public final class AsyncReward implements AutoCloseable {
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final RewardFunction reward;
    private final ExecutorService executor;
    private final boolean ownsExecutor;
    private final Deque<CompletableFuture<RewardOutput>> outstanding = new ArrayDeque<>();
    private boolean closed;

    /** Scores on one daemon worker thread owned by this object (shut down by {@link #close()}). */
    public AsyncReward(RewardFunction reward) {
        this(reward, Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "reward-" + reward.name() + "-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        }), true);
    }

    /** Scores on the caller's executor, which {@link #close()} leaves running. */
    public AsyncReward(RewardFunction reward, ExecutorService executor) {
        this(reward, executor, false);
    }

    private AsyncReward(RewardFunction reward, ExecutorService executor, boolean ownsExecutor) {
        this.reward = Objects.requireNonNull(reward, "reward");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.ownsExecutor = ownsExecutor;
    }

    public RewardFunction reward() {
        return reward;
    }

    /**
     * Copies the images and prompts and schedules their scoring. The future completes with the checked output
     * ({@link RewardFunction#scoreChecked}), or exceptionally with the reward's exception.
     *
     * @throws IllegalArgumentException at once when the prompt count differs from the image count
     */
    public synchronized CompletableFuture<RewardOutput> submit(Tensor images, List<String> prompts) {
        if (closed) throw new IllegalStateException("AsyncReward for '" + reward.name() + "' is closed");
        RewardFunction.checkInputs(reward.name(), images, prompts);
        float[] pixels = images.toFloatArray();
        long[] shape = images.shape();
        List<String> promptCopy = List.copyOf(prompts);
        CompletableFuture<RewardOutput> f = CompletableFuture.supplyAsync(() -> {
            try (Tensor own = Tensor.of(pixels, shape)) {
                return reward.scoreChecked(own, promptCopy);
            }
        }, executor);
        outstanding.add(f);
        return f;
    }

    /** Submissions whose results {@link #awaitAll()} has not collected yet. */
    public synchronized int outstanding() {
        return outstanding.size();
    }

    /**
     * Waits for every outstanding submission and returns the results in submission order.
     *
     * @throws CompletionException with the first failure (in submission order); the later results are dropped
     */
    public List<RewardOutput> awaitAll() {
        List<CompletableFuture<RewardOutput>> batch;
        synchronized (this) {
            batch = new ArrayList<>(outstanding);
            outstanding.clear();
        }
        List<RewardOutput> out = new ArrayList<>(batch.size());
        for (CompletableFuture<RewardOutput> f : batch) out.add(f.join());
        return out;
    }

    /** Lets the submitted work finish, then stops the owned worker thread. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        if (ownsExecutor) {
            executor.shutdown();
            try {
                if (!executor.awaitTermination(10, TimeUnit.MINUTES)) executor.shutdownNow();
            } catch (InterruptedException e) {
                executor.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
