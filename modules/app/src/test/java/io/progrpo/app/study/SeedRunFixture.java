package io.progrpo.app.study;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Finished runs on disk for the tests of {@link SeedRun}, {@link SeedGains} and {@code progrpo gains}. */
public final class SeedRunFixture {
    private SeedRunFixture() {}

    /** A run with the base eval {@code base} and {@code evals} (epoch to eval reward), written as a demo writes it. */
    public static Path write(Path dir, String method, long seed, double base, Map<Integer, Double> evals) throws IOException {
        return write(dir, method, seed, base, evals, null);
    }

    /**
     * As {@link #write(Path, String, long, double, Map)}, and where {@code ema} is not null the moving average's eval
     * reward ({@code eval_ema.reward}) beside every raw evaluation that {@code ema} has an epoch for.
     */
    public static Path write(Path dir, String method, long seed, double base, Map<Integer, Double> evals, Map<Integer, Double> ema)
            throws IOException {
        Files.createDirectories(dir.resolve("checkpoint"));
        Files.writeString(dir.resolve("checkpoint/config.json"), "{\"method\":\"" + method + "\",\"seed\":" + seed + ",\"epochs\":12}");
        StringBuilder m = new StringBuilder("{\"epoch\":-1,\"method\":\"" + method + "\",\"eval_reward\":" + base + "}\n");
        for (int e = 0; e <= new TreeMap<>(evals).lastKey(); e++) {
            m.append("{\"epoch\":").append(e).append(",\"method\":\"").append(method).append("\",\"reward_mean\":-1.5,\"nfe_sampling\":100,\"nfe_training\":" + (10 + e));
            if (evals.containsKey(e)) m.append(",\"eval_reward\":").append(evals.get(e));
            if (ema != null && ema.containsKey(e)) m.append(",\"eval_ema\":{\"reward\":").append(ema.get(e)).append(",\"decay\":0.9}");
            m.append("}\n");
        }
        Files.writeString(dir.resolve("metrics.jsonl"), m);
        return dir;
    }

}
