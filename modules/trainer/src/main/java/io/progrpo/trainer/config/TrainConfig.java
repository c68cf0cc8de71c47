package io.progrpo.trainer.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.progrpo.pruning.PruneSchedule;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting of one training run, validated on construction.
 *
 * <p>Resolution order (later wins): {@link #defaults()} &lt; {@link #preset(String) preset} &lt; JSON file &lt;
 * {@code key=value} overrides; see {@link #resolve(String, Path, List)}. All overrides are gathered first and the
 * record is built once, so a consistent set of changes (for example {@code groupSize} together with
 * {@code pruneSchedule}) never trips over an intermediate state.
 *
 * <p>Every validation failure is a {@link ConfigException} whose one-line message names the field, the expectation
 * and the value received. Values from outside are read strictly (see {@link #resolve}): one JSON object per file, each
 * field once, integers that fit their type, plain decimal numbers. What only the job can check (reward names in the
 * registry, devices, the sampler's float32 grid, the world's prompt counts) is checked by
 * {@code io.progrpo.app.job.JobCheck} before anything is built.
 *
 * @param method            training method ({@link Method}): {@code flow-grpo} (GRPO over the full group of G), {@code dance-grpo}
 *                          (GRPO with DanceGRPO's choices: shared initial noise, gradient through the unconditional
 *                          branch), {@code uniform-subsample} (train a uniform random k of G), {@code static-ovf}
 *                          (train the Optimal Variance Filter's k of G, chosen after sampling), {@code pro-grpo} and
 *                          {@code pro-grpo-flash} (expand-and-prune: OVF on proxy rewards at the checkpoints of
 *                          {@code pruneSchedule} during sampling), {@code pro-grpo-adaptive} (expand-and-prune whose
 *                          funnel is chosen from the shadow groups' measured agreement: see {@code adaptiveThreshold})
 * @param seed              master seed of the run (initial noise, prompt order, uniform subsets)
 * @param epochs            number of epochs (one epoch = sample, reward, train over {@code groupsPerEpoch} groups)
 * @param groupsPerEpoch    prompt groups sampled per epoch
 * @param groupSize         G: the group size sampled per prompt; for {@code pro-grpo*} this is G_max, the expanded
 *                          group at step 0, and must equal the first size of {@code pruneSchedule}
 * @param subsetSize        k: trajectories kept per group by {@code static-ovf} and {@code uniform-subsample}, and
 *                          the survivors every funnel of {@code pro-grpo-adaptive} ends at (ignored by the other
 *                          methods); below {@code groupSize} for those three methods
 * @param pruneSchedule     the expand-and-prune funnel for {@code pro-grpo*}: a spec {@code G_max>size@step>...}
 *                          such as {@code 48>24@5>12@7} (step = number of sampler steps already taken) or a preset
 *                          name, read by {@code io.progrpo.pruning.PruneSchedule.parse}; {@code none} for the other
 *                          methods; for {@code pro-grpo-adaptive} the funnel of the epochs without an estimate, ending
 *                          at {@code subsetSize}
 * @param samplerSteps      T: stochastic sampler steps per training trajectory, 2 to {@link #MAX_STEPS}
 * @param evalSteps         deterministic (ODE / DDIM eta = 0) steps per evaluation sample, 1 to {@link #MAX_STEPS}
 * @param noiseLevel        a: the flow SDE noise level, std_t = a * sqrt(sigma / (1 - sigma))
 * @param shift             timestep shift k of the sigma grid, shift(s) = k s / (1 + (k - 1) s); 1.0 = no shift
 * @param eta               DDIM eta of the diffusion sampler (1.0 = DDPM-like noise, 0 = deterministic); in (0, 1] for
 *                          {@code dance-grpo} (0 leaves nothing stochastic to train, above 1 the DDIM step is undefined)
 * @param guidanceScale     classifier-free guidance weight w, v = v_uncond + w (v_cond - v_uncond); 1.0 = no CFG
 *                          (one model evaluation per step instead of two); at least 1
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
 *                          ({@code alignment:1.0,jpeg_compressibility:0.1}), read by
 *                          {@code io.progrpo.reward.MultiReward.parseWeights}, the one reward-spec grammar
 * @param rewardAggregation how several rewards combine: {@code weighted-sum} (one advantage from the weighted reward)
 *                          or {@code advantage-sum} (weighted sum of per-reward advantages)
 * @param evalEvery         evaluate every this many epochs; 0 = only after the last epoch
 * @param evalPrompts       number of held-out prompts evaluated; 0 = all of them
 * @param checkpointEvery   write a full checkpoint every this many epochs and after the last one; 0 = never
 * @param outDir            run directory (metrics, checkpoints, plots, report)
 * @param device            {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param modelDtype        parameter dtype of the generator: {@code float32} or {@code bfloat16} (sampler steps are
 *                          always computed in float32)
 * @param imageSize         side of the square images of the demo world, in pixels: even and at least 8 (the renderer
 *                          draws at least 8 x 8, the model pools by 2)
 * @param modelWidth        base channel count of the demo world's velocity model: a multiple of 4 (GroupNorm groups)
 * @param pretrainSteps     optimizer steps of flow-matching pretraining for the base model (cached by its settings);
 *                          0 = no pretraining: train the freshly initialised model
 * @param shadowEvery       for {@code pro-grpo*}: every this many epochs (epochs 0, n, 2n, ...) one extra prompt group
 *                          runs G_max trajectories unpruned to the end, untrained, to measure the previews against final
 *                          rewards within a group (metrics key {@code shadow}); 0 = never; ignored by the other methods
 * @param world             the world a job trains in: {@code pixel} (the embedded 16x16 pixel-space world and its
 *                          {@code alignment} reward; {@code imageSize}, {@code modelWidth} and {@code pretrainSteps}
 *                          configure it), {@code latent} (the scene world in latent space: 32x32 scenes, a VAE, a
 *                          frozen text encoder, an SD3-shaped flow transformer trained through LoRA adapters, the learned
 *                          {@code scene_preference} reward, the held-out rule-based evaluator; its models are defined
 *                          by {@code io.progrpo.world.latent.LatentConfig}, so the three pixel fields do not apply) or
 *                          {@code latent-quick} (the same shapes pretrained for seconds, for smoke tests: its images
 *                          mean nothing)
 * @param klForm            the KL term's divisor: {@code code} (Flow-GRPO's code, 2 std_t^2 with the schedule's std_t,
 *                          the default) or {@code policy} (2 s_t^2 with the policy std s_t = std_t sqrt(-dt); 1/|dt|
 *                          larger); read only when {@code beta > 0}; spec section 1
 * @param adaptiveThreshold for {@code pro-grpo-adaptive}: the within-group Spearman agreement between preview and final
 *                          reward, estimated on the shadow groups, that every checkpoint's step must reach, in (0, 1)
 * @param computeBudget     for {@code pro-grpo-adaptive}: the model compute of an epoch (sampling, training, shadow
 *                          groups) as a ratio of flow-grpo's with G = 2 x subsetSize, in (0, 10]
 * @param sampler           {@value #METHOD_SAMPLER} (the method's own sampler: the flow SDE and ODE, or DDIM for the
 *                          diffusion methods) or the name of a {@code io.progrpo.sampler.SamplerProvider} (built in:
 *                          {@code flow-sde}, {@code ddim}; a plug-in's), which builds both samplers from the fields above
 * @param optimizerStepsPerEpoch AdamW steps per epoch, each over groupsPerEpoch / optimizerStepsPerEpoch prompt groups
 *                          (gradient accumulation); it must divide groupsPerEpoch; 1 (the default) is one step per epoch
 * @param emaDecay          decay d of an exponential moving average of the trained parameters, updated after every
 *                          optimizer step as ema = d ema + (1 - d) theta; evaluated beside the raw weights (metrics key
 *                          {@code eval_ema}) and kept in the checkpoint; 0 (the default) = no EMA; in [0, 1)
 * @param ratioNorm         the importance ratio of the clipped objective: {@code none} (the plain ratio
 *                          exp(log pi - log pi_old), the default) or {@code grpo-guard} (GRPO-Guard's regulated ratio
 *                          exp(mean(eps * (mu - mu_old))) with eps the sampling noise and mu_old the sampling-time
 *                          policy mean: centred at 0 and without the 1/s_t scale; flow samplers only); spec section 1
 * @param trajectoryDtype   dtype of the stored trajectory latents and policy means: {@code float32} (the default),
 *                          {@code float16} or {@code bfloat16}; log-probs are stored and recomputed in float32
 * @param sdeWindow         {@code none} (every step of the flow sampler stochastic, the default) or
 *                          {@code START:LEN[:STRIDE]}: only steps START..START+LEN-1 (0-based) are stochastic, stored
 *                          and trained, the Euler ODE elsewhere (MixGRPO, Flow-GRPO-Fast); with a STRIDE the window
 *                          slides by STRIDE steps per epoch and wraps ({@code io.progrpo.sampler.SdeWindowSampler});
 *                          within the T - 1 trainable steps; flow methods only; needs trainStepFraction = 1 (the
 *                          window decides the trained steps)
 * @param evalSamples       deterministic samples per held-out prompt in each evaluation (the run's and
 *                          {@code progrpo eval}'s), all from the fixed noise seed; 1 (the default) = one per prompt
 * @param promptSeed        seed of the epoch prompt draws; {@value #PROMPT_SEED_OF_RUN} (the default) = the run's
 *                          {@code seed}. Runs that share a promptSeed train on the same prompts whatever their seed, so
 *                          a spread over seeds splits into what the prompt draws and what the sampling noise decide
 * @param adamEps           AdamW's epsilon, finite and > 0 (1e-8, PyTorch's default)
 * @param initialNoise      {@code method} (the default: one initial noise per prompt group for DanceGRPO, per row for
 *                          the flow methods), {@code row}, or {@code group} (Flow-GRPO's {@code same_latent})
 * @param samplingRows      the most rows of one forward or decode without gradient (sampling, evaluation), which bounds
 *                          the sampling phase's peak memory; the samples stay as they were; 0 (default) = one batch
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
        int shadowEvery,
        String world,
        String klForm,
        double adaptiveThreshold,
        double computeBudget,
        String sampler,
        int optimizerStepsPerEpoch,
        double emaDecay,
        String ratioNorm,
        String trajectoryDtype,
        String sdeWindow,
        int evalSamples,
        long promptSeed,
        double adamEps,
        String initialNoise,
        int samplingRows) {

    /** Overlays: presets that adjust budget or the sampler setting without choosing a method. */
    public static final List<String> OVERLAYS = List.of("paper-flow", "demo", "quick", "latent");

    /** The values of {@code world}. */
    public static final List<String> WORLDS = List.of("pixel", "latent", "latent-quick");

    /** The values of {@code klForm}: Flow-GRPO's code form first (the default), then the policy-std form. */
    public static final List<String> KL_FORMS = List.of("code", "policy");

    /** The values of {@code ratioNorm}: the plain ratio first (the default), then GRPO-Guard's regulated ratio. */
    public static final List<String> RATIO_NORMS = List.of("none", "grpo-guard");

    /** The values of {@code trajectoryDtype}, float32 (the default) first. */
    public static final List<String> TRAJECTORY_DTYPES = List.of("float32", "float16", "bfloat16");

    /** The {@code sampler} value that means the method's own sampler (the default). */
    public static final String METHOD_SAMPLER = "default";

    /** The {@code sdeWindow} value of a sampler stochastic at every step (the default). */
    public static final String NO_WINDOW = "none";

    /** The {@code promptSeed} value that draws the epoch prompts from the run's {@code seed} (the default). */
    public static final long PROMPT_SEED_OF_RUN = -1;

    /** The seed of the epoch prompt draws: {@code promptSeed}, or {@code seed} when it is {@value #PROMPT_SEED_OF_RUN}. */
    public long promptDrawSeed() {
        return promptSeed == PROMPT_SEED_OF_RUN ? seed : promptSeed;
    }

    /** The {@code pruneSchedule} value of methods that do not prune. */
    public static final String NO_PRUNING = "none";

    /** The most sampler steps a run may take: far beyond any in use (Flow-GRPO 10 and 40), a bound on per-step arrays. */
    public static final int MAX_STEPS = 100_000;

    /** A field earlier versions had and no code read: an old {@code config.json} may hold it; it must be false. */
    static final String RETIRED_ASYNC_REWARD = "asyncReward";

    private static final TrainConfig DEFAULTS = ConfigRecords.fromMap(new LinkedHashMap<>(Presets.DEFAULTS));
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Validates every field; see the record's parameter documentation for the meaning of each. */
    public TrainConfig {
        FieldChecks.oneOf("method", method, Method.configNames());
        FieldChecks.positive("epochs", epochs);
        FieldChecks.positive("groupsPerEpoch", groupsPerEpoch);
        FieldChecks.groupSizes(method, groupsPerEpoch, groupSize, subsetSize);
        FieldChecks.atLeast("samplerSteps", samplerSteps, 2, "one stochastic step to train and one to finish");
        FieldChecks.positive("evalSteps", evalSteps);
        FieldChecks.atMost("samplerSteps", samplerSteps, MAX_STEPS);
        FieldChecks.atMost("evalSteps", evalSteps, MAX_STEPS);
        FieldChecks.nonNull("pruneSchedule", pruneSchedule);
        PruneSchedule funnel = FieldChecks.pruneSchedule(method, pruneSchedule, groupSize, samplerSteps);
        FieldChecks.positiveFinite("noiseLevel", noiseLevel);
        FieldChecks.positiveFinite("shift", shift);
        FieldChecks.nonNegativeFinite("eta", eta);
        FieldChecks.samplerNumbers(method, eta, guidanceScale, trainStepFraction, clipRange);
        FieldChecks.positiveFinite("advClip", advClip);
        FieldChecks.oneOf("stdMode", stdMode, List.of("group", "global"));
        FieldChecks.nonNegativeFinite("beta", beta);
        FieldChecks.positiveFinite("lr", lr);
        FieldChecks.unitInterval("beta1", beta1);
        FieldChecks.unitInterval("beta2", beta2);
        FieldChecks.nonNegativeFinite("weightDecay", weightDecay);
        FieldChecks.nonNegativeFinite("gradClip", gradClip);
        FieldChecks.positive("microBatch", microBatch);
        FieldChecks.rewardSpec(reward);
        FieldChecks.oneOf("rewardAggregation", rewardAggregation, List.of("weighted-sum", "advantage-sum"));
        FieldChecks.atLeast("evalEvery", evalEvery, 0, "0 = only after the last epoch");
        FieldChecks.atLeast("evalPrompts", evalPrompts, 0, "0 = all held-out prompts");
        FieldChecks.atLeast("checkpointEvery", checkpointEvery, 0, "0 = no checkpoints");
        FieldChecks.outDir(outDir);
        FieldChecks.device(device);
        FieldChecks.oneOf("modelDtype", modelDtype, List.of("float32", "bfloat16"));
        FieldChecks.pixelWorld(imageSize, modelWidth);
        FieldChecks.atLeast("pretrainSteps", pretrainSteps, 0, "0 = no pretraining");
        FieldChecks.atLeast("shadowEvery", shadowEvery, 0, "epochs between shadow groups; 0 = never");
        FieldChecks.oneOf("world", world, WORLDS);
        FieldChecks.oneOf("klForm", klForm, KL_FORMS);
        FieldChecks.adaptive(method, adaptiveThreshold, computeBudget, subsetSize, groupSize, shadowEvery, funnel);
        FieldChecks.samplerName(sampler);
        FieldChecks.optimizerSteps(optimizerStepsPerEpoch, groupsPerEpoch);
        FieldChecks.emaDecay(emaDecay);
        FieldChecks.oneOf("ratioNorm", ratioNorm, RATIO_NORMS);
        FieldChecks.ratioNorm(method, ratioNorm);
        FieldChecks.oneOf("trajectoryDtype", trajectoryDtype, TRAJECTORY_DTYPES);
        FieldChecks.sdeWindow(method, sdeWindow, samplerSteps, trainStepFraction);
        FieldChecks.atLeast("evalSamples", evalSamples, 1, "deterministic samples per held-out prompt");
        FieldChecks.promptSeed(promptSeed);
        FieldChecks.positiveFinite("adamEps", adamEps);
        FieldChecks.oneOf("initialNoise", initialNoise, List.of("method", "row", "group"));
        FieldChecks.atLeast("samplingRows", samplingRows, 0, "rows per sampling forward; 0 = the whole batch at once");
    }

    /** Whether a prompt group's rows start from one shared initial noise ({@code initialNoise}). */
    public boolean sharedInitialNoise() {
        return initialNoise.equals("group") || initialNoise.equals("method") && Method.byName(method).isDiffusion();
    }

    /** The SDE window as {start, length, stride}, or null for {@code none}. */
    public int[] sdeWindowParts() {
        return FieldChecks.sdeWindow(method, sdeWindow, samplerSteps, trainStepFraction);
    }

    /** @return true for the latent worlds ({@code latent}, {@code latent-quick}) */
    public boolean latentWorld() {
        return world.startsWith("latent");
    }

    // ---------------------------------------------------------------- defaults and presets

    /**
     * The base configuration: Flow-GRPO on the demo world (16x16 images, a 32-channel model), the paper's sampler (T = 10,
     * a = 0.7, w = 4.5) and optimizer (AdamW 3e-4, betas 0.9/0.999, weight decay 1e-4, grad clip 1.0), no KL term.
     */
    public static TrainConfig defaults() {
        return DEFAULTS;
    }

    /** @return every preset name: the methods first, then the overlays */
    public static List<String> listPresets() {
        return List.copyOf(Presets.ALL.keySet());
    }

    /** The fields a preset changes relative to what it is applied over, in a stable order (a ConfigException names an unknown preset). */
    public static Map<String, Object> presetDifferences(String name) {
        Map<String, Object> diff = Presets.ALL.get(name);
        if (diff == null) {
            throw new ConfigException("preset", "unknown preset '" + name + "'; valid presets: "
                    + String.join(", ", Presets.ALL.keySet()));
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
        return defaults().with(Presets.overrides(spec), "preset " + spec);
    }

    // ---------------------------------------------------------------- overrides

    /**
     * The full resolution: preset &lt; file &lt; {@code key=value} strings, validated once at the end.
     *
     * <p>The file holds one JSON object and nothing after it; a field given twice, a value of the wrong JSON type, an
     * integer that does not fit the field (3000000000 or 2.5 for an int) are errors. {@code key=value} values are
     * parsed by the field's type: integers in ASCII digits within the type's range, plain decimal numbers (no hex,
     * no suffix, no NaN or Infinity), booleans {@code true} or {@code false}.
     *
     * @param presetSpec preset name(s) joined by {@code +}; null = {@link #defaults()}
     * @param jsonFile   JSON object of overrides; null = none
     * @param sets       {@code key=value} overrides, in order (a later one wins); null = none
     * @throws ConfigException naming the field, the file or the argument to fix
     */
    public static TrainConfig resolve(String presetSpec, Path jsonFile, List<String> sets) {
        Map<String, Object> values = defaults().toMap();
        if (presetSpec != null) values.putAll(Presets.overrides(presetSpec));
        if (jsonFile != null) ConfigRecords.putAllTyped(values, ConfigSources.readJsonFile(jsonFile), "file " + jsonFile);
        if (sets != null) ConfigRecords.putAllTyped(values, ConfigSources.parseSets(sets), "--set");
        return ConfigRecords.fromMap(values);
    }

    /**
     * This configuration with some fields replaced. Values may be typed (Integer, Double, ...) or strings, which are
     * parsed according to the field's type.
     *
     * @param source where the overrides come from, for error messages ({@code --set}, a file name)
     */
    public TrainConfig with(Map<String, ?> overrides, String source) {
        Map<String, Object> values = toMap();
        ConfigRecords.putAllTyped(values, overrides, source);
        return ConfigRecords.fromMap(values);
    }

    /** This configuration with {@code key=value} overrides applied, as from the CLI's {@code --set}. */
    public TrainConfig withSets(List<String> sets) {
        return with(ConfigSources.parseSets(sets), "--set");
    }

    /** This configuration with the fields of a JSON object applied; see {@link #resolve}. */
    public TrainConfig withJson(String json, String source) {
        Map<String, Object> values = toMap();
        ConfigRecords.putAllTyped(values, ConfigSources.parseJsonObject(json, source), source);
        return ConfigRecords.fromMap(values);
    }

    /** Parses {@link #toJson()} output (or any JSON object of fields) over {@link #defaults()}. */
    public static TrainConfig fromJson(String json) {
        return defaults().withJson(json, "json");
    }

    /** Reads a JSON object of fields (as written by {@link #toJson()}) over {@link #defaults()}. */
    public static TrainConfig fromJsonFile(Path file) {
        Map<String, Object> values = defaults().toMap();
        ConfigRecords.putAllTyped(values, ConfigSources.readJsonFile(file), "file " + file);
        return ConfigRecords.fromMap(values);
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
        return ConfigRecords.toMap(this);
    }

    /** @return the field names, in declaration order */
    public static List<String> fieldNames() {
        return ConfigRecords.fieldNames();
    }

    // ---------------------------------------------------------------- derived values

    /** @return true when classifier-free guidance is on (w != 1), which doubles the model evaluations per step */
    public boolean usesCfg() {
        return guidanceScale != 1.0;
    }

    /** @return true for the expand-and-prune methods */
    public boolean prunes() {
        return Method.byName(method).prunesDuringSampling();
    }

    /**
     * The sampling schedule this method runs: the {@code pruneSchedule} funnel (spec or preset name) for
     * {@code pro-grpo*}, static OVF at step T (k of G) for the subset methods, the plain group of G otherwise.
     */
    public PruneSchedule samplingSchedule() {
        if (prunes()) return FieldChecks.pruneSchedule(method, pruneSchedule, groupSize, samplerSteps);
        if (Method.byName(method).trainsSubset()) return PruneSchedule.staticOvf(groupSize, subsetSize, samplerSteps);
        return PruneSchedule.none(groupSize, samplerSteps);
    }

    /** The group size that reaches training: k for the subset methods, the funnel's last size, G otherwise. */
    public int trainedGroupSize() {
        return samplingSchedule().finalGroupSize();
    }

    /**
     * Number of sampler steps whose transitions are trained: the SDE window's length, else
     * max(1, floor(trainStepFraction * (T - 1))). The last step lands on sigma = 0, so T - 1 steps are stochastic
     * policy steps worth training (the spec's default {@code trainSteps = T - 1}).
     */
    public int trainedStepsPerTrajectory() {
        int[] window = sdeWindowParts();
        if (window != null) return window[1];
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
        sb.append("per-epoch totals\n");
        derivedTotals().asRows().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-36s %,d%n", k, v)));
        return sb.toString();
    }

    /**
     * A reward spec ({@code alignment}, {@code alignment:1.0,jpeg_compressibility:0.1}) as name to weight (1.0 when
     * omitted), in order, by {@code io.progrpo.reward.MultiReward.parseWeights}; a bad term is a ConfigException.
     */
    public static Map<String, Double> parseRewardSpec(String spec) {
        return FieldChecks.rewardSpec(spec);
    }

    @Override
    public String toString() {
        return "TrainConfig" + toMap();
    }
}
