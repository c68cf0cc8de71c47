package io.progrpo.trainer.config;

import io.progrpo.pruning.PruneSchedule;
import io.progrpo.reward.MultiReward;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The checks behind {@link TrainConfig}'s constructor: one-field rules, and the reward spec and the prune schedule,
 * each read by its one parser (MultiReward, PruneSchedule) and checked against the other fields here.
 * Every failure is a {@link ConfigException} naming the field, the expectation and the value received.
 */
final class FieldChecks {
    private FieldChecks() {}

    static void nonNull(String field, Object v) {
        if (v == null) throw new ConfigException(field, field + " must be set, got null");
    }

    static void oneOf(String field, String v, List<String> allowed) {
        if (v == null || !allowed.contains(v)) {
            throw new ConfigException(field, field + " must be one of " + String.join(", ", allowed)
                    + ", got " + (v == null ? "null" : "'" + v + "'"));
        }
    }

    /** {@code sampler}: a name without blanks (the registry's names are checked by the job, which knows the plug-ins). */
    static void samplerName(String sampler) {
        nonNull("sampler", sampler);
        if (sampler.isBlank() || !sampler.equals(sampler.strip()) || sampler.chars().anyMatch(Character::isWhitespace)) {
            throw new ConfigException("sampler", "sampler must be '" + TrainConfig.METHOD_SAMPLER + "' (the method's own "
                    + "sampler) or a sampler's name, without blanks, got '" + sampler + "'");
        }
    }

    /** {@code optimizerStepsPerEpoch}: >= 1 and a divisor of groupsPerEpoch (each step takes the same number of groups). */
    static void optimizerSteps(int steps, int groupsPerEpoch) {
        if (steps < 1 || groupsPerEpoch % steps != 0) {
            throw new ConfigException("optimizerStepsPerEpoch", "optimizerStepsPerEpoch must be >= 1 and divide groupsPerEpoch ("
                    + groupsPerEpoch + "), so that every step takes the same number of prompt groups; got " + steps);
        }
    }

    private static final java.util.regex.Pattern WINDOW = java.util.regex.Pattern.compile("([0-9]{1,6}):([0-9]{1,6})(?::([0-9]{1,6}))?");

    /**
     * {@code sdeWindow}: {@code none}, or {@code START:LEN[:STRIDE]} inside the T - 1 trainable steps, for a flow method
     * with trainStepFraction 1; returns {start, length, stride} or null for none.
     */
    static int[] sdeWindow(String method, String window, int samplerSteps, double trainStepFraction) {
        nonNull("sdeWindow", window);
        if (window.equals(TrainConfig.NO_WINDOW)) return null;
        java.util.regex.Matcher m = WINDOW.matcher(window);
        if (!m.matches()) {
            throw new ConfigException("sdeWindow", "sdeWindow must be 'none' or START:LEN[:STRIDE] (steps START..START+LEN-1 "
                    + "stochastic, e.g. 2:2, or 0:2:1 to slide one step per epoch), got '" + window + "'");
        }
        int start = Integer.parseInt(m.group(1));
        int len = Integer.parseInt(m.group(2));
        int stride = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
        if (len < 1 || start + len > samplerSteps - 1) {
            throw new ConfigException("sdeWindow", "sdeWindow " + window + " must lie within the " + (samplerSteps - 1)
                    + " trainable steps 0.." + (samplerSteps - 2) + " of samplerSteps = " + samplerSteps
                    + " (LEN >= 1, START + LEN <= samplerSteps - 1)");
        }
        if (Method.byName(method).isDiffusion()) {
            throw new ConfigException("sdeWindow", "sdeWindow=" + window + " is for the flow samplers (an Euler ODE outside the "
                    + "window), got method " + method + " (DDIM); use sdeWindow=none");
        }
        if (trainStepFraction != 1.0) {
            throw new ConfigException("sdeWindow", "sdeWindow=" + window + " decides the trained steps (the window's), so "
                    + "trainStepFraction must stay 1.0, got " + trainStepFraction);
        }
        return new int[] {start, len, stride};
    }

    /** {@code promptSeed}: a seed >= 0, or {@link TrainConfig#PROMPT_SEED_OF_RUN} for the run's own seed. */
    static void promptSeed(long seed) {
        if (seed < TrainConfig.PROMPT_SEED_OF_RUN) {
            throw new ConfigException("promptSeed", "promptSeed must be >= 0, or " + TrainConfig.PROMPT_SEED_OF_RUN
                    + " for the run's seed, got " + seed);
        }
    }

    /** {@code emaDecay}: 0 (off) or a decay in (0, 1). */
    static void emaDecay(double d) {
        if (!(d >= 0 && d < 1)) {
            throw new ConfigException("emaDecay", "emaDecay must be in [0, 1) (0 = no EMA; 0.9 to 0.999 are usual), got " + d);
        }
    }

