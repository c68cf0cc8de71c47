package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.tensor.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The one epoch path keeps the numbers of the two it replaced: {@link EpochGoldenMain} runs short jobs of four methods
 * in one process (the EPOCH_STREAM seeding: one batched sampling run of all groups) and two one-rank data-parallel
 * jobs (PER_GROUP seeding) in a fresh JVM with one intra-op thread, and every non-timing metric of every line, the
 * evaluation rewards and checksums of the figure samples must equal, bit for bit, what the trainer wrote before the
 * merge ({@code epoch-golden.jsonl}, recorded from commit ff478a1 with Debian's libtorch, which reports 1.13.0). The merged path adds
 * keys only where the old paths differed ({@link #ADDED_KEYS}).
 *
 * <p>On another CPU the BLAS kernels (AVX2, AVX-512, AMX) round differently: a number that differs from the recording
 * must then be within float rounding of it, and the samples' checksums are compared only when every number was equal.
 * Under another libtorch only the keys and the counts that follow from the schedule alone are compared.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class EpochGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, Object>> ROW = new TypeReference<>() { };

    /**
     * Keys the merged path writes that one of the old paths did not: the data-parallel shape on single-process lines,
     * and on data-parallel lines the checkpoint statistics and per-reward statistics the single-process path had.
     */
    static final Map<String, Set<String>> ADDED_KEYS = Map.of(
            "single", Set.of("world_size", "groups_per_step"),
            "dp", Set.of("checkpoints", "reward_alignment_mean", "reward_alignment_std"));

    /** Counts fixed by the config and schedule alone (the same under any libtorch). */
    private static final List<String> SCHEDULE_COUNTS = List.of("epoch", "method", "trajectories_sampled",
            "trajectories_trained", "nfe_sampling", "previews", "reward_calls", "rewarded_images", "trained_steps",
            "world_size", "groups_per_step");

    @TempDir
    Path tmp;

    static List<Map<String, Object>> read(List<String> lines) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String l : lines) if (!l.isBlank()) out.add(JSON.readValue(l, ROW));
        return out;
    }

    @Test
    void everyNonTimingMetricEqualsTheRecordedOldPaths() throws Exception {
        Path out = tmp.resolve("actual.jsonl");
        Path log = tmp.resolve("child.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-Dprogrpo.torch.threads=1",
                "-Dprogrpo.cache=" + tmp.resolve("cache"),
                "-cp", System.getProperty("java.class.path"),
                EpochGoldenMain.class.getName(), out.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().remove("WORLD_SIZE");
        Process p = pb.start();
        assertTrue(p.waitFor(220, TimeUnit.SECONDS), "the child run finished");
        assertEquals(0, p.exitValue(), () -> read(log));
        List<Map<String, Object>> actual = read(Files.readAllLines(out));
        // keep a copy beside the build for a look at a failure
        Files.createDirectories(Path.of("target"));
        Files.copy(out, Path.of("target", "epoch-golden-actual.jsonl"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<Map<String, Object>> golden;
        try (InputStream in = EpochGoldenTest.class.getResourceAsStream("epoch-golden.jsonl")) {
            assertNotNull(in, "the recorded lines epoch-golden.jsonl are on the test class path");
            golden = read(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
        }

        assertEquals(golden.size(), actual.size(), "one line per recorded line");
        boolean sameTorch = golden.get(0).get("libtorch").equals(Torch.version());
        assertEquals(golden.get(0).keySet(), actual.get(0).keySet());
        int compared = 0;
        for (int i = 1; i < golden.size(); i++) {
            Map<String, Object> g = golden.get(i);
            Map<String, Object> a = actual.get(i);
            String where = g.get("scenario") + " line " + g.get("line");
            assertEquals(g.get("scenario"), a.get("scenario"), where);
            assertEquals(g.get("line"), a.get("line"), where);
            boolean trainingLine = g.containsKey("trained_rows");
            Set<String> added = new TreeSet<>(a.keySet());
            added.removeAll(g.keySet());
            Set<String> missing = new TreeSet<>(g.keySet());
            missing.removeAll(a.keySet());
            assertEquals(Set.of(), missing, where + ": no recorded key is gone");
            Set<String> allowed = trainingLine ? ADDED_KEYS.get(String.valueOf(g.get("scenario")).startsWith("dp1-") ? "dp" : "single") : Set.of();
            assertEquals(new TreeSet<>(allowed), added, where + ": the keys added by the merged path");
            for (String k : g.keySet()) {
                if (SCHEDULE_COUNTS.contains(k) || k.equals("scenario") || k.equals("line")) {
                    assertEquals(g.get(k), a.get(k), where + " key " + k);
                    compared++;
                } else if (sameTorch && k.endsWith("_crc")) {
                    crcs.add(new Object[] {where + " key " + k, g.get(k), a.get(k)});
                } else if (sameTorch) {
                    compared += close(g.get(k), a.get(k), where + " key " + k);
                }
            }
        }
        assertTrue(compared > 200, "compared " + compared + " values");
        // the samples' checksums are bit for bit: they must match when every number did, on the recording's kernels
        if (sameTorch && rounded == 0) for (Object[] c : crcs) assertEquals(c[1], c[2], (String) c[0]);
        if (rounded > 0) System.out.println("EpochGoldenTest: " + rounded + " numbers differ from the recording in float rounding "
                + "only (another CPU's BLAS kernels); the sample checksums were not compared");
    }

    private final List<Object[]> crcs = new ArrayList<>();
    private int rounded;

    /**
     * Compares a recorded value with the actual one: bit for bit where they are equal, else numbers within float
     * rounding (|a - g| <= 1e-6 + 1e-5 |g|, counted in {@link #rounded}), lists and objects element by element.
     *
     * @return the number of leaf values compared
     */
    private int close(Object g, Object a, String where) {
        if (g instanceof Number gn && a instanceof Number an) {
            double x = gn.doubleValue();
            double y = an.doubleValue();
            if (Double.compare(x, y) != 0) {
                assertTrue(Math.abs(x - y) <= 1e-6 + 1e-5 * Math.abs(x), where + ": expected " + x + " (or within float rounding), got " + y);
                rounded++;
            }
            return 1;
        }
        if (g instanceof Map<?, ?> gm && a instanceof Map<?, ?> am) {
            assertEquals(gm.keySet(), am.keySet(), where);
            int n = 0;
            for (Object k : gm.keySet()) n += close(gm.get(k), am.get(k), where + "." + k);
            return n;
        }
        if (g instanceof List<?> gl && a instanceof List<?> al) {
            assertEquals(gl.size(), al.size(), where + ": length");
            int n = 0;
            for (int i = 0; i < gl.size(); i++) n += close(gl.get(i), al.get(i), where + "[" + i + "]");
            return n;
        }
        assertEquals(g, a, where);
        return 1;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (Exception e) {
            return "(no log)";
        }
    }
}
