package io.progrpo.world.latent;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.SamplingLoop;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.world.scene.GenEvalTable;
import io.progrpo.world.scene.SceneEvalReward;
import io.progrpo.world.scene.reward.Agreement;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How well a reward (the learned {@code scene_preference}) agrees with an evaluator ({@code scene_eval}) on samples
 * of the latent world's BASE generator, the images GRPO starts from: each prompt gets {@code k} samples of the
 * deterministic Euler ODE ({@link FlowSdeSampler#ode}, shift 1) under classifier-free guidance, decoded by the
 * autoencoder, and both rewards score every image with its prompt. Three Spearman correlations:
 * <ul>
 *   <li>across prompts: of the per-prompt means (does the reward know which prompts the generator does well?);</li>
 *   <li>over images: pooled over every (image, prompt) pair;</li>
 *   <li>within prompts: the mean over prompts of the Spearman of their k samples (GRPO's group-relative signal),
 *       prompts where either reward is constant left out and counted.</li>
 * </ul>
 * The noise is one draw {@code randn [P k, C, h, w]} of a CPU {@link Generator} seeded by {@code seed}, row
 * {@code i k + j} the j-th sample of prompt i, so a measurement is reproducible and comparable between rewards.
 */
public final class BaseSampleAgreement {
    /** Rows per sampler call (the guided forward runs 2x this many). */
    static final int CHUNK = 64;

    /**
     * One measurement.
     *
     * @param prompts          the P prompts, each sampled {@code samplesPerPrompt} times
     * @param reward           the reward's score per image (prompt-major: image i k + j is prompt i's j-th sample)
     * @param evaluator        the evaluator's score per image, same order
     * @param acrossPrompts    Spearman of the per-prompt means
     * @param overImages       Spearman over every image
     * @param withinPrompts    mean within-prompt Spearman over the prompts where it is defined
     * @param withinCounted    prompts where it is defined (neither reward constant over the prompt's samples)
     * @param table            the evaluator's GenEval table, or null when its output has no {@code success} metric
     */
    public record Result(List<String> prompts, int samplesPerPrompt, double[] reward, double[] evaluator, double acrossPrompts,
                         double overImages, double withinPrompts, int withinCounted, GenEvalTable table) {
        public Result {
            prompts = List.copyOf(prompts);
            reward = reward.clone();
            evaluator = evaluator.clone();
        }

        @Override
        public double[] reward() {
            return reward.clone();
        }

        @Override
        public double[] evaluator() {
            return evaluator.clone();
        }

        /** The mean within-prompt standard deviation (population) of the reward's scores. */
        public double rewardWithinStd() {
            return meanWithinStd(reward, samplesPerPrompt);
        }

        /** The mean within-prompt standard deviation (population) of the evaluator's scores. */
        public double evaluatorWithinStd() {
            return meanWithinStd(evaluator, samplesPerPrompt);
        }

        /** One line: the three correlations, the table's overall success, the reward's mean and within-prompt std. */
        public String summary() {
            double mean = Arrays.stream(reward).average().orElse(Double.NaN);
            return String.format(java.util.Locale.ROOT,
                    "%d prompts x %d samples: Spearman across prompts %.3f, over images %.3f, within prompts %.3f (%d prompts); "
                            + "reward mean %.3f within-prompt std %.3f; evaluator within-prompt std %.3f%s",
                    prompts.size(), samplesPerPrompt, acrossPrompts, overImages, withinPrompts, withinCounted, mean, rewardWithinStd(),
                    evaluatorWithinStd(), table == null ? "" : String.format(java.util.Locale.ROOT, "; overall success %.3f, score %.3f",
                            table.overall(), table.overallScore()));
        }
    }

    private BaseSampleAgreement() {
    }

    /** {@link #measure(LatentWorld, RewardFunction, RewardFunction, List, int, double, int, long)} against {@code scene_eval}. */
    public static Result measure(LatentWorld world, RewardFunction reward, List<String> prompts, int samplesPerPrompt, double guidance,
                                 int steps, long seed) {
        return measure(world, reward, new SceneEvalReward(), prompts, samplesPerPrompt, guidance, steps, seed);
    }

    /**
     * Samples the base generator of {@code world} ({@link #sample}) and compares {@code reward} with
     * {@code evaluator} on the images.
     *
     * @throws IllegalArgumentException for no prompts, fewer than 2 samples per prompt, or a bad guidance or step count
     */
    public static Result measure(LatentWorld world, RewardFunction reward, RewardFunction evaluator, List<String> prompts, int samplesPerPrompt,
                                 double guidance, int steps, long seed) {
        if (reward == null || evaluator == null) throw new IllegalArgumentException("measure needs a reward and an evaluator, got " + reward + ", " + evaluator);
        if (samplesPerPrompt < 2) throw new IllegalArgumentException("samplesPerPrompt must be >= 2 (within-prompt ranks), got " + samplesPerPrompt);
        try (Scope scope = Scope.open()) {
            Tensor images = sample(world, prompts, samplesPerPrompt, guidance, steps, seed);
            List<String> captions = repeat(prompts, samplesPerPrompt);
            double[] r = reward.scoreChecked(images, captions).scores();
            RewardOutput ev = evaluator.scoreChecked(images, captions);
            GenEvalTable table = ev.metrics().containsKey("success") ? GenEvalTable.of(captions, ev) : null;
            return of(prompts, samplesPerPrompt, r, ev.scores(), table);
        }
    }

    /** The statistics of given scores (prompt-major, {@code k} per prompt), without sampling. */
    public static Result of(List<String> prompts, int k, double[] reward, double[] evaluator, GenEvalTable table) {
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("need at least one prompt, got " + prompts);
        if (k < 1) throw new IllegalArgumentException("samples per prompt must be >= 1, got " + k);
        int n = prompts.size() * k;
        if (reward == null || evaluator == null || reward.length != n || evaluator.length != n) {
            throw new IllegalArgumentException("expected " + n + " scores of each (" + prompts.size() + " prompts x " + k + "), got "
                    + (reward == null ? "null" : reward.length) + " and " + (evaluator == null ? "null" : evaluator.length));
        }
        double sum = 0;
        int counted = 0;
        for (int i = 0; i < prompts.size(); i++) {
            double rho = Agreement.spearman(Arrays.copyOfRange(reward, i * k, i * k + k), Arrays.copyOfRange(evaluator, i * k, i * k + k));
            if (!Double.isNaN(rho)) {
                sum += rho;
                counted++;
            }
        }
        return new Result(prompts, k, reward, evaluator, Agreement.spearman(promptMeans(reward, k), promptMeans(evaluator, k)),
                Agreement.spearman(reward, evaluator), counted == 0 ? Double.NaN : sum / counted, counted, table);
    }

    /** The mean of each consecutive run of {@code k} values. */
    public static double[] promptMeans(double[] v, int k) {
        if (k < 1 || v.length % k != 0) throw new IllegalArgumentException("need a multiple of " + k + " values, got " + v.length);
        double[] m = new double[v.length / k];
        for (int i = 0; i < m.length; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) s += v[i * k + j];
            m[i] = s / k;
        }
        return m;
    }

    /**
     * The base generator's images of {@code prompts}, {@code k} each (prompt-major), {@code [P k, 3, S, S]} float32 in
     * [0, 1] on the CPU, in the caller's scope: Euler ODE of {@code steps} steps (shift 1), guidance {@code guidance}
     * with the world's null prompt, the autoencoder's decoder.
     */
    public static Tensor sample(LatentWorld world, List<String> prompts, int k, double guidance, int steps, long seed) {
        return sample(world, prompts, k, guidance, steps, seed, CHUNK);
    }

    /** {@link #sample} with at most {@code chunk} rows per sampler call (the result does not depend on it). */
    static Tensor sample(LatentWorld world, List<String> prompts, int k, double guidance, int steps, long seed, int chunk) {
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        if (world == null) throw new IllegalArgumentException("sample needs a latent world, got null");
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("need at least one prompt, got " + prompts);
        if (k < 1) throw new IllegalArgumentException("samples per prompt must be >= 1, got " + k);
        if (!(guidance >= 1) || !Double.isFinite(guidance)) throw new IllegalArgumentException("guidance must be finite and >= 1, got " + guidance);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        int n = prompts.size() * k;
        long[] shape = world.latentShape();
        Device dev = world.models().autoencoder().device();
        FlowSdeSampler ode = FlowSdeSampler.ode(steps, 1.0);
        List<String> captions = repeat(prompts, k);
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad(); Generator g = Generator.create(seed)) {
            Tensor noise = Tensor.randn(g, n, shape[0], shape[1], shape[2]).to(dev);
            Tensor uncond = world.unconditional(dev);
            ClassifierFreeGuidance cfg = new ClassifierFreeGuidance(world.generator(), guidance, uncond, false);
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < n; from += chunk) {
                int rows = Math.min(chunk, n - from);
                try (Scope part = Scope.open()) {
                    Tensor cond = world.conditioning(captions.subList(from, from + rows), dev);
                    Tensor x0 = SamplingLoop.finalLatents(ode, cfg, noise.narrow(0, from, rows), cond, g);
                    parts.add(part.keep(world.decoder().decode(x0).to(Device.CPU, DType.FLOAT32)));
                }
            }
            return scope.keep(parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 0));
        }
    }

    /**
     * Measures the default learned reward against the evaluator on the default latent world's base samples and
     * prints the statistics and the GenEval table. Arguments {@code key=value}: {@code cache} (the latent models'
     * cache, default {@code -Dprogrpo.cache} / {@code $PROGRPO_CACHE}), {@code rewardCache} (the reward model's, default
     * {@code cache}), {@code perCategory} (of {@code SceneSplit.evalPrompts}, 16), {@code samples} (per prompt, 8),
     * {@code guidance} (4.5), {@code steps} (20), {@code seed} (1). Absent models are trained first.
     */
    public static void main(String[] args) {
        java.util.Map<String, String> a = new java.util.HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        java.nio.file.Path cache = a.containsKey("cache") ? java.nio.file.Path.of(a.get("cache"))
                : io.progrpo.world.scene.reward.RewardModels.defaultCacheDir();
        java.nio.file.Path rewardCache = java.nio.file.Path.of(a.getOrDefault("rewardCache", cache.toString()));
        int perCategory = Integer.parseInt(a.getOrDefault("perCategory", "16"));
        int samples = Integer.parseInt(a.getOrDefault("samples", "8"));
        double guidance = Double.parseDouble(a.getOrDefault("guidance", "4.5"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "20"));
        long seed = Long.parseLong(a.getOrDefault("seed", "1"));
        SceneWorldScenes scenes = new SceneWorldScenes();
        List<String> prompts = scenes.split().evalPrompts(perCategory).stream().map(io.progrpo.world.scene.ScenePrompt::text).toList();
        try (LatentWorld world = LatentWorld.loadOrPretrain(cache, LatentConfig.defaults(scenes), scenes, Device.CPU, System.out::println);
             var reward = io.progrpo.world.scene.reward.ScenePreferenceReward.loadDefault(rewardCache, System.out::println)) {
            long t0 = System.nanoTime();
            Result r = measure(world, reward, prompts, samples, guidance, steps, seed);
            System.out.printf(java.util.Locale.ROOT, "base samples (guidance %.1f, %d Euler steps, seed %d, evalPrompts(%d)), %.1f s%n",
                    guidance, steps, seed, perCategory, (System.nanoTime() - t0) / 1e9);
            System.out.println(r.summary());
            System.out.println(GenEvalTable.markdownHeader());
            System.out.println(r.table().markdownRow("base"));
        }
    }

    static List<String> repeat(List<String> prompts, int k) {
        List<String> out = new ArrayList<>(prompts.size() * k);
        for (String p : prompts) for (int j = 0; j < k; j++) out.add(p);
        return out;
    }

    static double meanWithinStd(double[] v, int k) {
        double[] m = promptMeans(v, k);
        double total = 0;
        for (int i = 0; i < m.length; i++) {
            double ss = 0;
            for (int j = 0; j < k; j++) ss += (v[i * k + j] - m[i]) * (v[i * k + j] - m[i]);
            total += Math.sqrt(ss / k);
        }
        return total / m.length;
    }
}
