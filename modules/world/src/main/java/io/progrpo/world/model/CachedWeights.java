package io.progrpo.world.model;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Functional;
import io.progrpo.tensor.Tensor;

import java.nio.ByteBuffer;
import java.util.Arrays;
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
}
