package io.progrpo.trainer;

/**
 * The random streams of a run. Every stream of epoch e derives from (seed, e) and a stream number, so a resumed run
 * draws what an uninterrupted one draws, without an RNG file:
 * <pre>
 *   1  the epoch's prompts                    3  the driver's subset draws (uniform-subsample)
 *   2  initial and SDE noise                  4  DanceGRPO's trained-step subset
 *   5  the shadow group's prompt              6  the shadow group's noise     7  its subset draws
 * </pre>
 * Streams 2 and 3 exist once per epoch ({@link GroupSeeding#EPOCH_STREAM}) or once per prompt group
 * ({@link GroupSeeding#PER_GROUP}, {@link #group}).
 */
final class Seeds {
    private Seeds() {}

    /** The seed of one stream of an epoch (a SplitMix64-style finalizer over the three). */
    static long mix(long seed, long epoch, long stream) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + stream * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The seed of one prompt group's stream: the same on every rank and for every world size. */
    static long group(long seed, int epoch, int group, long stream) {
        return mix(mix(seed, epoch, stream), group, 7);
    }
}