    /** {@code ratioNorm=grpo-guard} needs a Gaussian flow step's noise and mean: not the diffusion (DDIM) methods. */
    static void ratioNorm(String method, String ratioNorm) {
        if (!ratioNorm.equals("none") && Method.byName(method).isDiffusion()) {
            throw new ConfigException("ratioNorm", "ratioNorm=" + ratioNorm + " is defined for the flow samplers (GRPO-Guard's "
                    + "regulated ratio of a flow SDE step), got method " + method + " (DDIM); use ratioNorm=none");
        }
    }

    /** {@code groupSize} (>= 2, the rows of an epoch fit an int) and {@code subsetSize} (>= 2, below G where it is trained). */
    static void groupSizes(String method, int groupsPerEpoch, int groupSize, int subsetSize) {
        atLeast("groupSize", groupSize, 2, "a group needs two samples for a reward std");
        if ((long) groupsPerEpoch * groupSize > Integer.MAX_VALUE) {
            throw new ConfigException("groupSize", "groupsPerEpoch x groupSize (the rows sampled per epoch) must be at most "
                    + Integer.MAX_VALUE + ", got " + groupsPerEpoch + " x " + groupSize + " = " + (long) groupsPerEpoch * groupSize);
        }
        atLeast("subsetSize", subsetSize, 2, "a subset needs two samples for a reward std");
        if (Method.byName(method).trainsSubset() && subsetSize >= groupSize) {
            throw new ConfigException("subsetSize", "subsetSize must be < groupSize (" + groupSize + ") for method "
                    + method + " (it trains k of the G sampled; k = G is flow-grpo), got " + subsetSize);
        }
    }

    static void positive(String field, int v) {
        if (v < 1) throw new ConfigException(field, field + " must be >= 1, got " + v);
    }

    static void atLeast(String field, int v, int min, String why) {
        if (v < min) throw new ConfigException(field, field + " must be >= " + min + " (" + why + "), got " + v);
    }

    static void atMost(String field, int v, int max) {
        if (v > max) throw new ConfigException(field, field + " must be <= " + max + ", got " + v);
    }

    static void positiveFinite(String field, double v) {
        if (!(v > 0 && Double.isFinite(v))) throw new ConfigException(field, field + " must be a finite number > 0, got " + v);
    }

    static void nonNegativeFinite(String field, double v) {
        if (!(v >= 0 && Double.isFinite(v))) throw new ConfigException(field, field + " must be a finite number >= 0, got " + v);
    }

    static void unitInterval(String field, double v) {
        if (!(v >= 0 && v < 1)) throw new ConfigException(field, field + " must be in [0, 1), got " + v);
    }

    /** See {@link TrainConfig#parseRewardSpec(String)}: {@link MultiReward#parseWeights}, its errors for field reward. */
    static Map<String, Double> rewardSpec(String spec) {
        nonNull("reward", spec);
        try {
            return Collections.unmodifiableMap(MultiReward.parseWeights(spec));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("reward", e.getMessage(), e);
        }
    }

    /**
     * The sampling funnel of a pruning method: a spec {@code G_max>size@step>...} or a preset name, read by
     * {@link PruneSchedule#parse}, then checked against groupSize and samplerSteps. Pruning happens during sampling,
     * so every checkpoint is before the last step.
     */
    static PruneSchedule pruneSchedule(String method, String schedule, int groupSize, int samplerSteps) {
        boolean none = schedule.isBlank() || schedule.equals(TrainConfig.NO_PRUNING);
        if (!Method.byName(method).prunesDuringSampling()) {
            if (!none) {
                throw new ConfigException("pruneSchedule", "pruneSchedule must be '" + TrainConfig.NO_PRUNING
                        + "' for method " + method + " (only " + String.join(", ", Method.configNames(Method::prunesDuringSampling))
                        + " prune), got '" + schedule + "'");
            }
            return null;
        }
        if (none) {
            throw new ConfigException("pruneSchedule", "method " + method
                    + " needs a pruneSchedule such as 48>24@5>12@7, got '" + schedule + "'");
        }
        PruneSchedule p;
        try {
            p = PruneSchedule.parse(schedule, samplerSteps, samplerSteps - 1);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("pruneSchedule", e.getMessage(), e);
        }
        boolean preset = !PruneSchedule.isSpec(schedule);
        String what = preset ? "pruneSchedule preset '" + schedule + "' (" + p.describe() + ")" : "pruneSchedule '" + schedule + "'";
        if (p.totalSteps() != samplerSteps) {
            throw new ConfigException("pruneSchedule", what + " is for " + p.totalSteps() + " sampler steps, but "
                    + "samplerSteps is " + samplerSteps + "; set samplerSteps=" + p.totalSteps() + " or write a spec");
        }
        if (p.initialGroupSize() != groupSize) {
            throw new ConfigException("pruneSchedule", what + " starts at G_max = " + p.initialGroupSize()
                    + " but groupSize is " + groupSize + "; they must be equal");
        }
        if (p.checkpointCount() == 0) {
            throw new ConfigException("pruneSchedule", what + " never prunes; a pruning method needs at least one "
                    + "checkpoint (use method flow-grpo or dance-grpo for a plain group)");
        }
        int last = p.checkpoints()[p.checkpointCount() - 1];
        if (last >= samplerSteps) {
            throw new ConfigException("pruneSchedule", what + " prunes at step " + last + ", expected every "
                    + "checkpoint before the last of samplerSteps = " + samplerSteps);
        }
        return p;
    }

