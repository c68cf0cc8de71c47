package io.progrpo.trainer;

/**
 * How an epoch's prompt groups draw their random streams (initial noise, SDE noise, subset draws). Both derive from
 * (seed, epoch) only, so either resumes bit-exactly; they differ in what is shared.
 */
public enum GroupSeeding {
    /**
     * All of this process's groups in ONE batched sampling run, from one generator seeded by (seed, epoch): the
     * single-process stream every figure in docs/benchmarks.md was measured with, and the single-process default.
     * One rank only (the stream cannot be split over ranks).
     */
    EPOCH_STREAM,
    /**
     * Each prompt group in its own sampling run, from a generator seeded by (seed, epoch, group): every group draws
     * the same on any number of ranks, so a data-parallel job trains the same parameters for every world size that
     * divides its groups per step. The data-parallel default.
     */
    PER_GROUP
}
