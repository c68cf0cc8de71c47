package io.progrpo.app.job;

import io.progrpo.reward.RewardRegistry;
import io.progrpo.sampler.BuiltInSamplers;
import io.progrpo.sampler.DdimSampler;
import io.progrpo.sampler.FlowSchedule;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.PromptWorld;
import io.progrpo.sampler.SamplerProvider;
import io.progrpo.sampler.SamplerRegistry;
import io.progrpo.sampler.SamplerSettings;
import io.progrpo.tensor.Torch;
import io.progrpo.tensor.TorchUnavailableException;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.latent.SceneWorldScenes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a {@link TrainConfig} must satisfy for a job to be built from it, beyond the record's own field rules: the
 * samplers Jobs builds (their float32 grids), the rewards the registry knows, the prompt counts of the world, the
 * device libtorch can reach, the run directory. Each check throws the {@link ConfigException} the CLI prints as
 * {@code config error (FIELD): ...} with exit status 2, so a value that passes {@code TrainConfig} never fails later
 * while the job is built. The CLI runs these checks before {@code train}, {@code eval}, {@code train-torchscript} and
 * their {@code --dry-run}; {@link Jobs#build} runs them again. Only the device check loads libtorch, and only for a
 * CUDA device.
 */
public final class JobCheck {
    private JobCheck() {}

    /** float32's smallest normal value: a policy std whose square is below it makes log-probs infinite. */
    static final double MIN_POLICY_STD = Math.sqrt(Float.MIN_NORMAL);

    /**
     * The checks of a job on the embedded world ({@code progrpo train} and {@code eval}).
     *
     * @param writesOutDir true when the job writes its run directory (train), so {@code outDir} must be usable
     */
    public static void embeddedJob(TrainConfig c, boolean writesOutDir) {
        samplers(c);
        rewards(c);
        world(c);
        if (c.latentWorld()) {
            SceneWorldScenes scenes = new SceneWorldScenes();
            prompts(c, scenes.trainPrompts().size(), scenes.heldOutPrompts().size());
            rewardBatch(c, scenes.imageSize());
        } else {
            prompts(c, new EmbeddedWorld(c.imageSize()));
            rewardBatch(c, c.imageSize());
        }
        device(c.device());
        cacheDir();
        if (writesOutDir) outDir(c);
    }

    /** The checks of a TorchScript job: the files define the model and reward, so model and reward fields do not apply. */
    public static void torchScriptJob(TrainConfig c) {
        samplers(c);
        prompts(c, new EmbeddedWorld(c.imageSize()));
        device(c.device());
        outDir(c);
    }

    // ---------------------------------------------------------------- samplers

    /**
     * The training and evaluation samplers exist and compute finite float32 steps: the method's own ({@code sampler =
     * default}), or the named provider's, which must be registered (plug-ins included), suit the method's model, and
     * build from the config's settings.
     */
    static void samplers(TrainConfig c) {
        String name = c.sampler();
        if (name.equals(TrainConfig.METHOD_SAMPLER)) {
            if (Method.byName(c.method()).isDiffusion()) {
                ddim(c);
            } else {
                flow(c);
            }
            return;
        }
        ClassLoader plugins = Plugins.active().loader();
        List<String> available;
        try {
            available = SamplerRegistry.available(plugins);
        } catch (IllegalStateException e) {
            throw new ConfigException("sampler", "cannot list the registered samplers: " + e.getMessage(), e);
        }
        if (!available.contains(name)) {
            throw new ConfigException("sampler", "sampler '" + name + "' is not registered; expected "
                    + TrainConfig.METHOD_SAMPLER + " (the method's own sampler) or one of " + String.join(", ", available));
        }
        SamplerProvider p = SamplerRegistry.provider(name, plugins);
        SamplerSettings.Prediction prediction = Jobs.prediction(c);
        if (!p.supports(prediction)) {
            String suits = Arrays.stream(SamplerSettings.Prediction.values()).filter(p::supports).map(Object::toString)
                    .collect(Collectors.joining(" or "));
            throw new ConfigException("sampler", "sampler '" + name + "' samples " + (suits.isEmpty() ? "no" : suits)
                    + " models, but method '" + c.method() + "' trains a " + prediction + " model; expected a sampler for "
                    + prediction + " models, or " + TrainConfig.METHOD_SAMPLER);
        }
        // the built-in samplers' float32 limits apply to them whatever selects them
        if (p instanceof BuiltInSamplers.FlowSde || p instanceof BuiltInSamplers.DanceSde || p instanceof BuiltInSamplers.Cps) flow(c);
        if (p instanceof BuiltInSamplers.Ddim) ddim(c);
        try {
            Jobs.trainSampler(c);
            Jobs.evalSampler(c);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ConfigException("sampler", "sampler '" + name + "' (" + p.getClass().getName() + ") cannot be built "
                    + "from this config: " + e.getMessage(), e);
        }
    }

    private static void flow(TrainConfig c) {
        FlowSchedule train = flowGrid(c.samplerSteps(), c.shift(), "samplerSteps");
        flowGrid(c.evalSteps(), c.shift(), "evalSteps");
        FlowSdeSampler sde = new FlowSdeSampler(train, c.noiseLevel());
        double aMax = Double.POSITIVE_INFINITY;
        int worst = -1;
        for (int i = 0; i < sde.steps(); i++) {
            double sigma = sde.time(i);
            double dt = sde.dt(i);
            double std = sde.stdT(i);
            // mu = x (1 + std_t^2 / (2 sigma) dt) + v (...) dt: the factor on x must stay positive, else a step
            // flips the latents and the chain blows up; std_t is proportional to a, so the bound on a is direct
            double unit = std / c.noiseLevel();
            double bound = Math.sqrt(2 * sigma / (unit * unit * -dt));
            if (bound < aMax) {
                aMax = bound;
                worst = i;
            }
        }
        if (!(c.noiseLevel() < aMax)) {
            double coef = 1 + sde.stdT(worst) * sde.stdT(worst) / (2 * sde.time(worst)) * sde.dt(worst);
            throw new ConfigException("noiseLevel", String.format(Locale.ROOT, "noiseLevel a = %s is too large for "
                    + "samplerSteps = %d and shift = %s: at step %d the SDE mean's factor on x, 1 + std_t^2 dt / (2 sigma), "
                    + "is %.4g <= 0, so the step flips the latents; expected a < %.4f for this grid",
                    c.noiseLevel(), c.samplerSteps(), c.shift(), worst, coef, aMax));
        }
        for (int i = 0; i < sde.steps(); i++) {
            double s = sde.policyStd(i);
            if (s > 0 && s < MIN_POLICY_STD) {
                throw new ConfigException("noiseLevel", String.format(Locale.ROOT, "noiseLevel a = %s gives a policy "
                        + "std s_t = %.3g at step %d, too small for float32 log-probs (s_t^2 below %.3g); expected s_t >= %.3g",
                        c.noiseLevel(), s, i, (double) Float.MIN_NORMAL, MIN_POLICY_STD));
            }
        }
    }

    /** The shifted grid of {@code steps} steps, with T + 1 distinct sigmas in float32 (the precision of the steps). */
    private static FlowSchedule flowGrid(int steps, double shift, String stepsField) {
        FlowSchedule grid;
        try {
            grid = FlowSchedule.shifted(steps, shift);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("shift", "shift = " + shift + " gives no usable sigma grid for " + stepsField
                    + " = " + steps + " (" + e.getMessage() + "); expected a shift that keeps the sigmas decreasing");
        }
        int collapsed = collapsedStep(grid);
        if (collapsed >= 0) {
            // blame the step count when even the unshifted grid is too fine for float32, else the shift
            boolean stepsTooMany = collapsedStep(FlowSchedule.shifted(steps, 1.0)) >= 0;
            throw new ConfigException(stepsTooMany ? stepsField : "shift", String.format(Locale.ROOT,
                    "%s = %d with shift = %s puts sigma[%d] = %.6g and sigma[%d] = %.6g at the same float32 value, so two "
                    + "steps are one; expected a %s whose grid keeps %d distinct float32 sigmas",
                    stepsField, steps, shift, collapsed, grid.sigma(collapsed), collapsed + 1, grid.sigma(collapsed + 1),
                    stepsTooMany ? "step count" : "shift", steps + 1));
        }
        return grid;
    }

    private static int collapsedStep(FlowSchedule grid) {
        for (int i = 0; i < grid.steps(); i++) {
            if ((float) grid.sigma(i) <= (float) grid.sigma(i + 1)) return i;
        }
        return -1;
    }

    private static void ddim(TrainConfig c) {
        ddimSteps(c.samplerSteps(), "samplerSteps");
        ddimSteps(c.evalSteps(), "evalSteps");
        DdimSampler ddim;
        try {
            ddim = new DdimSampler(Jobs.betaSchedule(), c.samplerSteps(), c.eta());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("eta", "eta = " + c.eta() + " does not fit the DDIM schedule of samplerSteps = "
                    + c.samplerSteps() + ": " + e.getMessage());
        }
        for (int i = 0; i < ddim.steps(); i++) {
            double s = ddim.sigma(i);
            if (s > 0 && s < MIN_POLICY_STD) {
                throw new ConfigException("eta", String.format(Locale.ROOT, "eta = %s gives a policy std sigma_t = %.3g "
                        + "at step %d, too small for float32 log-probs (sigma_t^2 below %.3g); expected sigma_t >= %.3g",
                        c.eta(), s, i, (double) Float.MIN_NORMAL, MIN_POLICY_STD));
            }
        }
    }

    private static void ddimSteps(int steps, String field) {
        try {
            new DdimSampler(Jobs.betaSchedule(), steps, 0.0);
        } catch (IllegalArgumentException e) {
            int max = 0;
            for (int t = Math.min(steps, Jobs.betaSchedule().trainSteps()); t >= 1 && max == 0; t--) {
                try {
                    new DdimSampler(Jobs.betaSchedule(), t, 0.0);
                    max = t;
                } catch (IllegalArgumentException ignored) {
                    // a smaller count may fit
                }
            }
            throw new ConfigException(field, field + " = " + steps + " does not fit the DDIM schedule of "
                    + Jobs.betaSchedule().trainSteps() + " training timesteps (" + e.getMessage() + "); expected at most " + max);
        }
    }

    // ---------------------------------------------------------------- rewards, prompts, batches

    /** Every reward the spec names is registered. */
    static void rewards(TrainConfig c) {
        List<String> available;
        try {
            available = RewardRegistry.available(Plugins.active().loader());
        } catch (IllegalStateException e) {
            throw new ConfigException("reward", "cannot list the registered rewards: " + e.getMessage(), e);
        }
        for (String name : TrainConfig.parseRewardSpec(c.reward()).keySet()) {
            if (!available.contains(name) && !io.progrpo.reward.HttpReward.isEndpoint(name)) {
                throw new ConfigException("reward", "reward '" + name + "' in '" + c.reward() + "' is not registered; "
                        + "expected one of " + String.join(", ", available));
            }
        }
    }

    /**
     * {@code e} with the registered rewards (plug-ins included) appended when it is about the reward spec and does not
     * list them yet (a spec the grammar refuses, such as an upper-case name); other exceptions unchanged.
     */
    public static ConfigException withRegisteredRewards(ConfigException e) {
        if (!e.field().equals("reward") || e.getMessage().contains("expected one of")) return e;
        List<String> available;
        try {
            available = RewardRegistry.available(Plugins.active().loader());
        } catch (IllegalStateException listing) {
            return e;
        }
        return new ConfigException("reward", e.getMessage() + "; registered rewards: " + String.join(", ", available), e);
    }

    /** An epoch's prompts are distinct train prompts; evaluation takes at most the held-out ones. */
    static void prompts(TrainConfig c, PromptWorld world) {
        prompts(c, world.trainPrompts().size(), world.evalPrompts().size());
    }

    private static void prompts(TrainConfig c, int train, int held) {
        if (c.groupsPerEpoch() > train) {
            throw new ConfigException("groupsPerEpoch", "groupsPerEpoch must be <= " + train + " (the world's train "
                    + "prompts: each group of an epoch has its own prompt), got " + c.groupsPerEpoch());
        }
        if (c.evalPrompts() > held) {
            throw new ConfigException("evalPrompts", "evalPrompts must be <= " + held + " (the world's held-out prompts; "
                    + "0 = all of them), got " + c.evalPrompts());
        }
    }

    /** The built-in rewards copy one batch of images to a Java float array: it must fit one. */
    static void rewardBatch(TrainConfig c, int imageSize) {
        long floats = (long) c.groupsPerEpoch() * c.groupSize() * 3L * imageSize * imageSize;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new ConfigException(c.latentWorld() ? "groupSize" : "imageSize", "groupsPerEpoch x groupSize x 3 x imageSize^2 (the floats of one "
                    + "reward batch, which the built-in rewards copy to the heap) must be at most " + (Integer.MAX_VALUE - 8)
                    + ", got " + c.groupsPerEpoch() + " x " + c.groupSize() + " x 3 x " + imageSize + "^2 = " + floats);
        }
    }

    /** The rewards that read the prompts of one world only. */
    static final List<String> PIXEL_ONLY_REWARDS = List.of("alignment");
    static final List<String> SCENE_ONLY_REWARDS = List.of("scene_preference", "scene_eval");

    /**
     * The method and the rewards suit the world: the latent world's generator predicts velocities (flow methods only);
     * each world's prompt-reading rewards parse only that world's prompts.
     */
    static void world(TrainConfig c) {
        boolean latent = c.latentWorld();
        if (latent && Method.byName(c.method()).isDiffusion()) {
            throw new ConfigException("world", "world '" + c.world() + "' trains flow methods (its generator predicts "
                    + "velocities), but method '" + c.method() + "' samples with DDIM an epsilon model; expected world=pixel "
                    + "for " + c.method() + ", or a flow method (flow-grpo, pro-grpo, ...)");
        }
        List<String> wrong = latent ? PIXEL_ONLY_REWARDS : SCENE_ONLY_REWARDS;
        for (String name : TrainConfig.parseRewardSpec(c.reward()).keySet()) {
            if (wrong.contains(name)) {
                throw new ConfigException("reward", "reward '" + name + "' reads the prompts of the " + (latent ? "pixel" : "scene")
                        + " world, but world is '" + c.world() + "'; expected " + (latent ? "scene_preference (the learned reward) "
                        + "or scene_eval" : "alignment, or world=latent for the scene rewards"));
            }
        }
    }

    // ---------------------------------------------------------------- device and files

    /**
     * A CUDA device exists: libtorch was built with CUDA, sees a device, and has this index. Skipped when libtorch
     * cannot be loaded at all (the run reports that itself, naming what to install).
     */
    public static void device(String device) {
        if (!device.startsWith("cuda")) return;
        int index = device.equals("cuda") ? 0 : Integer.parseInt(device.substring("cuda:".length()));
        boolean built;
        try {
            built = Torch.builtWithCuda();
        } catch (TorchUnavailableException e) {
            return;
        }
        String torch = "libtorch " + Torch.version() + Torch.shimPath().map(p -> " (shim " + p + ")").orElse("");
        if (!built) {
            throw new ConfigException("device", "device '" + device + "' needs a CUDA build of libtorch, but " + torch
                    + " is CPU-only; expected device=cpu here, or a shim built against CUDA libtorch (scripts/gpu-bundle)");
        }
        int count = Torch.cudaAvailable() ? Torch.cudaDeviceCount() : 0;
        if (count == 0) {
            throw new ConfigException("device", "device '" + device + "' needs a CUDA device, but " + torch
                    + " sees none (no driver, or CUDA_VISIBLE_DEVICES hides them); expected device=cpu");
        }
        if (index >= count) {
            throw new ConfigException("device", "device '" + device + "' does not exist: " + torch + " sees " + count
                    + " CUDA device" + (count == 1 ? "" : "s") + ", expected cuda:0" + (count == 1 ? "" : " .. cuda:" + (count - 1)));
        }
    }

    /** The run directory is a directory or can become one. */
    static void outDir(TrainConfig c) {
        Path out = Path.of(c.outDir());
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new ConfigException("outDir", "outDir must be a directory, but '" + c.outDir() + "' exists and is a file");
        }
        for (Path p = out.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new ConfigException("outDir", "outDir '" + c.outDir() + "' cannot be created: " + p + " is a file");
            }
        }
    }

    /** The base-model cache ({@link Jobs#cacheDir()}) is a directory or can become one. */
    static void cacheDir() {
        Path dir = Jobs.cacheDir();
        String source = System.getProperty("progrpo.cache") != null ? "progrpo.cache"
                : System.getenv("PROGRPO_CACHE") != null ? "PROGRPO_CACHE" : "cache";
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ConfigException(source, "the base-model cache " + dir + " (" + (source.equals("cache")
                    ? "the default" : "from " + source) + ") must be a directory, but it is a file");
        }
    }
}