    private static final java.util.regex.Pattern DEVICE = java.util.regex.Pattern.compile("cpu|cuda(?::([0-9]+))?");

    /** {@code cpu}, {@code cuda} or {@code cuda:N} with an int N. */
    static void device(String device) {
        nonNull("device", device);
        java.util.regex.Matcher dm = DEVICE.matcher(device);
        if (!dm.matches()) throw new ConfigException("device", "device must be cpu, cuda or cuda:N, got '" + device + "'");
        try {
            if (dm.group(1) != null) Integer.parseInt(dm.group(1));
        } catch (NumberFormatException e) {
            throw new ConfigException("device", "device index in '" + device + "' must be an int (at most "
                    + Integer.MAX_VALUE + "), got " + dm.group(1));
        }
    }

    /** The pixel world's image size (even, >= 8) and model width (a multiple of 4). */
    static void pixelWorld(int imageSize, int modelWidth) {
        if (imageSize < 8 || imageSize % 2 != 0) {
            throw new ConfigException("imageSize", "imageSize must be even and >= 8 (the demo world renders at least 8 x 8 "
                    + "and its model pools by 2), got " + imageSize);
        }
        if (modelWidth < 4 || modelWidth % 4 != 0) {
            throw new ConfigException("modelWidth", "modelWidth must be a positive multiple of 4 (the demo model's "
                    + "GroupNorm groups), got " + modelWidth);
        }
    }

    /** The sampler and objective numbers whose range depends on nothing but themselves (and the method, for eta). */
    static void samplerNumbers(String method, double eta, double guidanceScale, double trainStepFraction, double clipRange) {
        if (Method.byName(method).isDiffusion() && !(eta > 0 && eta <= 1)) {
            throw new ConfigException("eta", "eta must be in (0, 1] for method " + method + " (0 makes every DDIM step "
                    + "deterministic, leaving nothing to train; above 1 sqrt(1 - alphabar' - sigma_t^2) is undefined), got " + eta);
        }
        if (!(guidanceScale >= 1 && Double.isFinite(guidanceScale))) {
            throw new ConfigException("guidanceScale", "guidanceScale must be a finite number >= 1 (1 = no guidance), got "
                    + guidanceScale);
        }
        if (!(trainStepFraction > 0 && trainStepFraction <= 1)) {
            throw new ConfigException("trainStepFraction", "trainStepFraction must be in (0, 1], got " + trainStepFraction);
        }
        if (!(clipRange > 0 && clipRange < 1)) {
            throw new ConfigException("clipRange", "clipRange must be in (0, 1), got " + clipRange);
        }
    }

    /** A non-blank string that is a valid path. */
    static void outDir(String outDir) {
        nonNull("outDir", outDir);
        if (outDir.isBlank()) throw new ConfigException("outDir", "outDir must be a directory path, got an empty string");
        try {
            java.nio.file.Path.of(outDir);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException("outDir", "outDir must be a valid directory path, got '" + outDir + "' (" + e.getReason() + ")");
        }
    }

    /**
     * The adaptive method's settings: a threshold in (0, 1) and a budget in (0, 10] always (so a config stays valid
     * when only the method changes); for {@code pro-grpo-adaptive}, k below G_max, shadow groups on, and the configured
     * funnel (used until the first estimate) ending at k, so every epoch trains k per group.
     *
     * @param funnel the parsed pruneSchedule (null for a method that does not prune)
     */
    static void adaptive(String method, double threshold, double budget, int subsetSize, int groupSize, int shadowEvery,
                         PruneSchedule funnel) {
        if (!(threshold > 0 && threshold < 1)) {
            throw new ConfigException("adaptiveThreshold", "adaptiveThreshold must be a rank correlation in (0, 1), got " + threshold);
        }
        if (!(budget > 0 && budget <= 10)) {
            throw new ConfigException("computeBudget", "computeBudget must be a ratio of flow-grpo's compute in (0, 10], got " + budget);
        }
        if (method.equals("pro-grpo-adaptive") && subsetSize >= groupSize) {
            throw new ConfigException("subsetSize", "subsetSize (the survivors k) must be < groupSize (the largest G_max) for "
                    + "pro-grpo-adaptive, got k = " + subsetSize + ", G_max = " + groupSize);
        }
        if (method.equals("pro-grpo-adaptive") && shadowEvery < 1) {
            throw new ConfigException("shadowEvery", "pro-grpo-adaptive estimates the preview agreement on shadow groups "
                    + "and needs shadowEvery >= 1, got " + shadowEvery);
        }
        if (method.equals("pro-grpo-adaptive") && funnel != null && funnel.finalGroupSize() != subsetSize) {
            throw new ConfigException("pruneSchedule", "pruneSchedule (the funnel until the first estimate) must end at subsetSize k = "
                    + subsetSize + " for pro-grpo-adaptive, as every funnel it chooses does, got '" + funnel.spec() + "' ending at "
                    + funnel.finalGroupSize());
        }
    }
}
