package io.progrpo.app.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@code progrpo adapters} writes: {@code base + scale * sum_i weights[i] * (theta_i - base)} for the trained
 * parameters of {@code checkpoints} whose dotted names {@code only} finds (every one when it is null); the other
 * parameters keep the base model's values. The base model is the one the first checkpoint's config builds.
 *
 * @param checkpoints checkpoint directories (each holds policy.pt and config.json), at least one
 * @param weights     one finite weight per checkpoint
 * @param scale       a finite factor on the combined update
 * @param only        the parameters to combine (matched with {@link java.util.regex.Matcher#find()}), or null for all
 * @param out         the directory to write policy.pt, config.json, adapters.json and manifest.sha256 into
 */
public record AdapterPlan(List<Path> checkpoints, List<Double> weights, double scale, Pattern only, Path out) {
    public AdapterPlan {
        if (checkpoints == null || checkpoints.isEmpty()) throw new IllegalArgumentException("at least one checkpoint is needed, got none");
        if (weights == null || weights.size() != checkpoints.size()) {
            throw new IllegalArgumentException("one weight per checkpoint is needed: " + checkpoints.size() + " checkpoints, "
                    + (weights == null ? "no" : weights.size()) + " weights");
        }
        for (int i = 0; i < weights.size(); i++) {
            Double w = weights.get(i);
            if (w == null || !Double.isFinite(w)) throw new IllegalArgumentException("weight " + (i + 1) + " must be finite, got " + w);
        }
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (out == null) throw new IllegalArgumentException("an output directory is needed");
        checkpoints = List.copyOf(checkpoints);
        weights = List.copyOf(weights);
    }

    /** Equal weights 1/n: the average of the checkpoints' updates. */
    public static List<Double> averageWeights(int n) {
        if (n < 1) throw new IllegalArgumentException("at least one checkpoint is needed, got " + n);
        return java.util.Collections.nCopies(n, 1.0 / n);
    }
}
