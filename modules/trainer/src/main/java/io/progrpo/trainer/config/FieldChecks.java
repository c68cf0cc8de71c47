package io.progrpo.trainer.config;

import io.progrpo.pruning.PruneSchedule;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checks behind {@link TrainConfig}'s constructor: one-field rules, the reward spec and the prune schedule.
 * Every failure is a {@link ConfigException} naming the field, the expectation and the value received.
 */
final class FieldChecks {
    private FieldChecks() {}

    private static final Pattern SCHEDULE_SPEC = Pattern.compile("(\\d+)((?:>\\d+@\\d+)+)");
    private static final Pattern SCHEDULE_STAGE = Pattern.compile(">(\\d+)@(\\d+)");
    private static final Pattern SCHEDULE_NAME = Pattern.compile("[a-z][a-z0-9_-]*");
    private static final Pattern REWARD_TERM = Pattern.compile("([a-z][a-z0-9_-]*)(?::([^,:]+))?");

    static void nonNull(String field, Object v) {
        if (v == null) throw new ConfigException(field, field + " must be set, got null");
    }

    static void oneOf(String field, String v, List<String> allowed) {
        if (v == null || !allowed.contains(v)) {
            throw new ConfigException(field, field + " must be one of " + String.join(", ", allowed)
                    + ", got " + (v == null ? "null" : "'" + v + "'"));
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

    /** See {@link TrainConfig#parseRewardSpec(String)}. */
    static Map<String, Double> rewardSpec(String spec) {
        nonNull("reward", spec);
        Map<String, Double> terms = new LinkedHashMap<>();
        if (spec.isBlank()) throw new ConfigException("reward", "reward must name at least one reward, got an empty string");
        for (String term : spec.split(",", -1)) {
            Matcher m = REWARD_TERM.matcher(term.trim());
            if (!m.matches()) {
                throw new ConfigException("reward", "reward term '" + term + "' in '" + spec
                        + "' must be name or name:weight (lower-case name)");
            }
            double w = 1.0;
            if (m.group(2) != null) {
                w = ConfigSources.decimalOrNaN(m.group(2).trim());
                if (Double.isNaN(w)) {
                    throw new ConfigException("reward", "reward weight of '" + m.group(1) + "' in '" + spec
                            + "' must be a finite decimal number such as 0.1, got '" + m.group(2) + "'");
                }
            }
            if (terms.put(m.group(1), w) != null) {
                throw new ConfigException("reward", "reward '" + m.group(1) + "' appears twice in '" + spec + "'");
            }
        }
        return Collections.unmodifiableMap(terms);
    }

    /**
     * The sampling funnel of a pruning method: a spec {@code G_max>size@step>...} or a {@link PruneSchedule#preset}
     * name, checked against groupSize and samplerSteps. Pruning happens during sampling, so every checkpoint is
     * before the last step.
     */
    static PruneSchedule pruneSchedule(String method, String schedule, int groupSize, int samplerSteps) {
        boolean none = schedule.isBlank() || schedule.equals(TrainConfig.NO_PRUNING);
        if (!TrainConfig.PRUNING_METHODS.contains(method)) {
            if (!none) {
                throw new ConfigException("pruneSchedule", "pruneSchedule must be '" + TrainConfig.NO_PRUNING
                        + "' for method " + method + " (only " + String.join(", ", new TreeSet<>(TrainConfig.PRUNING_METHODS))
                        + " prune), got '" + schedule + "'");
            }
            return null;
        }
        if (none) {
            throw new ConfigException("pruneSchedule", "method " + method
                    + " needs a pruneSchedule such as 48>24@5>12@7, got '" + schedule + "'");
        }
        if (!Character.isDigit(schedule.charAt(0))) return named(schedule, groupSize, samplerSteps);
        Matcher m = SCHEDULE_SPEC.matcher(schedule);
        if (!m.matches()) {
            throw new ConfigException("pruneSchedule", "pruneSchedule spec must look like G_max>size@step>...,"
                    + " e.g. 48>24@5>12@7, got '" + schedule + "'");
        }
        int first = specInt(m.group(1), schedule, "G_max");
        if (first != groupSize) {
            throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "' starts at G_max = " + first
                    + " but groupSize is " + groupSize + "; they must be equal");
        }
        List<int[]> stages = new java.util.ArrayList<>();
        int prevSize = first;
        int prevStep = 0;
        Matcher s = SCHEDULE_STAGE.matcher(m.group(2));
        while (s.find()) {
            int size = specInt(s.group(1), schedule, "a size");
            int step = specInt(s.group(2), schedule, "a checkpoint step");
            if (size >= prevSize || size < 2) {
                throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "': size " + size
                        + " must be in [2, " + (prevSize - 1) + "] (sizes shrink, and a group needs two samples)");
            }
            if (step <= prevStep || step >= samplerSteps) {
                throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "': checkpoint step " + step
                        + (prevStep + 1 <= samplerSteps - 1 ? " must be in [" + (prevStep + 1) + ", " + (samplerSteps - 1) + "]"
                        : " has no room: it must come after step " + prevStep + " and before step " + samplerSteps)
                        + " (increasing, before the last of samplerSteps = " + samplerSteps + ")");
            }
            stages.add(new int[] {size, step});
            prevSize = size;
            prevStep = step;
        }
        return build(schedule, first, stages, samplerSteps);
    }

    private static PruneSchedule named(String schedule, int groupSize, int samplerSteps) {
        if (!SCHEDULE_NAME.matcher(schedule).matches()) {
            throw new ConfigException("pruneSchedule", "pruneSchedule must be a spec like 48>24@5>12@7 or a "
                    + "lower-case preset name (" + String.join(", ", PruneSchedule.presetNames()) + "), got '" + schedule + "'");
        }
        if (!PruneSchedule.presetNames().contains(schedule)) {
            throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "' is neither a spec like "
                    + "48>24@5>12@7 nor a preset (" + String.join(", ", PruneSchedule.presetNames()) + ")");
        }
        PruneSchedule p = PruneSchedule.preset(schedule);
        String what = "pruneSchedule preset '" + schedule + "' (" + p.describe() + ")";
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

    private static int specInt(String digits, String schedule, String what) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "': " + what + " of " + digits
                    + " is out of range (expected an int, at most " + Integer.MAX_VALUE + ")");
        }
    }

    private static PruneSchedule build(String schedule, int first, List<int[]> stages, int samplerSteps) {
        int[] sizes = stages.stream().mapToInt(a -> a[0]).toArray();
        int[] steps = stages.stream().mapToInt(a -> a[1]).toArray();
        try {
            return new PruneSchedule(first, steps, sizes, samplerSteps, "ovf");
        } catch (IllegalArgumentException e) {
            // the checks above mirror PruneSchedule's, so this is a rule added there and not here yet
            throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "': " + e.getMessage(), e);
        }
    }
}
