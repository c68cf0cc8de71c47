package io.progrpo.app.report;

import java.util.Objects;

/**
 * One method's outcome over its seeds, as a row of the report. Times are means over epochs (and seeds) in seconds;
 * the speedup against a baseline is computed by {@link ReportWriter}, not stored, so it always matches the rows.
 *
 * @param method                 method name (see {@code Method.configNames()}), or any label
 * @param seeds                  number of seeds aggregated, >= 1
 * @param finalEvalRewardMean    mean over seeds of the final evaluation reward
 * @param finalEvalRewardStd     std over seeds of the final evaluation reward (0 for one seed)
 * @param withinGroupRewardStd   mean within-group std of the training rewards (the clustering signal)
 * @param nfePerEpoch            model forward evaluations spent sampling per epoch (pruning included)
 * @param wallSecondsPerEpoch    wall time of one epoch
 * @param sampleSecondsPerEpoch  wall time of the sampling phase per epoch
 * @param rewardSecondsPerEpoch  wall time of the reward phase per epoch
 * @param trainSecondsPerEpoch   wall time of the training phase per epoch
 * @param peakMemoryBytes        peak device memory of the run; -1 when not measured
 * @param modelFlopsPerEpoch     model FLOPs of an epoch ({@link ModelFlops}: generator forward and backward passes,
 *                               guidance included, and the decoder's); -1 when not known
 */
public record MethodResult(
        String method,
        int seeds,
        double finalEvalRewardMean,
        double finalEvalRewardStd,
        double withinGroupRewardStd,
        long nfePerEpoch,
        double wallSecondsPerEpoch,
        double sampleSecondsPerEpoch,
        double rewardSecondsPerEpoch,
        double trainSecondsPerEpoch,
        long peakMemoryBytes,
        double modelFlopsPerEpoch) {

    /** A result without a FLOP count. */
    public MethodResult(String method, int seeds, double finalEvalRewardMean, double finalEvalRewardStd, double withinGroupRewardStd,
                        long nfePerEpoch, double wallSecondsPerEpoch, double sampleSecondsPerEpoch, double rewardSecondsPerEpoch,
                        double trainSecondsPerEpoch, long peakMemoryBytes) {
        this(method, seeds, finalEvalRewardMean, finalEvalRewardStd, withinGroupRewardStd, nfePerEpoch, wallSecondsPerEpoch,
                sampleSecondsPerEpoch, rewardSecondsPerEpoch, trainSecondsPerEpoch, peakMemoryBytes, -1);
    }

    /** Validates counts and times; rewards may be any finite number. */
    public MethodResult {
        Objects.requireNonNull(method, "method");
        if (method.isBlank()) {
            throw new IllegalArgumentException("method must be a non-empty name, got '" + method + "'");
        }
        if (seeds < 1) {
            throw new IllegalArgumentException("seeds of " + method + " must be >= 1, got " + seeds);
        }
        finite(method, "finalEvalRewardMean", finalEvalRewardMean);
        nonNegative(method, "finalEvalRewardStd", finalEvalRewardStd);
        nonNegative(method, "withinGroupRewardStd", withinGroupRewardStd);
        if (nfePerEpoch < 0) {
            throw new IllegalArgumentException("nfePerEpoch of " + method + " must be >= 0, got " + nfePerEpoch);
        }
        nonNegative(method, "wallSecondsPerEpoch", wallSecondsPerEpoch);
        nonNegative(method, "sampleSecondsPerEpoch", sampleSecondsPerEpoch);
        nonNegative(method, "rewardSecondsPerEpoch", rewardSecondsPerEpoch);
        nonNegative(method, "trainSecondsPerEpoch", trainSecondsPerEpoch);
        if (!(modelFlopsPerEpoch == -1 || modelFlopsPerEpoch >= 0 && Double.isFinite(modelFlopsPerEpoch))) {
            throw new IllegalArgumentException("modelFlopsPerEpoch of " + method + " must be >= 0 or -1 (unknown), got " + modelFlopsPerEpoch);
        }
        if (peakMemoryBytes < -1) {
            throw new IllegalArgumentException("peakMemoryBytes of " + method + " must be >= 0 or -1 (unknown), got "
                    + peakMemoryBytes);
        }
    }

    private static void finite(String method, String field, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(field + " of " + method + " must be finite, got " + v);
        }
    }

    private static void nonNegative(String method, String field, double v) {
        if (!(v >= 0 && Double.isFinite(v))) {
            throw new IllegalArgumentException(field + " of " + method + " must be a finite number >= 0, got " + v);
        }
    }
}
