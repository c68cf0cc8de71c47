package io.progrpo.world.model;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the world's caches of trained weights share (the base models, the scene reward model, the latent world's
 * autoencoder and generator): a file carries the hash of what defined its weights under {@link #FINGERPRINT}, so a
 * file copied under another name is not trusted, and holds finite values only. The file's bytes are checked against
 * their SHA-256 beside it by {@link io.progrpo.tensor.files.Manifest} before this is asked.
 */
public final class CachedWeights {
    /** The state-dict entry holding a checkpoint's identity hash (int64, 4 values). */
    public static final String FINGERPRINT = "progrpo.fingerprint";

    private CachedWeights() {}

    /** The first 32 bytes of {@code hash} as the 4 int64 values stored under {@link #FINGERPRINT}. */
    public static long[] fingerprint(byte[] hash) {
        ByteBuffer bb = ByteBuffer.wrap(hash);
        return new long[] {bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong()};
    }

    /**
     * Null when {@code fp} (the removed {@link #FINGERPRINT} entry, null if absent) is {@code hash}'s fingerprint and
     * every tensor of {@code state} is finite; otherwise why the file is not trusted. Closes nothing.
     */
    public static String check(Map<String, Tensor> state, Tensor fp, byte[] hash) {
        if (fp == null) return "no " + FINGERPRINT + " entry";
        if (fp.dtype() != DType.INT64 || !Arrays.equals(fp.toLongArray(), fingerprint(hash))) {
            return "its fingerprint is not this config's";
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            try {
                Functional.requireFinite(e.getValue(), "parameter '" + e.getKey() + "'");
            } catch (IllegalArgumentException bad) {
                return bad.getMessage();
            }
        }
        return null;
    }

    /** Puts a checked state into its model(s): null when it took, otherwise why not. */
    @FunctionalInterface
    public interface Apply {
        /**
         * @param state the file's tensors without the fingerprint; the map may be changed (entries removed), its
         *              tensors are closed by {@link #tryLoad} after this returns
         * @return null when the state was taken, otherwise why not
         */
        String apply(Map<String, Tensor> state);
    }

    /**
     * Loads {@code file}, checks its fingerprint against {@code hash} and its values for finiteness ({@link #check}),
     * then hands the rest to {@code apply}. Null on success, otherwise why the file cannot be used (unreadable, not
     * this config's, a non-finite value, or what {@code apply} or the model's strict load said). Every tensor read is
     * closed before this returns, on every path.
     */
    public static String tryLoad(Path file, byte[] hash, Apply apply) {
        Map<String, Tensor> state;
        try {
            state = TensorIO.load(file);
        } catch (IOException | RuntimeException e) {
            return "unreadable: " + e.getMessage();
        }
        List<Tensor> read = new ArrayList<>(state.values());
        Tensor fp = state.remove(FINGERPRINT);
        try (Scope checks = Scope.open()) {
            String why = check(state, fp, hash);
            if (why != null) return why;
            try {
                return apply.apply(state);
            } catch (RuntimeException bad) {
                return bad.getMessage();
            }
        } finally {
            read.forEach(Tensor::close);
        }
    }

    /**
     * Writes {@code state} with {@code hash}'s fingerprint to {@code file} through a temporary file moved into place,
     * so a killed process leaves the old file or none, never half of one. The caller keeps ownership of the state's
     * tensors (they must be on the CPU).
     */
    public static void save(Path file, Map<String, Tensor> state, byte[] hash) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (Scope scope = Scope.open()) {
            Map<String, Tensor> withFingerprint = new LinkedHashMap<>(state);
            withFingerprint.put(FINGERPRINT, Tensor.of(fingerprint(hash), 4));
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            TensorIO.save(tmp, withFingerprint);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
