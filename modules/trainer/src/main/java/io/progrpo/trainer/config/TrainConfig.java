package io.progrpo.trainer.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every setting of one training run, validated on construction.
 *
 * <p>Resolution order (later wins): {@link #defaults()} &lt; {@link #preset(String) preset} &lt; JSON file &lt;
 * {@code key=value} overrides; see {@link #resolve(String, Path, List)}. All overrides are gathered first and the
 * record is built once, so a consistent set of changes (for example {@code groupSize} together with
 * {@code pruneSchedule}) never trips over an intermediate state.
 *
 * <p>Every validation failure is a {@link ConfigException} whose one-line message names the field, the expectation
 * and the value received.
 *
 * @param method            training method: {@code flow-grpo} (GRPO over the full group of G), {@code dance-grpo}
 *                          (GRPO with DanceGRPO's choices: shared initial noise, gradient through the unconditional
 *                          branch), {@code uniform-subsample} (train a uniform random k of G), {@code static-ovf}
 *                          (train the Optimal Variance Filter's k of G, chosen after sampling), {@code pro-grpo} and
 *                          {@code pro-grpo-flash} (expand-and-prune: OVF on proxy rewards at the checkpoints of
 *                          {@code pruneSchedule} during sampling)
 * @param seed              master seed of the run (initial noise, prompt order, uniform subsets)
 * @param epochs            number of epochs (one epoch = sample, reward, train over {@code groupsPerEpoch} groups)
 * @param groupsPerEpoch    prompt groups sampled per epoch
 * @param groupSize         G: the group size sampled per prompt; for {@code pro-grpo*} this is G_max, the expanded
 *                          group at step 0, and must equal the first size of {@code pruneSchedule}
 * @param subsetSize        k: trajectories kept per group by {@code static-ovf} and {@code uniform-subsample}
 *                          (ignored by the other methods); at most {@code groupSize}
 * @param pruneSchedule     the expand-and-prune funnel for {@code pro-grpo*}: a spec {@code G_max>size@step>...}
 *                          such as {@code 48>24@5>12@7} (step = number of sampler steps already taken) or a preset
 *                          name known to {@code io.progrpo.pruning.PruneSchedule}; {@code none} for the other methods
 * @param samplerSteps      T: stochastic sampler steps per training trajectory
 * @param evalSteps         deterministic (ODE / DDIM eta = 0) steps per evaluation sample
 * @param noiseLevel        a: the flow SDE noise level, std_t = a * sqrt(sigma / (1 - sigma))
 * @param shift             timestep shift k of the sigma grid, shift(s) = k s / (1 + (k - 1) s); 1.0 = no shift
 * @param eta               DDIM eta of the diffusion sampler (1.0 = DDPM-like noise, 0 = deterministic)
 * @param guidanceScale     classifier-free guidance weight w, v = v_uncond + w (v_cond - v_uncond); 1.0 = no CFG
 *                          (one model evaluation per step instead of two)
 * @param detachUncond      at training time, recompute the unconditional CFG branch without gradient (Flow-GRPO)
 *                          instead of with gradient (DanceGRPO)
 * @param trainStepFraction fraction of the T - 1 stochastic steps whose transitions are trained, in (0, 1];
 *                          1.0 trains the first T - 1 steps (see {@link DerivedTotals#trainedStepsPerTrajectory()})
 * @param clipRange         eps of the PPO ratio clip, clip(ratio, 1 - eps, 1 + eps)
 * @param advClip           advantages are clipped to [-advClip, +advClip]
 * @param stdMode           std in the advantage normalisation: {@code group} (per prompt group) or {@code global}
 *                          (over every reward of the epoch, Flow-GRPO's option)
 * @param beta              weight of the KL term against the reference model; 0 = no reference model
 * @param lr                AdamW learning rate
 * @param beta1             AdamW first-moment decay
 * @param beta2             AdamW second-moment decay
 * @param weightDecay       AdamW decoupled weight decay
 * @param gradClip          max global gradient norm; 0 disables clipping
 * @param microBatch        rows (trajectory transitions) per backward pass; gradients accumulate over the epoch's
 *                          batch, so this trades memory for nothing but time
 * @param reward            reward spec: a name ({@code alignment}) or weighted names
 *                          ({@code alignment:1.0,jpeg_compressibility:0.1})
 * @param rewardAggregation how several rewards combine: {@code weighted-sum} (one advantage from the weighted reward)
 *                          or {@code advantage-sum} (weighted sum of per-reward advantages)
 * @param evalEvery         evaluate every this many epochs; 0 = only after the last epoch
 * @param evalPrompts       number of held-out prompts evaluated; 0 = all of them
 * @param checkpointEvery   write a full checkpoint every this many epochs and after the last one; 0 = never
 * @param outDir            run directory (metrics, checkpoints, plots, report)
 * @param device            {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param modelDtype        parameter dtype of the generator: {@code float32} or {@code bfloat16} (sampler steps are
 *                          always computed in float32)
 * @param imageSize         side of the square images of the demo world, in pixels
 * @param modelWidth        base channel count of the demo world's velocity model
 * @param pretrainSteps     optimizer steps of flow-matching pretraining for the base model; 0 = load or skip
 * @param asyncReward       score rewards on a separate thread while the next group samples
 */
public record TrainConfig(
        String method,
        long seed,
        int epochs,
        int groupsPerEpoch,
        int groupSize,
        int subsetSize,
        String pruneSchedule,
        int samplerSteps,
        int evalSteps,
        double noiseLevel,
        double shift,
        double eta,
        double guidanceScale,
        boolean detachUncond,
        double trainStepFraction,
        double clipRange,
        double advClip,
        String stdMode,
        double beta,
        double lr,
        double beta1,
        double beta2,
        double weightDecay,
        double gradClip,
        int microBatch,
        String reward,
        String rewardAggregation,
        int evalEvery,
        int evalPrompts,
        int checkpointEvery,
        String outDir,
        String device,
        String modelDtype,
        int imageSize,
        int modelWidth,
        int pretrainSteps,
        boolean asyncReward) {

    /** The training methods, in the order reports list them. */
    public static final List<String> METHODS = List.of(
            "flow-grpo", "dance-grpo", "uniform-subsample", "static-ovf", "pro-grpo", "pro-grpo-flash");

    /** Methods that prune during sampling and therefore need a {@code pruneSchedule}. */
    public static final Set<String> PRUNING_METHODS = Set.of("pro-grpo", "pro-grpo-flash");

    /** Methods that train a k-subset of the sampled group, chosen after sampling. */
    public static final Set<String> SUBSET_METHODS = Set.of("uniform-subsample", "static-ovf");

    /** Overlays: presets that adjust budget or the sampler setting without choosing a method. */
    public static final List<String> OVERLAYS = List.of("paper-flow", "demo", "quick");

    /** The {@code pruneSchedule} value of methods that do not prune. */
    public static final String NO_PRUNING = "none";

    private static final Pattern SCHEDULE_SPEC = Pattern.compile("(\\d+)((?:>\\d+@\\d+)+)");
    private static final Pattern SCHEDULE_STAGE = Pattern.compile(">(\\d+)@(\\d+)");
    private static final Pattern SCHEDULE_NAME = Pattern.compile("[a-z][a-z0-9_-]*");
    private static final Pattern REWARD_TERM = Pattern.compile("([a-z][a-z0-9_-]*)(?::([^,:]+))?");
    private static final Pattern DEVICE = Pattern.compile("cpu|cuda(?::\\d+)?");

    private static final List<RecordComponent> COMPONENTS = List.of(TrainConfig.class.getRecordComponents());
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Validates every field; see the record's parameter documentation for the meaning of each. */
    public TrainConfig {
        oneOf("method", method, METHODS);
        positive("epochs", epochs);
        positive("groupsPerEpoch", groupsPerEpoch);
        atLeast("groupSize", groupSize, 2, "a group needs two samples for a reward std");
        atLeast("subsetSize", subsetSize, 2, "a subset needs two samples for a reward std");
        if (SUBSET_METHODS.contains(method) && subsetSize > groupSize) {
            throw new ConfigException("subsetSize", "subsetSize must be <= groupSize (" + groupSize
                    + ") for method " + method + ", got " + subsetSize);
        }
        atLeast("samplerSteps", samplerSteps, 2, "one stochastic step to train and one to finish");
        positive("evalSteps", evalSteps);
        nonNull("pruneSchedule", pruneSchedule);
        validateSchedule(method, pruneSchedule, groupSize, samplerSteps);
        positiveFinite("noiseLevel", noiseLevel);
        positiveFinite("shift", shift);
        nonNegativeFinite("eta", eta);
        nonNegativeFinite("guidanceScale", guidanceScale);
        if (!(trainStepFraction > 0 && trainStepFraction <= 1)) {
            throw new ConfigException("trainStepFraction",
                    "trainStepFraction must be in (0, 1], got " + trainStepFraction);
        }
        if (!(clipRange > 0 && clipRange < 1)) {
            throw new ConfigException("clipRange", "clipRange must be in (0, 1), got " + clipRange);
        }
        positiveFinite("advClip", advClip);
        oneOf("stdMode", stdMode, List.of("group", "global"));
        nonNegativeFinite("beta", beta);
        positiveFinite("lr", lr);
        unitInterval("beta1", beta1);
        unitInterval("beta2", beta2);
        nonNegativeFinite("weightDecay", weightDecay);
        nonNegativeFinite("gradClip", gradClip);
        positive("microBatch", microBatch);
        parseRewardSpec(reward);
        oneOf("rewardAggregation", rewardAggregation, List.of("weighted-sum", "advantage-sum"));
        atLeast("evalEvery", evalEvery, 0, "0 = only after the last epoch");
        atLeast("evalPrompts", evalPrompts, 0, "0 = all held-out prompts");
        atLeast("checkpointEvery", checkpointEvery, 0, "0 = no checkpoints");
        nonNull("outDir", outDir);
        if (outDir.isBlank()) {
            throw new ConfigException("outDir", "outDir must be a directory path, got an empty string");
        }
        nonNull("device", device);
        if (!DEVICE.matcher(device).matches()) {
            throw new ConfigException("device", "device must be cpu, cuda or cuda:N, got '" + device + "'");
        }
        oneOf("modelDtype", modelDtype, List.of("float32", "bfloat16"));
        atLeast("imageSize", imageSize, 4, "the demo model downsamples twice");
        atLeast("modelWidth", modelWidth, 4, "group norm needs channels to group");
        atLeast("pretrainSteps", pretrainSteps, 0, "0 = load an existing base model or skip pretraining");
    }

    // ---------------------------------------------------------------- defaults and presets

    /**
     * The base configuration: Flow-GRPO on the demo world (16x16 images, a 32-channel model), the paper's sampler
     * settings (T = 10, a = 0.7, w = 4.5) and optimizer defaults (AdamW 3e-4, betas 0.9/0.999, weight decay 1e-4,
     * grad clip 1.0), no KL term.
     */
    public static TrainConfig defaults() {
        return new TrainConfig(
                "flow-grpo", 42L, 50, 8, 24, 12, NO_PRUNING, 10, 20,
                0.7, 1.0, 1.0, 4.5, true, 1.0, 1e-4, 5.0, "group", 0.0,
                3e-4, 0.9, 0.999, 1e-4, 1.0, 24,
                "alignment", "weighted-sum", 5, 0, 10, "runs/flow-grpo", "cpu", "float32",
                16, 32, 400, false);
    }

    private static final Map<String, Map<String, Object>> PRESETS = buildPresets();

    private static Map<String, Map<String, Object>> buildPresets() {
        Map<String, Map<String, Object>> p = new LinkedHashMap<>();
        p.put("flow-grpo", ordered("method", "flow-grpo", "groupSize", 24, "pruneSchedule", NO_PRUNING,
                "outDir", "runs/flow-grpo"));
        // DanceGRPO on the demo world: 20 steps instead of the paper's 50 (the demo model is small), G = 16, no KL,
        // gradient through the unconditional branch.
        p.put("dance-grpo", ordered("method", "dance-grpo", "groupSize", 16, "samplerSteps", 20, "eta", 1.0,
                "beta", 0.0, "detachUncond", false, "pruneSchedule", NO_PRUNING, "outDir", "runs/dance-grpo"));
        p.put("uniform-subsample", ordered("method", "uniform-subsample", "groupSize", 24, "subsetSize", 12,
                "pruneSchedule", NO_PRUNING, "outDir", "runs/uniform-subsample"));
        p.put("static-ovf", ordered("method", "static-ovf", "groupSize", 24, "subsetSize", 12,
                "pruneSchedule", NO_PRUNING, "outDir", "runs/static-ovf"));
        p.put("pro-grpo", ordered("method", "pro-grpo", "groupSize", 48, "pruneSchedule", "48>24@5>12@7",
                "outDir", "runs/pro-grpo"));
        p.put("pro-grpo-flash", ordered("method", "pro-grpo-flash", "groupSize", 24,
                "pruneSchedule", "24>16@5>12@7", "outDir", "runs/pro-grpo-flash"));
        // Overlays: change budget or sampler setting, keep the method.
        p.put("paper-flow", ordered("samplerSteps", 10, "evalSteps", 40, "shift", 3.0, "beta", 0.01));
        // microBatch 108 = a pruned group's 12 survivors x 9 trained steps in one forward (flow-grpo's 24 x 9 in two):
        // the small demo model costs per call more than per row (docs/benchmarks.md, "Pipeline side by side")
        p.put("demo", ordered("epochs", 12, "groupsPerEpoch", 8, "evalEvery", 3, "evalPrompts", 24, "checkpointEvery", 6,
                "pretrainSteps", 120, "evalSteps", 10, "microBatch", 108));
        p.put("quick", ordered("epochs", 1, "groupsPerEpoch", 1, "evalEvery", 1, "evalPrompts", 4,
                "checkpointEvery", 1, "pretrainSteps", 30, "modelWidth", 16, "evalSteps", 6));
        return Collections.unmodifiableMap(p);
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** @return every preset name: the methods first, then the overlays */
    public static List<String> listPresets() {
        return List.copyOf(PRESETS.keySet());
    }

    /**
     * The fields a preset changes relative to what it is applied over, in a stable order.
     *
     * @throws ConfigException naming the preset when it does not exist
     */
    public static Map<String, Object> presetDifferences(String name) {
        Map<String, Object> diff = PRESETS.get(name);
        if (diff == null) {
            throw new ConfigException("preset", "unknown preset '" + name + "'; valid presets: "
                    + String.join(", ", PRESETS.keySet()));
        }
        return diff;
    }

    /**
     * A named preset over {@link #defaults()}. {@code spec} is a preset name or several joined by {@code +}, applied
     * left to right, e.g. {@code pro-grpo+paper-flow+quick}.
     *
     * @throws ConfigException naming the unknown preset
     */
    public static TrainConfig preset(String spec) {
        return defaults().with(presetOverrides(spec), "preset " + spec);
    }

    private static Map<String, Object> presetOverrides(String spec) {
        Objects.requireNonNull(spec, "preset");
        Map<String, Object> merged = new LinkedHashMap<>();
        for (String name : spec.split("\\+")) {
            merged.putAll(presetDifferences(name.trim()));
        }
        return merged;
    }

    // ---------------------------------------------------------------- overrides

    /**
     * The full resolution: preset &lt; file &lt; {@code key=value} strings, validated once at the end.
     *
     * @param presetSpec preset name(s) joined by {@code +}; null = {@link #defaults()}
     * @param jsonFile   JSON object of overrides; null = none
     * @param sets       {@code key=value} overrides, in order (a later one wins); null = none
     * @throws ConfigException naming the field, the file or the argument to fix
     */
    public static TrainConfig resolve(String presetSpec, Path jsonFile, List<String> sets) {
        Map<String, Object> values = defaults().toMap();
        if (presetSpec != null) {
            values.putAll(presetOverrides(presetSpec));
        }
        if (jsonFile != null) {
            putAllTyped(values, readJsonFile(jsonFile), "file " + jsonFile);
        }
        if (sets != null) {
            putAllTyped(values, parseSets(sets), "--set");
        }
        return fromMap(values);
    }

    /**
     * This configuration with some fields replaced. Values may be typed (Integer, Double, ...) or strings, which are
     * parsed according to the field's type.
     *
     * @param source where the overrides come from, for error messages ({@code --set}, a file name)
     */
    public TrainConfig with(Map<String, ?> overrides, String source) {
        Map<String, Object> values = toMap();
        putAllTyped(values, overrides, source);
        return fromMap(values);
    }

    /** This configuration with {@code key=value} overrides applied, as from the CLI's {@code --set}. */
    public TrainConfig withSets(List<String> sets) {
        return with(parseSets(sets), "--set");
    }

    /** This configuration with the fields of a JSON object applied; see {@link #resolve}. */
    public TrainConfig withJson(String json, String source) {
        Map<String, Object> values = toMap();
        putAllTyped(values, parseJsonObject(json, source), source);
        return fromMap(values);
    }

    /** Parses {@link #toJson()} output (or any JSON object of fields) over {@link #defaults()}. */
    public static TrainConfig fromJson(String json) {
        return defaults().withJson(json, "json");
    }

    /** Reads a JSON object of fields (as written by {@link #toJson()}) over {@link #defaults()}. */
    public static TrainConfig fromJsonFile(Path file) {
        Map<String, Object> values = defaults().toMap();
        putAllTyped(values, readJsonFile(file), "file " + file);
        return fromMap(values);
    }

    /** Every field, in declaration order, pretty-printed as one JSON object. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(toMap());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize config: " + e.getMessage(), e);
        }
    }

    /** @return field name to value (boxed), in declaration order; a fresh mutable map */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent c : COMPONENTS) {
            try {
                m.put(c.getName(), c.getAccessor().invoke(this));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read config field " + c.getName(), e);
            }
        }
        return m;
    }

    /** @return the field names, in declaration order */
    public static List<String> fieldNames() {
        return COMPONENTS.stream().map(RecordComponent::getName).toList();
    }

    private static Map<String, Object> parseSets(List<String> sets) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s == null ? -1 : s.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set", "--set expects key=value, got '" + s + "'");
            }
            m.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        return m;
    }

    private static Map<String, Object> readJsonFile(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("file " + file, "cannot read config file " + file + ": " + e, e);
        }
        return parseJsonObject(text, "file " + file);
    }

    private static Map<String, Object> parseJsonObject(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, "malformed JSON in " + source + ": "
                    + e.getOriginalMessage().replace('\n', ' ')
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr()), e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(source, source + " must hold a JSON object of config fields, got "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(Locale.ROOT)));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    private static void putAllTyped(Map<String, Object> values, Map<String, ?> overrides, String source) {
        for (Map.Entry<String, ?> e : overrides.entrySet()) {
            RecordComponent c = component(e.getKey(), source);
            values.put(c.getName(), convert(c, e.getValue(), source));
        }
    }

    private static RecordComponent component(String name, String source) {
        for (RecordComponent c : COMPONENTS) {
            if (c.getName().equals(name)) {
                return c;
            }
        }
        String hint = closestField(name);
        throw new ConfigException(name, "unknown config field '" + name + "' in " + source
                + (hint == null ? "" : " (did you mean '" + hint + "'?)")
                + "; valid fields: " + String.join(", ", fieldNames()));
    }

    /** Converts a JSON node, a string or an already typed value to the field's Java type; strict about types. */
    private static Object convert(RecordComponent c, Object raw, String source) {
        Class<?> type = c.getType();
        String name = c.getName();
        if (raw instanceof JsonNode node) {
            if (type == String.class && node.isTextual()) {
                return node.textValue();
            }
            if (type == boolean.class && node.isBoolean()) {
                return node.booleanValue();
            }
            if (type == int.class && node.isIntegralNumber() && node.canConvertToInt()) {
                return node.intValue();
            }
            if (type == long.class && node.isIntegralNumber() && node.canConvertToLong()) {
                return node.longValue();
            }
            if (type == double.class && node.isNumber()) {
                return node.doubleValue();
            }
            throw wrongType(name, type, node.toString(), source);
        }
        if (raw instanceof String s) {
            try {
                if (type == String.class) {
                    return s;
                } else if (type == int.class) {
                    return Integer.parseInt(s);
                } else if (type == long.class) {
                    return Long.parseLong(s);
                } else if (type == double.class) {
                    return Double.parseDouble(s);
                } else if (type == boolean.class) {
                    if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
                        return Boolean.parseBoolean(s);
                    }
                }
            } catch (NumberFormatException ignored) {
                // reported below with the field and the expected type
            }
            throw wrongType(name, type, "'" + s + "'", source);
        }
        Object boxed = raw;
        if (type == int.class && raw instanceof Integer
                || type == long.class && (raw instanceof Long || raw instanceof Integer)
                || type == double.class && raw instanceof Number
                || type == boolean.class && raw instanceof Boolean) {
            if (type == long.class) {
                boxed = ((Number) raw).longValue();
            } else if (type == double.class) {
                boxed = ((Number) raw).doubleValue();
            }
            return boxed;
        }
        throw wrongType(name, type, String.valueOf(raw), source);
    }

    private static ConfigException wrongType(String field, Class<?> type, String value, String source) {
        String expected = switch (type.getName()) {
            case "int" -> "an integer (int)";
            case "long" -> "an integer (long)";
            case "double" -> "a number";
            case "boolean" -> "true or false";
            default -> "a string";
        };
        return new ConfigException(field, "config field '" + field + "' in " + source + " expects " + expected
                + ", got " + value);
    }

    private static TrainConfig fromMap(Map<String, Object> values) {
        Object[] args = new Object[COMPONENTS.size()];
        Class<?>[] types = new Class<?>[COMPONENTS.size()];
        for (int i = 0; i < args.length; i++) {
            RecordComponent c = COMPONENTS.get(i);
            types[i] = c.getType();
            args[i] = values.get(c.getName());
        }
        try {
            Constructor<TrainConfig> ctor = TrainConfig.class.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build TrainConfig: " + e, e);
        }
    }

    private static String closestField(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String f : fieldNames()) {
            int d = editDistance(name.toLowerCase(Locale.ROOT), f.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = f;
            }
        }
        return bestDistance <= Math.max(2, name.length() / 3) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    // ---------------------------------------------------------------- derived values

    /** @return true when classifier-free guidance is on (w != 1), which doubles the model evaluations per step */
    public boolean usesCfg() {
        return guidanceScale != 1.0;
    }

    /** @return true for the expand-and-prune methods */
    public boolean prunes() {
        return PRUNING_METHODS.contains(method);
    }

    /**
     * The group size that reaches training: k for the subset methods, the last funnel size for a pruning spec,
     * G otherwise.
     *
     * @throws IllegalStateException when the schedule is a preset name only {@code PruneSchedule} can resolve
     */
    public int trainedGroupSize() {
        if (SUBSET_METHODS.contains(method)) {
            return subsetSize;
        }
        if (!prunes()) {
            return groupSize;
        }
        int[] sizes = scheduleSizes(pruneSchedule);
        if (sizes == null) {
            throw new IllegalStateException("pruneSchedule '" + pruneSchedule + "' is a name; resolve it with "
                    + "io.progrpo.pruning.PruneSchedule and call derivedTotals(finalGroupSize)");
        }
        return sizes[sizes.length - 1];
    }

    /**
     * Number of leading sampler steps whose transitions are trained:
     * max(1, floor(trainStepFraction * (T - 1))). The last step lands on sigma = 0, so T - 1 steps are stochastic
     * policy steps worth training (the spec's default {@code trainSteps = T - 1}).
     */
    public int trainedStepsPerTrajectory() {
        return Math.max(1, (int) Math.floor(trainStepFraction * (samplerSteps - 1) + 1e-9));
    }

    /** The totals of one epoch, for the schedule's own final group size; see {@link #trainedGroupSize()}. */
    public DerivedTotals derivedTotals() {
        return derivedTotals(trainedGroupSize());
    }

    /** The totals of one epoch when {@code finalGroupSize} trajectories per group reach training. */
    public DerivedTotals derivedTotals(int finalGroupSize) {
        int cfg = usesCfg() ? 2 : 1;
        long sampled = (long) groupSize * groupsPerEpoch;
        long trained = (long) finalGroupSize * groupsPerEpoch;
        int steps = trainedStepsPerTrajectory();
        long transitions = trained * steps;
        return new DerivedTotals(groupSize, finalGroupSize, sampled, trained, steps, transitions,
                (transitions + microBatch - 1) / microBatch,
                (long) groupSize * samplerSteps * groupsPerEpoch * cfg, cfg);
    }

    /**
     * A printable summary: every field (marked {@code *} where it differs from {@link #defaults()}), then the
     * per-epoch totals. For pruning methods the NFE shown is the unpruned upper bound; the trainer reports the
     * pruned count it actually spends.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        Map<String, Object> base = defaults().toMap();
        int width = fieldNames().stream().mapToInt(String::length).max().orElse(10);
        sb.append("configuration (* = differs from defaults)\n");
        toMap().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-" + width + "s %s %s%n", k,
                Objects.equals(base.get(k), v) ? " " : "*", v)));
        DerivedTotals t;
        try {
            t = derivedTotals();
        } catch (IllegalStateException e) {
            sb.append("per-epoch totals: unavailable until the schedule '").append(pruneSchedule)
                    .append("' is resolved\n");
            return sb.toString();
        }
        sb.append("per-epoch totals\n");
        t.asRows().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-36s %,d%n", k, v)));
        return sb.toString();
    }

    // ---------------------------------------------------------------- field checks

    /**
     * Parses a reward spec such as {@code alignment} or {@code alignment:1.0,jpeg_compressibility:0.1} into
     * name to weight (weight 1.0 when omitted), in order.
     *
     * @throws ConfigException naming {@code reward} and the bad term
     */
    public static Map<String, Double> parseRewardSpec(String spec) {
        nonNull("reward", spec);
        Map<String, Double> terms = new LinkedHashMap<>();
        if (spec.isBlank()) {
            throw new ConfigException("reward", "reward must name at least one reward, got an empty string");
        }
        for (String term : spec.split(",", -1)) {
            Matcher m = REWARD_TERM.matcher(term.trim());
            if (!m.matches()) {
                throw new ConfigException("reward", "reward term '" + term + "' in '" + spec
                        + "' must be name or name:weight (lower-case name)");
            }
            double w = 1.0;
            if (m.group(2) != null) {
                try {
                    w = Double.parseDouble(m.group(2));
                } catch (NumberFormatException e) {
                    w = Double.NaN;
                }
                if (!Double.isFinite(w)) {
                    throw new ConfigException("reward", "reward weight of '" + m.group(1) + "' in '" + spec
                            + "' must be a finite number, got '" + m.group(2) + "'");
                }
            }
            if (terms.put(m.group(1), w) != null) {
                throw new ConfigException("reward", "reward '" + m.group(1) + "' appears twice in '" + spec + "'");
            }
        }
        return Collections.unmodifiableMap(terms);
    }

    /** @return the funnel sizes of a schedule spec ({@code 48>24@5>12@7} -> 48, 24, 12), or null for a name */
    static int[] scheduleSizes(String schedule) {
        Matcher m = SCHEDULE_SPEC.matcher(schedule);
        if (!m.matches()) {
            return null;
        }
        List<Integer> sizes = new ArrayList<>();
        sizes.add(Integer.parseInt(m.group(1)));
        Matcher s = SCHEDULE_STAGE.matcher(m.group(2));
        while (s.find()) {
            sizes.add(Integer.parseInt(s.group(1)));
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void validateSchedule(String method, String schedule, int groupSize, int samplerSteps) {
        boolean none = schedule.isBlank() || schedule.equals(NO_PRUNING);
        if (!PRUNING_METHODS.contains(method)) {
            if (!none) {
                throw new ConfigException("pruneSchedule", "pruneSchedule must be '" + NO_PRUNING
                        + "' for method " + method + " (only " + String.join(", ", new TreeSet<>(PRUNING_METHODS))
                        + " prune), got '" + schedule + "'");
            }
            return;
        }
        if (none) {
            throw new ConfigException("pruneSchedule", "method " + method
                    + " needs a pruneSchedule such as 48>24@5>12@7, got '" + schedule + "'");
        }
        if (!Character.isDigit(schedule.charAt(0))) {
            if (!SCHEDULE_NAME.matcher(schedule).matches()) {
                throw new ConfigException("pruneSchedule", "pruneSchedule must be a spec like 48>24@5>12@7 or a "
                        + "lower-case preset name, got '" + schedule + "'");
            }
            return; // a named schedule: io.progrpo.pruning.PruneSchedule resolves and checks it
        }
        Matcher m = SCHEDULE_SPEC.matcher(schedule);
        if (!m.matches()) {
            throw new ConfigException("pruneSchedule", "pruneSchedule spec must look like G_max>size@step>...,"
                    + " e.g. 48>24@5>12@7, got '" + schedule + "'");
        }
        int first = Integer.parseInt(m.group(1));
        if (first != groupSize) {
            throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "' starts at G_max = " + first
                    + " but groupSize is " + groupSize + "; they must be equal");
        }
        int prevSize = first;
        int prevStep = 0;
        Matcher s = SCHEDULE_STAGE.matcher(m.group(2));
        while (s.find()) {
            int size = Integer.parseInt(s.group(1));
            int step = Integer.parseInt(s.group(2));
            if (size >= prevSize || size < 2) {
                throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "': size " + size
                        + " must be in [2, " + (prevSize - 1) + "] (sizes shrink, and a group needs two samples)");
            }
            if (step <= prevStep || step >= samplerSteps) {
                throw new ConfigException("pruneSchedule", "pruneSchedule '" + schedule + "': checkpoint step "
                        + step + " must be in [" + (prevStep + 1) + ", " + (samplerSteps - 1)
                        + "] (increasing, before the last of samplerSteps = " + samplerSteps + ")");
            }
            prevSize = size;
            prevStep = step;
        }
    }

    private static void nonNull(String field, Object v) {
        if (v == null) {
            throw new ConfigException(field, field + " must be set, got null");
        }
    }

    private static void oneOf(String field, String v, List<String> allowed) {
        if (v == null || !allowed.contains(v)) {
            throw new ConfigException(field, field + " must be one of " + String.join(", ", allowed)
                    + ", got " + (v == null ? "null" : "'" + v + "'"));
        }
    }

    private static void positive(String field, int v) {
        if (v < 1) {
            throw new ConfigException(field, field + " must be >= 1, got " + v);
        }
    }

    private static void atLeast(String field, int v, int min, String why) {
        if (v < min) {
            throw new ConfigException(field, field + " must be >= " + min + " (" + why + "), got " + v);
        }
    }

    private static void positiveFinite(String field, double v) {
        if (!(v > 0 && Double.isFinite(v))) {
            throw new ConfigException(field, field + " must be a finite number > 0, got " + v);
        }
    }

    private static void nonNegativeFinite(String field, double v) {
        if (!(v >= 0 && Double.isFinite(v))) {
            throw new ConfigException(field, field + " must be a finite number >= 0, got " + v);
        }
    }

    private static void unitInterval(String field, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new ConfigException(field, field + " must be in [0, 1), got " + v);
        }
    }

    @Override
    public String toString() {
        return "TrainConfig" + toMap();
    }
}
