package io.progrpo.pruning;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Expand-and-Prune funnel of Pro-GRPO (spec section 5): sampling starts with an expanded group of
 * {@code initialGroupSize} = G_max trajectories and, at each checkpoint, keeps {@code survivors[i]} of them
 * chosen by the subset {@code strategy} on proxy rewards.
 *
 * <p>Step convention. Steps are numbered 0..T-1. {@code checkpoints[i]} is the number of steps already taken
 * when the group is pruned to {@code survivors[i]}: steps 0..checkpoints[i]-1 run on the previous size and
 * step checkpoints[i] onward on the survivors. The proxy reward at a checkpoint comes from the x0 preview of the
 * model output of the step just taken (step checkpoints[i]-1), which the sampler already computed, so a preview
 * costs no model forward. A checkpoint at T prunes after full sampling (static OVF): every trajectory paid all
 * T steps and the final samples are scored.
 *
 * <p>Example: {@code 48 -> 24 @5 -> 12 @7 of 10 steps} runs steps 0-4 on 48 rows, 5-6 on 24 and 7-9 on 12:
 * 5*48 + 2*24 + 3*12 = 324 row-forwards against 480 without pruning (and 240 for Flow-GRPO's G = 24).
 *
 * @param initialGroupSize G_max, the number of trajectories sampled per prompt at step 0 (&gt;= 2)
 * @param checkpoints      steps already taken at each prune, strictly increasing, each in (0, T]
 * @param survivors        group size after each prune, strictly decreasing, below G_max, the last &gt;= 2
 * @param totalSteps       T, the number of sampling steps
 * @param strategy         the {@link SubsetStrategy} config name used at the checkpoints
 */
public record PruneSchedule(int initialGroupSize, int[] checkpoints, int[] survivors, int totalSteps, String strategy) {

    public PruneSchedule {
        if (initialGroupSize < 2) {
            throw new IllegalArgumentException("initialGroupSize must be >= 2, got " + initialGroupSize);
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        }
        if (checkpoints == null || survivors == null) {
            throw new IllegalArgumentException("checkpoints and survivors must not be null, got checkpoints="
                    + Arrays.toString(checkpoints) + ", survivors=" + Arrays.toString(survivors));
        }
        if (checkpoints.length != survivors.length) {
            throw new IllegalArgumentException("checkpoints and survivors must have the same length, got "
                    + Arrays.toString(checkpoints) + " (" + checkpoints.length + ") and "
                    + Arrays.toString(survivors) + " (" + survivors.length + ")");
        }
        checkpoints = checkpoints.clone();
        survivors = survivors.clone();
        int prevStep = 0;
        int prevSize = initialGroupSize;
        for (int i = 0; i < checkpoints.length; i++) {
            if (checkpoints[i] <= prevStep || checkpoints[i] > totalSteps) {
                throw new IllegalArgumentException("checkpoints[" + i + "] must be in (" + prevStep + ", "
                        + totalSteps + "] (strictly increasing, at most totalSteps), got " + checkpoints[i]
                        + " in " + Arrays.toString(checkpoints));
            }
            if (survivors[i] >= prevSize) {
                throw new IllegalArgumentException("survivors[" + i + "] must be < " + prevSize
                        + (i == 0 ? " (initialGroupSize)" : " (survivors[" + (i - 1) + "])") + ", got "
                        + survivors[i] + " in " + Arrays.toString(survivors));
            }
            prevStep = checkpoints[i];
            prevSize = survivors[i];
        }
        if (prevSize < 2) {
            throw new IllegalArgumentException("the final group size must be >= 2 (advantages need a group), got "
                    + prevSize + " in survivors " + Arrays.toString(survivors));
        }
        if (strategy == null || !SubsetStrategy.names().contains(strategy)) {
            throw new IllegalArgumentException("strategy must be one of " + SubsetStrategy.names() + ", got "
                    + (strategy == null ? "null" : "'" + strategy + "'"));
        }
        if (strategy.equals(SubsetStrategy.NONE.name()) && checkpoints.length > 0) {
            throw new IllegalArgumentException("strategy 'none' cannot prune, but checkpoints is "
                    + Arrays.toString(checkpoints));
        }
    }

    private static final Map<String, Supplier<PruneSchedule>> PRESETS = presets();

    private static Map<String, Supplier<PruneSchedule>> presets() {
        Map<String, Supplier<PruneSchedule>> m = new LinkedHashMap<>();
        // Pro-GRPO Standard, SD3.5-M, T = 10 training steps.
        m.put("flow-standard", () -> new PruneSchedule(48, new int[] {5, 7}, new int[] {24, 12}, 10, "ovf"));
        // Pro-GRPO Flash: the paper does not give Flash's checkpoints; the Standard ones are assumed [open].
        m.put("flow-flash", () -> new PruneSchedule(24, new int[] {5, 7}, new int[] {16, 12}, 10, "ovf"));
        // Pro-GRPO on SD-v1.4 with DDIM, T = 50.
        m.put("diffusion", () -> new PruneSchedule(48, new int[] {30, 40}, new int[] {32, 8}, 50, "ovf"));
        m.put("flow-baseline", () -> none(24, 10));       // Flow-GRPO G = 24
        m.put("diffusion-baseline", () -> none(16, 50));  // DanceGRPO G = 16
        return m;
    }

    /** The names {@link #preset} accepts. */
    public static List<String> presetNames() {
        return List.copyOf(PRESETS.keySet());
    }

    /**
     * A named schedule from the paper: {@code flow-standard} 48 -> 24 -> 12 at {5, 7} of 10, {@code flow-flash}
     * 24 -> 16 -> 12 at {5, 7} of 10, {@code diffusion} 48 -> 32 -> 8 at {30, 40} of 50, {@code flow-baseline}
     * G = 24 of 10 and {@code diffusion-baseline} G = 16 of 50 (no pruning).
     *
     * @throws IllegalArgumentException for an unknown name; the message lists the known names
     */
    public static PruneSchedule preset(String name) {
        Supplier<PruneSchedule> s = PRESETS.get(name);
        if (s == null) {
            throw new IllegalArgumentException("unknown prune schedule preset '" + name + "', expected one of "
                    + presetNames());
        }
        return s.get();
    }

    private static final Pattern SPEC = Pattern.compile("(\\d+)((?:>\\d+@\\d+)+)");
    private static final Pattern STAGE = Pattern.compile(">(\\d+)@(\\d+)");
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]*");

    /** Whether {@code text} is written as a spec ({@code G_max>size@step...}, starting with a digit) and not a name. */
    public static boolean isSpec(String text) {
        return text != null && !text.isEmpty() && Character.isDigit(text.charAt(0));
    }

    /**
     * Reads a schedule as written in a config, the one reader of its grammar: a spec {@code G_max>size@step>...}
     * such as {@code 48>24@5>12@7} (G_max, then each prune's group size and the number of steps taken when it
     * happens; strategy {@code ovf}) over {@code totalSteps} steps, or a {@link #preset} name, which names its own
     * steps and checkpoints (compare them with the sampler's).
     *
     * @param totalSteps     T of a spec
     * @param lastCheckpoint the latest step a spec's checkpoint may name: T allows static pruning after sampling,
     *                       T - 1 keeps every prune within sampling
     * @throws IllegalArgumentException naming the part of the text that is wrong, what was expected and what came
     */
    public static PruneSchedule parse(String text, int totalSteps, int lastCheckpoint) {
        if (totalSteps < 1 || lastCheckpoint < 0 || lastCheckpoint > totalSteps) {
            throw new IllegalArgumentException("a prune schedule needs totalSteps >= 1 and lastCheckpoint in [0, totalSteps], got "
                    + totalSteps + " and " + lastCheckpoint);
        }
        if (text == null) throw new IllegalArgumentException("prune schedule must be a spec like 48>24@5>12@7 or a preset name, got null");
        if (!isSpec(text)) {
            if (!NAME.matcher(text).matches()) {
                throw new IllegalArgumentException("prune schedule must be a spec like 48>24@5>12@7 or a lower-case preset name ("
                        + String.join(", ", presetNames()) + "), got '" + text + "'");
            }
            if (!PRESETS.containsKey(text)) {
                throw new IllegalArgumentException("prune schedule '" + text + "' is neither a spec like 48>24@5>12@7 nor a preset ("
                        + String.join(", ", presetNames()) + ")");
            }
            return preset(text);
        }
        Matcher m = SPEC.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("prune schedule spec must look like G_max>size@step>..., e.g. 48>24@5>12@7, got '" + text + "'");
        }
        int first = specInt(m.group(1), text, "G_max");
        List<Integer> sizes = new ArrayList<>();
        List<Integer> steps = new ArrayList<>();
        int prevSize = first;
        int prevStep = 0;
        Matcher st = STAGE.matcher(m.group(2));
        while (st.find()) {
            int size = specInt(st.group(1), text, "a size");
            int step = specInt(st.group(2), text, "a checkpoint step");
            if (size >= prevSize || size < 2) {
                throw new IllegalArgumentException("prune schedule '" + text + "': size " + size + " must be in [2, " + (prevSize - 1)
                        + "] (sizes shrink, and a group needs two samples)");
            }
            if (step <= prevStep || step > lastCheckpoint) {
                throw new IllegalArgumentException("prune schedule '" + text + "': checkpoint step " + step
                        + (prevStep + 1 <= lastCheckpoint ? " must be in [" + (prevStep + 1) + ", " + lastCheckpoint + "]"
                        : " has no room: it must come after step " + prevStep + " and at most at step " + lastCheckpoint)
                        + " (increasing, " + (lastCheckpoint < totalSteps ? "before the last of " : "at most ") + totalSteps + " steps)");
            }
            sizes.add(size);
            steps.add(step);
            prevSize = size;
            prevStep = step;
        }
        try {
            return new PruneSchedule(first, steps.stream().mapToInt(Integer::intValue).toArray(),
                    sizes.stream().mapToInt(Integer::intValue).toArray(), totalSteps, SubsetStrategy.OVF.name());
        } catch (IllegalArgumentException e) {
            // the checks above mirror the constructor's, so this is a rule added there and not here yet
            throw new IllegalArgumentException("prune schedule '" + text + "': " + e.getMessage(), e);
        }
    }

    private static int specInt(String digits, String text, String what) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("prune schedule '" + text + "': " + what + " of " + digits
                    + " is out of range (expected an int, at most " + Integer.MAX_VALUE + ")");
        }
    }

    /** A plain GRPO group of G trajectories over T steps, never pruned. */
    public static PruneSchedule none(int groupSize, int totalSteps) {
        return new PruneSchedule(groupSize, new int[0], new int[0], totalSteps, SubsetStrategy.NONE.name());
    }

    /** Static OVF: sample all G trajectories to the end, then keep the maximal-variance k (checkpoint at T). */
    public static PruneSchedule staticOvf(int groupSize, int k, int totalSteps) {
        return new PruneSchedule(groupSize, new int[] {totalSteps}, new int[] {k}, totalSteps,
                SubsetStrategy.OVF.name());
    }

    /** This schedule with another subset strategy at the same checkpoints (for the uniform/extremes ablations). */
    public PruneSchedule withStrategy(String otherStrategy) {
        return new PruneSchedule(initialGroupSize, checkpoints, survivors, totalSteps, otherStrategy);
    }

    /** The strategy looked up by name. */
    public SubsetStrategy subsetStrategy() {
        return SubsetStrategy.byName(strategy);
    }

    /** A copy of the checkpoints (the record keeps its arrays private). */
    @Override
    public int[] checkpoints() {
        return checkpoints.clone();
    }

    /** A copy of the survivor counts. */
    @Override
    public int[] survivors() {
        return survivors.clone();
    }

    /** The number of prune checkpoints. */
    public int checkpointCount() {
        return checkpoints.length;
    }

    /** K, the group size that reaches the final reward and the GRPO update. */
    public int finalGroupSize() {
        return survivors.length == 0 ? initialGroupSize : survivors[survivors.length - 1];
    }

    /**
     * The number of trajectories the model forward of step {@code step} (0-based) runs on: the survivors of
     * every checkpoint c &lt;= step.
     */
    public int groupSizeAtStep(int step) {
        if (step < 0 || step >= totalSteps) {
            throw new IllegalArgumentException("step must be in [0, " + totalSteps + "), got " + step);
        }
        int size = initialGroupSize;
        for (int i = 0; i < checkpoints.length && checkpoints[i] <= step; i++) {
            size = survivors[i];
        }
        return size;
    }

    /**
     * The group size to prune to once {@code stepsTaken} steps are done, or empty when that is not a checkpoint;
     * the driver asks this after every step.
     */
    public OptionalInt pruneTo(int stepsTaken) {
        for (int i = 0; i < checkpoints.length; i++) {
            if (checkpoints[i] == stepsTaken) {
                return OptionalInt.of(survivors[i]);
            }
        }
        return OptionalInt.empty();
    }

    /**
     * Model forwards per prompt group (one row of one step counts one; classifier-free guidance doubles every
     * figure alike): the sum over steps of {@link #groupSizeAtStep}. Previews reuse the step's own output.
     */
    public long nfe() {
        long total = 0;
        int prevStep = 0;
        int size = initialGroupSize;
        for (int i = 0; i < checkpoints.length; i++) {
            total += (long) size * (checkpoints[i] - prevStep);
            prevStep = checkpoints[i];
            size = survivors[i];
        }
        return total + (long) size * (totalSteps - prevStep);
    }

    /** G_max * T: what sampling the expanded group to the end would cost. */
    public long nfeWithoutPruning() {
        return (long) initialGroupSize * totalSteps;
    }

    /** Row-steps (model forwards) saved by pruning: {@code nfeWithoutPruning() - nfe()}. */
    public long stepsSaved() {
        return nfeWithoutPruning() - nfe();
    }

    /**
     * The schedule as a config spec that {@link #parse} reads back (over the same T): {@code "48>24@5>12@7"}, or
     * {@code "24"} for a schedule without checkpoints (which parse does not take: a spec needs a prune). The
     * strategy is not part of a spec (parse gives {@code ovf}).
     */
    public String spec() {
        StringBuilder sb = new StringBuilder().append(initialGroupSize);
        for (int i = 0; i < checkpoints.length; i++) sb.append('>').append(survivors[i]).append('@').append(checkpoints[i]);
        return sb.toString();
    }

    /** For example {@code "48 -> 24 @5 -> 12 @7 of 10 steps (ovf)"} or {@code "24 of 10 steps (no pruning)"}. */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(initialGroupSize);
        for (int i = 0; i < checkpoints.length; i++) {
            sb.append(" -> ").append(survivors[i]).append(" @").append(checkpoints[i]);
        }
        sb.append(" of ").append(totalSteps).append(" steps");
        sb.append(checkpoints.length == 0 ? " (no pruning)" : " (" + strategy + ")");
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PruneSchedule p
                && initialGroupSize == p.initialGroupSize
                && totalSteps == p.totalSteps
                && Arrays.equals(checkpoints, p.checkpoints)
                && Arrays.equals(survivors, p.survivors)
                && strategy.equals(p.strategy);
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(initialGroupSize);
        h = 31 * h + Arrays.hashCode(checkpoints);
        h = 31 * h + Arrays.hashCode(survivors);
        h = 31 * h + Integer.hashCode(totalSteps);
        return 31 * h + strategy.hashCode();
    }

    @Override
    public String toString() {
        return "PruneSchedule[" + describe() + "]";
    }
}
