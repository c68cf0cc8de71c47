package io.progrpo.world.scene.reward;

import io.progrpo.world.model.CachedWeights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Trained scene reward models, cached on disk as {@code io.progrpo.world.model.BaseModels} caches base generators:
 * a torch-format state dict named {@code scene-reward-<hash>.pt}, the hash over the model config, the options that
 * define the weights ({@link RewardTrainOptions#identity()}) and a format version; the file holds the hash too under
 * {@value #FINGERPRINT}, so a file copied under another name is not trusted. An absent, unreadable, foreign or
 * non-finite file is (re)trained, with a log line saying why; a run stopped by the time bound is returned but not
 * cached.
 */
public final class RewardModels {
    public static final String FINGERPRINT = CachedWeights.FINGERPRINT;
    private static final int FORMAT_VERSION = 1;

    private RewardModels() {
    }

    /** The cache directory of the CLI and the demo: -Dprogrpo.cache, else $PROGRPO_CACHE, else ~/.cache/progrpo. */
    public static Path defaultCacheDir() {
        String p = System.getProperty("progrpo.cache");
        if (p == null) p = System.getenv("PROGRPO_CACHE");
        if (p != null && !p.isBlank()) return Path.of(p);
        return Path.of(System.getProperty("user.home"), ".cache", "progrpo");
    }

    /**
     * The model of this config and recipe: loaded from {@code cacheDir} when a valid file is there, else trained
     * (deterministic in {@code o.seed()}) and saved. On the CPU, in float32, in eval mode.
     *
     * @throws UncheckedIOException when the file cannot be written
     */
    public static SceneRewardModel loadOrTrain(Path cacheDir, RewardModelConfig cfg, RewardTrainOptions o, Consumer<String> log) {
        return loadOrTrain(cacheDir, cfg, o, null, log);
    }

    /**
     * {@link #loadOrTrain(Path, RewardModelConfig, RewardTrainOptions, Consumer)} for a recipe that may augment through
     * an autoencoder round trip: the round trip's {@link ImageRoundTrip#identity()} is then part of the cache key (other
     * weights, another file).
     *
     * @param roundTrip required when {@link RewardTrainOptions#needsRoundTrip()}, else ignored (may be null)
     */
    public static SceneRewardModel loadOrTrain(Path cacheDir, RewardModelConfig cfg, RewardTrainOptions o, ImageRoundTrip roundTrip,
                                               Consumer<String> log) {
        if (cacheDir == null || cfg == null || o == null) {
            throw new IllegalArgumentException("loadOrTrain needs a cache dir, a config and options, got " + cacheDir + ", " + cfg + ", " + o);
        }
        if (o.needsRoundTrip() && roundTrip == null) {
            throw new IllegalArgumentException("the recipe augments through an autoencoder round trip (" + o.augmentation() + "); pass one");
        }
        Consumer<String> out = log == null ? s -> { } : log;
        byte[] hash = hash(cfg, o, roundTrip);
        Path file = cachePath(cacheDir, cfg, o, roundTrip);
        SceneRewardModel m = new SceneRewardModel(cfg, o.seed());
        try {
            if (Files.exists(file)) {
                String why = tryLoad(m, file, hash);
                if (why == null) {
                    out.accept("loaded the scene reward model from " + file);
                    m.eval();
                    return m;
                }
                out.accept("scene reward model cache " + file + " is invalid (" + why + "): retraining it");
                m.close();
                m = new SceneRewardModel(cfg, o.seed());
            } else {
                out.accept("no scene reward model cached at " + file + ": training one");
            }
            RewardModelTrainer.Result r = RewardModelTrainer.train(m, o, roundTrip, out);
            if (r.stoppedByTime()) {
                out.accept("not caching the scene reward model: the time bound stopped it after " + r.steps() + " of " + o.steps() + " steps");
                return m;
            }
            Files.createDirectories(cacheDir);
            save(m, file, hash);
            out.accept("saved the scene reward model to " + file);
            return m;
        } catch (IOException e) {
            m.close();
            throw new UncheckedIOException("cannot write the scene reward model " + file, e);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Where the model of these arguments is cached (a recipe without a round trip). */
    public static Path cachePath(Path cacheDir, RewardModelConfig cfg, RewardTrainOptions o) {
        return cachePath(cacheDir, cfg, o, null);
    }

    /** Where the model of these arguments is cached; {@code roundTrip} counts only when the recipe uses one. */
    public static Path cachePath(Path cacheDir, RewardModelConfig cfg, RewardTrainOptions o, ImageRoundTrip roundTrip) {
        return cacheDir.resolve("scene-reward-" + HexFormat.of().formatHex(hash(cfg, o, roundTrip), 0, 8) + ".pt");
    }

    private static String tryLoad(SceneRewardModel m, Path file, byte[] hash) {
        return CachedWeights.tryLoad(file, hash, state -> {
            m.loadStateDict(state, true);
            return null;
        });
    }

    private static void save(SceneRewardModel m, Path file, byte[] hash) throws IOException {
        CachedWeights.save(file, m.stateDict(), hash);
    }


    private static byte[] hash(RewardModelConfig cfg, RewardTrainOptions o, ImageRoundTrip roundTrip) {
        if (o.needsRoundTrip() && roundTrip == null) throw new IllegalArgumentException("the recipe needs a round trip for its cache key, got null");
        String key = "scene-reward v" + FORMAT_VERSION + "|" + cfg + "|" + o.identity() + (o.needsRoundTrip() ? "|roundTrip=" + roundTrip.identity() : "");
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
