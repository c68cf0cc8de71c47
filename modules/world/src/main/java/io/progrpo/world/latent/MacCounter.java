package io.progrpo.world.latent;

/**
 * A direct count of the multiply-accumulates that the latent world's layers actually run, per thread: each linear,
 * convolution and attention product adds the size of the product it computes from its operands' runtime shapes.
 * The analytic formulas ({@link LatentFlowTransformer#forwardMacs}, {@link LatentAutoencoder#decoderMacsPerImage})
 * are tested against it. Off unless a test starts it.
 */
final class MacCounter {
    private static final ThreadLocal<long[]> COUNT = new ThreadLocal<>();

    private MacCounter() {}

    /** Starts counting on this thread from zero. */
    static void start() {
        COUNT.set(new long[1]);
    }

    /** Stops counting on this thread and returns the count since {@link #start()}. */
    static long stop() {
        long[] c = COUNT.get();
        COUNT.remove();
        if (c == null) throw new IllegalStateException("MacCounter.stop() without start() on this thread");
        return c[0];
    }

    static void add(long macs) {
        long[] c = COUNT.get();
        if (c != null) c[0] += macs;
    }
}
