package io.progrpo.world.model;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.files.Manifest;
import io.progrpo.world.Prompt;
import io.progrpo.world.PromptSet;
import io.progrpo.world.Renderer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The pretrained base generators of the world, cached on disk: pretraining costs minutes, loading milliseconds.
 *
 * <p>A checkpoint is a torch-format state dict ({@link TensorIO}) named {@code world-base-<hash>.pt}, where the hash
 * covers the model config, the options that define the weights ({@link PretrainOptions} minus its time bound and
 * logging), the prompt list and a format version. The file also holds the hash itself under {@value #FINGERPRINT},
 * so a file copied under the wrong name is not trusted. Beside it, {@code world-base-<hash>.pt.sha256} records the
 * file's SHA-256 ({@code sha256sum} format, written after the file): a file whose bytes changed after it was written
 * (a flipped bit, a truncation) is not loaded. A file that is absent, has no or another digest, is unreadable, is from
 * another config or holds non-finite values is (re)generated, with a log line saying why (for a digest: both values).
 */
public final class BaseModels {
    /** The state-dict entry holding the checkpoint's identity hash (int64, 4 values). */
    public static final String FINGERPRINT = CachedWeights.FINGERPRINT;
    private static final int FORMAT_VERSION = 1;

    private BaseModels() {}

    /** The base model pretrained on every prompt of the world ({@link PromptSet#all()}), on the CPU in float32. */
    public static WorldModel loadOrPretrain(Path cacheDir, WorldModelConfig cfg, PretrainOptions o, Consumer<String> log) {
        return loadOrPretrain(cacheDir, cfg, o, PromptSet.all(), log);
    }

    /**
     * The base model pretrained on {@code prompts}: loaded from {@code cacheDir} when a valid checkpoint is there,
     * otherwise pretrained (seeded by {@code o.seed()}, so a regenerated file holds the same weights up to a time
     * bound) and saved. A run stopped by {@code o.maxSeconds()} is returned but not cached, since its weights depend
     * on the machine's speed.
     *
     * @throws UncheckedIOException when the checkpoint cannot be written
     */
    public static WorldModel loadOrPretrain(Path cacheDir, WorldModelConfig cfg, PretrainOptions o, List<Prompt> prompts,
                                            Consumer<String> log) {
        return loadOrPretrain(cacheDir, cfg, o, prompts, Device.CPU, log);
    }

    /**
     * As {@link #loadOrPretrain(Path, WorldModelConfig, PretrainOptions, List, Consumer)}, with the model (and its
     * pretraining) on {@code device}, in float32. It is initialised on the CPU and its noise drawn there, so the
     * run is the same computation on every device; the checkpoint is always saved from CPU copies.
     */
    public static WorldModel loadOrPretrain(Path cacheDir, WorldModelConfig cfg, PretrainOptions o, List<Prompt> prompts,
                                            Device device, Consumer<String> log) {
        if (device == null) throw new IllegalArgumentException("device must not be null");
        if (cacheDir == null || cfg == null || o == null || prompts == null) {
            throw new IllegalArgumentException("loadOrPretrain needs a cache dir, a config, options and prompts, got "
                    + cacheDir + ", " + cfg + ", " + o + ", " + prompts);
        }
        Consumer<String> out = log == null ? s -> { } : log;
        byte[] hash = hash(cfg, o, prompts);
        Path file = cachePath(cacheDir, cfg, o, prompts);
        WorldModel m = new WorldModel(cfg, o.seed());
        try {
            if (Files.exists(file)) {
                String why = Manifest.verifySidecar(file);
                if (why == null) why = tryLoad(m, file, hash);
                if (why == null) {
                    out.accept("loaded the base world model from " + file);
                    m.to(device, DType.FLOAT32);
                    return m;
                }
                out.accept("base world model cache " + file + " is invalid (" + why + "): regenerating it");
                m.close();
                m = new WorldModel(cfg, o.seed());
            } else {
                out.accept("no base world model cached at " + file + ": pretraining one");
            }
            m.to(device, DType.FLOAT32);
            PretrainResult r = Pretrainer.pretrain(m, prompts, new Renderer(cfg.imageSize(), cfg.imageSize()), o, out);
            if (r.stoppedByTime()) {
                out.accept("not caching the base world model: the time bound stopped it after " + r.steps() + " of " + o.steps() + " steps");
                return m;
            }
            save(m, file, hash);
            out.accept("saved the base world model to " + file);
            return m;
        } catch (IOException e) {
            m.close();
            throw new UncheckedIOException("cannot write the base world model checkpoint " + file, e);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Where the checkpoint for these arguments lives. */
    public static Path cachePath(Path cacheDir, WorldModelConfig cfg, PretrainOptions o, List<Prompt> prompts) {
        byte[] h = hash(cfg, o, prompts);
        return cacheDir.resolve("world-base-" + HexFormat.of().formatHex(h, 0, 8) + ".pt");
    }

    /** Loads the checkpoint into {@code m}; null on success, otherwise why it cannot be used. */
    private static String tryLoad(WorldModel m, Path file, byte[] hash) {
        return CachedWeights.tryLoad(file, hash, state -> {
            m.loadStateDict(state, true);
            return null;
        });
    }

    /** The weights (moved to the CPU where they are elsewhere) with their fingerprint, then the checksum beside them. */
    private static void save(WorldModel m, Path file, byte[] hash) throws IOException {
        try (Scope scope = Scope.open()) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            m.stateDict().forEach((k, t) -> state.put(k, t.device().equals(Device.CPU) ? t : t.detach().to(Device.CPU)));
            CachedWeights.save(file, state, hash);
        }
        Manifest.writeSidecar(file);
    }


    private static byte[] hash(WorldModelConfig cfg, PretrainOptions o, List<Prompt> prompts) {
        StringBuilder key = new StringBuilder("world-base v").append(FORMAT_VERSION).append('|').append(cfg).append('|')
                .append(o.identity()).append('|');
        for (Prompt p : prompts) key.append(p.text()).append(';');
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.toString().getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
