package io.progrpo.world.latent;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;
import io.progrpo.world.model.CachedWeights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The latent world's pretrained models, owned together: the autoencoder, the text encoder and the generator (which
 * borrows the text encoder). {@link #loadOrPretrain} caches them as two torch-format files, as
 * {@code io.progrpo.world.model.BaseModels} does: {@code latent-vae-<hash>.pt} (the autoencoder and its latent
 * scaling; the hash covers its config, its training options, the scene source's identity, the training prompts and a
 * format version) and {@code latent-gen-<hash>.pt} (text encoder under {@code text.}, generator under {@code flow.};
 * its hash covers the autoencoder's hash too, so a retrained autoencoder retrains the generator). Each file holds its
 * own hash under {@value #FINGERPRINT}, so a file copied under another name is not trusted; an absent, unreadable,
 * mismatched or non-finite file is regenerated with a log line saying why.
 */
public final class LatentModels implements AutoCloseable {
    /** The state-dict entry holding a checkpoint's identity hash (int64, 4 values). */
    public static final String FINGERPRINT = CachedWeights.FINGERPRINT;
    static final String SHIFT = "latent.shift";
    static final String SCALE = "latent.scale";
    private static final int FORMAT_VERSION = 1;

    private final LatentConfig config;
    private final LatentAutoencoder autoencoder;
    private final TextEncoder text;
    private final LatentFlowTransformer generator;
    private boolean closed;

    private LatentModels(LatentConfig config, LatentAutoencoder autoencoder, TextEncoder text, LatentFlowTransformer generator) {
        this.config = config;
        this.autoencoder = autoencoder;
        this.text = text;
        this.generator = generator;
    }

    /** Freshly initialised (untrained) models on {@code device}, seeded by the training options' seeds. */
    public static LatentModels fresh(LatentConfig cfg, Device device) {
        if (cfg == null || device == null) throw new IllegalArgumentException("fresh needs a config and a device, got " + cfg + ", " + device);
        LatentAutoencoder ae = new LatentAutoencoder(cfg.autoencoder(), cfg.autoencoderTraining().seed());
        TextEncoder te = new TextEncoder(cfg.text(), cfg.generatorTraining().seed() + 1);
        LatentFlowTransformer g = new LatentFlowTransformer(cfg.generator(), te, cfg.generatorTraining().seed());
        LatentModels m = new LatentModels(cfg, ae, te, g);
        m.to(device);
        return m;
    }

    /**
     * The pretrained models for {@code cfg} on {@code scenes} (trained on its train prompts), on {@code device} in
     * float32: loaded from {@code cacheDir} when valid checkpoints are there, otherwise pretrained (autoencoder first,
     * then generator and text encoder) and saved. A generator run stopped by its {@code maxSeconds} is returned but
     * not cached.
     *
     * @throws UncheckedIOException when a checkpoint cannot be written
     */
    public static LatentModels loadOrPretrain(Path cacheDir, LatentConfig cfg, SceneSource scenes, Device device, Consumer<String> log) {
        if (cacheDir == null || cfg == null || scenes == null || device == null) {
            throw new IllegalArgumentException("loadOrPretrain needs a cache dir, a config, a scene source and a device, got "
                    + cacheDir + ", " + cfg + ", " + scenes + ", " + device);
        }
        Consumer<String> out = log == null ? s -> { } : log;
        byte[] aeHash = autoencoderHash(cfg, scenes);
        byte[] genHash = generatorHash(cfg, scenes);
        Path aeFile = cacheDir.resolve("latent-vae-" + HexFormat.of().formatHex(aeHash, 0, 8) + ".pt");
        Path genFile = cacheDir.resolve("latent-gen-" + HexFormat.of().formatHex(genHash, 0, 8) + ".pt");
        LatentModels m = fresh(cfg, device);
        try {
            String why = Files.exists(aeFile) ? tryLoad(aeFile, aeHash, Map.of("", m.autoencoder), m.autoencoder) : "absent";
            if (why == null) {
                out.accept("loaded the latent autoencoder from " + aeFile);
            } else {
                out.accept("latent autoencoder cache " + aeFile + " is " + (why.equals("absent") ? "absent" : "invalid (" + why + ")")
                        + ": pretraining it");
                LatentPretraining.trainAutoencoder(m.autoencoder, scenes, cfg.autoencoderTraining(), out);
                save(aeFile, aeHash, Map.of("", m.autoencoder), m.autoencoder);
                out.accept("saved the latent autoencoder to " + aeFile);
            }
            m.autoencoder.requiresGrad(false).eval();
            Map<String, Module> genParts = new LinkedHashMap<>();
            genParts.put("text.", m.text);
            genParts.put("flow.", m.generator);
            why = Files.exists(genFile) ? tryLoad(genFile, genHash, genParts, null) : "absent";
            if (why == null) {
                out.accept("loaded the latent generator and text encoder from " + genFile);
            } else {
                out.accept("latent generator cache " + genFile + " is " + (why.equals("absent") ? "absent" : "invalid (" + why + ")")
                        + ": pretraining it");
                LatentPretraining.Result r = LatentPretraining.trainGenerator(m.generator, m.autoencoder, scenes, cfg.generatorTraining(), out);
                if (r.stoppedByTime()) {
                    out.accept("not caching the latent generator: the time bound stopped it after " + r.steps() + " of "
                            + cfg.generatorTraining().steps() + " steps");
                } else {
                    save(genFile, genHash, genParts, null);
                    out.accept("saved the latent generator and text encoder to " + genFile);
                }
            }
            m.text.requiresGrad(false).eval();
            m.generator.requiresGrad(false).eval();
            return m;
        } catch (IOException e) {
            m.close();
            throw new UncheckedIOException("cannot write a latent world checkpoint in " + cacheDir, e);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * The pretrained autoencoder alone (what the reward model's round-trip augmentation needs): loaded from the same
     * file {@link #loadOrPretrain} uses, else pretrained and saved there; frozen, in eval mode, float32 on {@code device}.
     *
     * @throws UncheckedIOException when the checkpoint cannot be written
     */
    public static LatentAutoencoder loadOrPretrainAutoencoder(Path cacheDir, LatentConfig cfg, SceneSource scenes, Device device,
                                                              Consumer<String> log) {
        if (cacheDir == null || cfg == null || scenes == null || device == null) {
            throw new IllegalArgumentException("loadOrPretrainAutoencoder needs a cache dir, a config, a scene source and a device, got "
                    + cacheDir + ", " + cfg + ", " + scenes + ", " + device);
        }
        Consumer<String> out = log == null ? s -> { } : log;
        byte[] aeHash = autoencoderHash(cfg, scenes);
        Path aeFile = autoencoderCachePath(cacheDir, cfg, scenes);
        LatentAutoencoder ae = new LatentAutoencoder(cfg.autoencoder(), cfg.autoencoderTraining().seed(), device);
        try {
            String why = Files.exists(aeFile) ? tryLoad(aeFile, aeHash, Map.of("", ae), ae) : "absent";
            if (why == null) {
                out.accept("loaded the latent autoencoder from " + aeFile);
            } else {
                out.accept("latent autoencoder cache " + aeFile + " is " + (why.equals("absent") ? "absent" : "invalid (" + why + ")")
                        + ": pretraining it");
                LatentPretraining.trainAutoencoder(ae, scenes, cfg.autoencoderTraining(), out);
                save(aeFile, aeHash, Map.of("", ae), ae);
                out.accept("saved the latent autoencoder to " + aeFile);
            }
            ae.requiresGrad(false).eval();
            return ae;
        } catch (IOException e) {
            ae.close();
            throw new UncheckedIOException("cannot write a latent world checkpoint in " + cacheDir, e);
        } catch (RuntimeException e) {
            ae.close();
            throw e;
        }
    }

    /** The autoencoder's identity for other caches' keys: the hex of the hash its checkpoint is keyed and fingerprinted by. */
    public static String autoencoderIdentity(LatentConfig cfg, SceneSource scenes) {
        return "latent-vae-" + HexFormat.of().formatHex(autoencoderHash(cfg, scenes));
    }

    /** The autoencoder's checkpoint file for these arguments. */
    public static Path autoencoderCachePath(Path cacheDir, LatentConfig cfg, SceneSource scenes) {
        return cacheDir.resolve("latent-vae-" + HexFormat.of().formatHex(autoencoderHash(cfg, scenes), 0, 8) + ".pt");
    }

    /** The generator's (and text encoder's) checkpoint file for these arguments. */
    public static Path generatorCachePath(Path cacheDir, LatentConfig cfg, SceneSource scenes) {
        return cacheDir.resolve("latent-gen-" + HexFormat.of().formatHex(generatorHash(cfg, scenes), 0, 8) + ".pt");
    }

    public LatentConfig config() {
        return config;
    }

    public LatentAutoencoder autoencoder() {
        return autoencoder;
    }

    public TextEncoder textEncoder() {
        return text;
    }

    public LatentFlowTransformer generator() {
        return generator;
    }

    /** Moves every model to {@code device} in float32 (build policies and optimizers afterwards). */
    public LatentModels to(Device device) {
        return to(device, DType.FLOAT32);
    }

    /**
     * Moves every model to {@code device}, the text encoder and the generator in {@code dtype} (float32 or bfloat16;
     * they return float32 velocities either way), the autoencoder in float32. Build policies and optimizers afterwards.
     */
    public LatentModels to(Device device, DType dtype) {
        if (device == null || dtype == null || !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("models move to a device and a floating-point dtype, got " + device + ", " + dtype);
        }
        autoencoder.to(device, DType.FLOAT32);
        text.to(device, dtype);
        generator.to(device, dtype);
        return this;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        generator.close();
        text.close();
        autoencoder.close();
    }

    /** Loads the file into the parts (by prefix); null on success, otherwise why it cannot be used. */
    private static String tryLoad(Path file, byte[] hash, Map<String, Module> parts, LatentAutoencoder scaled) {
        return CachedWeights.tryLoad(file, hash, state -> {
            Tensor shift = state.remove(SHIFT);
            Tensor scale = state.remove(SCALE);
            for (Map.Entry<String, Module> part : parts.entrySet()) {
                Map<String, Tensor> sub = new LinkedHashMap<>();
                state.forEach((k, v) -> {
                    if (k.startsWith(part.getKey())) sub.put(k.substring(part.getKey().length()), v);
                });
                part.getValue().loadStateDict(sub, true);
            }
            if (scaled != null) {
                if (shift == null || scale == null) return "no " + SHIFT + " / " + SCALE + " entries";
                scaled.setLatentScaling(shift.item(), scale.item());
            }
            return null;
        });
    }

    private static void save(Path file, byte[] hash, Map<String, Module> parts, LatentAutoencoder scaled) throws IOException {
        try (Scope scope = Scope.open()) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            parts.forEach((prefix, m) -> m.stateDict().forEach((k, t) ->
                    state.put(prefix + k, t.device().equals(Device.CPU) ? t : t.detach().to(Device.CPU))));
            if (scaled != null) {
                state.put(SHIFT, Tensor.of(new double[] {scaled.shiftFactor()}, 1));
                state.put(SCALE, Tensor.of(new double[] {scaled.scalingFactor()}, 1));
            }
            CachedWeights.save(file, state, hash);
        }
    }


    static byte[] autoencoderHash(LatentConfig cfg, SceneSource scenes) {
        StringBuilder key = new StringBuilder("latent-vae v").append(FORMAT_VERSION).append('|').append(cfg.autoencoder())
                .append('|').append(cfg.autoencoderTraining().identity()).append('|').append(scenes.identity()).append('|');
        for (String p : scenes.trainPrompts()) key.append(p).append(';');
        return sha256(key.toString());
    }

    static byte[] generatorHash(LatentConfig cfg, SceneSource scenes) {
        StringBuilder key = new StringBuilder("latent-gen v").append(FORMAT_VERSION).append('|')
                .append(HexFormat.of().formatHex(autoencoderHash(cfg, scenes))).append('|').append(cfg.text()).append('|')
                .append(cfg.generator()).append('|').append(cfg.generatorTrainingIdentity()).append('|').append(scenes.identity()).append('|');
        for (String p : scenes.trainPrompts()) key.append(p).append(';');
        return sha256(key.toString());
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
