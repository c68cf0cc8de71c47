package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.app.job.LatentJobs;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.AutoencoderRoundTrip;
import io.progrpo.world.latent.BaseSampleAgreement;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.latent.SceneWorldScenes;
import io.progrpo.world.scene.Neighbours;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneTokenizer;
import io.progrpo.world.scene.reward.RewardAugmentation;
import io.progrpo.world.scene.reward.RewardModelConfig;
import io.progrpo.world.scene.reward.RewardModels;
import io.progrpo.world.scene.reward.RewardTrainOptions;
import io.progrpo.world.scene.reward.ScenePreferenceReward;
import io.progrpo.world.scene.reward.SceneRewardModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The learned scene reward against the rule-based evaluator on samples of the latent world's BASE generator
 * ({@link BaseSampleAgreement}), for a reward-model recipe and for the ways of reading the model's scores:
 * {@code raw} (s cos, the reward GRPO trained on until session 5), {@code neighbour-contrast} (the log-probability of the
 * prompt among itself and its one-attribute neighbours, {@code raw - logsumexp(raw over them)}, written here in plain
 * Java) and {@code scene_preference} (the shipped reward, which computes the latter). Two draws: the
 * evaluation prompts of {@code SceneSplit.evalPrompts(16)} (seed {@code seed}) and the world's first
 * {@code heldOut} held-out prompts (seed {@code seed + 1}); with {@code draws=C} (or {@code A,B,C}) also draw C, the
 * shipped reward alone on up to {@code drawC} training prompts of each category (a seeded shuffle, seed {@code seed + 2}),
 * a draw that no choice of recipe or reading looked at.
 *
 * <p>Arguments {@code key=value}: {@code preset} (flow-grpo+demo+latent), {@code samples} (8), {@code seed} (1),
 * {@code heldOut} (80), {@code draws} (A,B), {@code drawC} (24), {@code rewardCache} (a directory for recipes other than the default; default: the job
 * cache), recipe fields {@code steps}, {@code lr}, {@code batch}, {@code roundTrip}, {@code latentNoise}, {@code blur},
 * {@code noise}, {@code sigmoid}; other keys go to the config as {@code --set}.
 */
public final class RewardAgreementMain {
    private RewardAgreementMain() {}

    public static void main(String[] args) {
        KeyValueArgs kv = KeyValueArgs.parse(args);
        String preset = kv.string("preset", "flow-grpo+demo+latent");
        int samples = kv.integer("samples", 8);
        long seed = kv.longValue("seed", 1);
        int heldOut = kv.integer("heldOut", 80);
        int drawC = kv.integer("drawC", 24);
        String draws = kv.string("draws", "A,B");
        Path rewardCache = kv.has("rewardCache") ? Path.of(kv.string("rewardCache", null)) : null;
        RewardTrainOptions o = RewardTrainOptions.DEFAULTS;
        if (kv.has("steps")) o = o.withSteps(kv.integer("steps", 0));
        if (kv.has("lr")) o = o.withLr(kv.number("lr", 0));
        if (kv.has("batch")) o = o.withBatchSize(kv.integer("batch", 0));
        if (kv.has("sigmoid")) o = o.withSigmoidWeight(kv.number("sigmoid", 0));
        double roundTrip = kv.number("roundTrip", 0), latentNoise = kv.number("latentNoise", 0);
        double blur = kv.number("blur", 0), noise = kv.number("noise", 0);
        List<String> sets = kv.rest();
        o = o.withAugmentation(new RewardAugmentation(roundTrip, latentNoise, blur, noise));
        TrainConfig c = TrainConfig.resolve(preset, null, sets);
        SceneWorldScenes scenes = new SceneWorldScenes();
        Path cache = rewardCache == null ? Jobs.cacheDir() : rewardCache;
        long t0 = System.nanoTime();
        try (LatentWorld world = LatentWorld.loadOrPretrain(Jobs.cacheDir(), LatentJobs.latentConfig(c, scenes), scenes, Device.CPU,
                System.out::println)) {
            SceneRewardModel model;
            if (o.needsRoundTrip()) {
                try (AutoencoderRoundTrip rt = AutoencoderRoundTrip.sceneWorldDefault(Jobs.cacheDir(), System.out::println)) {
                    model = RewardModels.loadOrTrain(cache, RewardModelConfig.DEFAULT, o, rt, System.out::println);
                }
            } else {
                model = RewardModels.loadOrTrain(cache, RewardModelConfig.DEFAULT, o, System.out::println);
            }
            System.out.printf(Locale.ROOT, "models ready in %.1f s; recipe %s%n", (System.nanoTime() - t0) / 1e9, o);
            ScenePreferenceReward shipped = new ScenePreferenceReward(model);
            Map<String, RewardFunction> readings = new LinkedHashMap<>();
            readings.put("raw", reading(model, false));
            readings.put("neighbour-contrast", reading(model, true));
            readings.put("scene_preference", shipped);
            List<String> evalPrompts = scenes.split().evalPrompts(16).stream().map(ScenePrompt::text).toList();
            List<String> held = scenes.heldOutPrompts().subList(0, Math.min(heldOut, scenes.heldOutPrompts().size()));
            List<String> trainDraw = trainingDraw(scenes.split(), drawC, seed + 2);
            for (var e : readings.entrySet()) {
                if (draws.contains("A")) {
                    BaseSampleAgreement.Result a = BaseSampleAgreement.measure(world, e.getValue(), evalPrompts, samples, c.guidanceScale(),
                            c.evalSteps(), seed);
                    System.out.println("draw A evalPrompts(16), " + e.getKey() + ": " + a.summary());
                }
                if (draws.contains("B")) {
                    BaseSampleAgreement.Result b = BaseSampleAgreement.measure(world, e.getValue(), held, samples, c.guidanceScale(),
                            c.evalSteps(), seed + 1);
                    System.out.println("draw B heldOut[0, " + held.size() + "), " + e.getKey() + ": " + b.summary());
                }
                if (draws.contains("C") && e.getKey().equals("scene_preference")) {
                    BaseSampleAgreement.Result r = BaseSampleAgreement.measure(world, e.getValue(), trainDraw, samples, c.guidanceScale(),
                            c.evalSteps(), seed + 2);
                    System.out.println("draw C training prompts (" + trainDraw.size() + ", up to " + drawC + " per category), "
                            + e.getKey() + ": " + r.summary());
                }
            }
            shipped.close();
        }
    }

