package io.progrpo.app;

import io.progrpo.app.job.Jobs;
import io.progrpo.app.job.LatentJobs;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.LatentModels;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.latent.SceneWorldScenes;
import io.progrpo.world.scene.reward.RewardModelConfig;
import io.progrpo.world.scene.reward.RewardModels;
import io.progrpo.world.scene.reward.SceneRewardModel;
import io.progrpo.world.scene.reward.ScenePreferenceReward;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A first run's pretraining with the learned reward trained beside the world's models. The reward model needs neither
 * the autoencoder nor the generator, so when neither it nor the generator is cached, a child JVM trains the reward
 * at one intra-op thread while this JVM pretrains the world at its own. Both keep their recipes and seeds; the reward
 * runs at one thread instead of this JVM's count, so its weights may differ from a sequential run's by the float
 * rounding of reductions (the default recipe's final loss is 0.3439 at one thread and at two).
 *
 * <p>Measured on a 2-core VM (docs/benchmarks.md, session 12): the reward's 1000 steps took 67.0 s alone at one
 * thread and 76.9 s beside the generator. The generator slowed from about 183 to 309 ms per step while both ran.
 *
 * <p>Nothing is lost when the child fails: its exit status and last line are logged, and the job that follows trains
 * the reward in this JVM as before. When this JVM's pretraining fails, the child is stopped before the error
 * propagates. Used by the demo ({@code scripts/demo}); the other commands pretrain one model after the other.
 *
 * <p>As a program ({@code ParallelPretraining CONFIG.json}) it is the child: it trains (or finds) the config's reward
 * model in the job cache and exits 0, or exits 1 with the reason on stderr.
 */
public final class ParallelPretraining {
    /** {@code -Dprogrpo.parallelPretraining=false} (through {@code PROGRPO_JAVA_OPTS}) pretrains one model after the other. */
    static final String PROPERTY = "progrpo.parallelPretraining";

    private ParallelPretraining() {}

    /**
     * Whether {@link #run} would train the reward beside the world: a latent world whose reward includes the learned
     * model, on the CPU of a machine with two cores or more, with neither the reward model nor the generator cached,
     * unless {@link #PROPERTY} is false.
     */
    static boolean applies(TrainConfig c, int cores, Path cacheDir) {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) return false;
        if (!c.latentWorld() || cores < 2 || Device.parse(c.device()).isCuda()) return false;
        if (!io.progrpo.reward.MultiReward.parseWeights(c.reward()).containsKey(ScenePreferenceReward.NAME)) return false;
        Path generator = LatentModels.generatorCachePath(cacheDir, LatentJobs.latentConfig(c, new SceneWorldScenes()),
                new SceneWorldScenes());
        return !Files.exists(rewardFile(c, cacheDir)) && !Files.exists(generator);
    }

    /** The reward model's checkpoint in the cache, for this config's recipe. */
    private static Path rewardFile(TrainConfig c, Path cacheDir) {
        return RewardModels.cachePath(cacheDir, RewardModelConfig.DEFAULT, LatentJobs.rewardTraining(c));
    }

    /**
     * Pretrains the world's models here and, when {@link #applies}, the reward model in a child JVM at the same time;
     * returns when both are done. Does nothing when it does not apply: the job then pretrains what is missing itself.
     *
     * @return whether the child trained the reward model (false: it did not apply or the child failed)
     */
    static boolean run(TrainConfig c, int cores, Consumer<String> log) throws IOException, InterruptedException {
        Path cacheDir = Jobs.cacheDir();
        if (!applies(c, cores, cacheDir)) return false;
        Path configFile = Files.createTempFile("progrpo-reward-pretraining", ".json");
        Files.writeString(configFile, c.toJson());
        List<String> cmd = new ArrayList<>(DemoRuns.childJvm(1));
        if (DemoRuns.modular()) cmd.addAll(List.of("-m", ParallelPretraining.class.getModule().getName() + "/" + ParallelPretraining.class.getName()));
        else cmd.add(ParallelPretraining.class.getName());
        cmd.add(configFile.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        log.accept("pretraining the reward model in a second JVM (1 thread) beside the world's models");
        Process p = pb.start();
        // a JVM stopped by a signal runs no finally block: the hook stops the child then
        Thread reaper = new Thread(p::destroyForcibly, "reward-pretraining-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        String[] last = {""};
        Thread relay = Thread.ofPlatform().daemon().name("reward-pretraining-log").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    last[0] = line;
                    log.accept("  reward | " + line);
                }
            } catch (IOException e) {
                log.accept("  reward | (its output could not be read: " + e.getMessage() + ")");
            }
        });
        try {
            SceneWorldScenes scenes = new SceneWorldScenes();
            LatentWorld.loadOrPretrain(cacheDir, LatentJobs.latentConfig(c, scenes), scenes, Device.parse(c.device()), log).close();
            int rc = p.waitFor();
            relay.join();
            if (rc == 0 && Files.isRegularFile(rewardFile(c, cacheDir))) return true;
            log.accept("the reward model's pretraining in the second JVM failed (exit " + rc + ": " + last[0]
                    + "); it is trained here instead");
            return false;
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor();
            }
            Files.deleteIfExists(configFile);
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    /** The child: trains or loads the reward model of the config given as a JSON file. */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: ParallelPretraining CONFIG.json; got " + args.length + " arguments");
            System.exit(2);
        }
        try {
            Torch.ensureAvailable();
            TrainConfig c = TrainConfig.fromJsonFile(Path.of(args[0]));
            try (SceneRewardModel m = RewardModels.loadOrTrain(Jobs.cacheDir(), RewardModelConfig.DEFAULT, LatentJobs.rewardTraining(c),
                    s -> {
                        System.out.println(s);
                        System.out.flush();
                    })) {
                System.out.println("reward model ready: " + rewardFile(c, Jobs.cacheDir()).getFileName());
            }
            System.exit(0);
        } catch (Exception | LinkageError e) {
            System.err.println("reward pretraining failed: " + e);
            System.exit(1);
        }
    }
}