    /** Up to {@code perCategory} training prompts of each category, in category order, shuffled by {@code seed}. */
    static List<String> trainingDraw(io.progrpo.world.scene.SceneSplit split, int perCategory, long seed) {
        List<String> out = new ArrayList<>();
        for (io.progrpo.world.scene.Category cat : io.progrpo.world.scene.Category.values()) {
            List<ScenePrompt> pool = new ArrayList<>(split.train(cat));
            java.util.Collections.shuffle(pool, new java.util.Random(seed * 31 + cat.ordinal()));
            for (ScenePrompt p : pool.subList(0, Math.min(perCategory, pool.size()))) out.add(p.text());
        }
        return out;
    }

    /** The model's score of each image with its prompt, raw or as the log-probability among the prompt's neighbours. */
    static RewardFunction reading(SceneRewardModel model, boolean contrast) {
        return new RewardFunction() {
            @Override
            public String name() {
                return contrast ? "scene_preference_contrast" : "scene_preference";
            }

            @Override
            public RewardOutput score(Tensor images, List<String> prompts) {
                int n = prompts.size();
                double[] out = new double[n];
                try (Scope s = Scope.open(); var ng = Autograd.noGrad()) {
                    Tensor x = images.to(Device.CPU, DType.FLOAT32).clamp(0, 1);
                    float[] f = model.imageEmbeddings(x).toFloatArray();
                    int d = f.length / n;
                    double scale = model.scaleValue();
                    for (int i = 0; i < n; i++) {
                        List<String> caps = new ArrayList<>();
                        caps.add(prompts.get(i));
                        if (contrast) for (Neighbours.Neighbour nb : Neighbours.of(ScenePrompt.parse(prompts.get(i)))) caps.add(nb.prompt().text());
                        float[] g = model.textEmbeddings(SceneTokenizer.tensor(caps, Device.CPU)).toFloatArray();
                        double[] logit = new double[caps.size()];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < caps.size(); j++) {
                            double dot = 0;
                            for (int q = 0; q < d; q++) dot += (double) f[i * d + q] * g[j * d + q];
                            logit[j] = scale * dot;
                            max = Math.max(max, logit[j]);
                        }
                        double lse = 0;
                        for (double l : logit) lse += Math.exp(l - max);
                        out[i] = contrast ? logit[0] - (max + Math.log(lse)) : logit[0];
                    }
                }
                return new RewardOutput(out, Map.of());
            }
        };
    }
}
