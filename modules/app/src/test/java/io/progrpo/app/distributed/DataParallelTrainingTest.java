package io.progrpo.app.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.distributed.Backend;
import io.progrpo.tensor.distributed.ProcessGroup;
import io.progrpo.trainer.MetricsLog;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real processes on 127.0.0.1 with Gloo: two ranks train the same parameters as one process over the same prompt
 * groups, and a rank that dies ends the other within the timeout with a message naming it.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class DataParallelTrainingTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void gloo() {
        io.progrpo.tensor.Torch.ensureAvailable();
        Assumptions.assumeTrue(ProcessGroup.isAvailable(Backend.GLOO), "the shim was built without Gloo");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts one rank; its combined output goes to log. */
    static Process rank(Path out, Path log, int rank, int world, int port, Map<String, String> extraEnv, String... extraArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-Dprogrpo.torch.threads=1",
                "-Dprogrpo.cache=" + tmp.resolve("cache"),
                "-cp", System.getProperty("java.class.path"),
                DistributedMain.class.getName(), "train", "--preset", "flow-grpo",
                "--set", "epochs=2", "--set", "groupsPerEpoch=4", "--set", "groupSize=4", "--set", "samplerSteps=3",
                "--set", "modelWidth=8", "--set", "imageSize=8", "--set", "pretrainSteps=2", "--set", "evalEvery=0",
                "--set", "checkpointEvery=1", "--set", "seed=11", "--set", "microBatch=3", "--out", out.toString()));
        cmd.addAll(List.of(extraArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        env.put("RANK", Integer.toString(rank));
        env.put("LOCAL_RANK", Integer.toString(rank));
        env.put("WORLD_SIZE", Integer.toString(world));
        env.put("MASTER_ADDR", "127.0.0.1");
        env.put("MASTER_PORT", Integer.toString(port));
        env.put("PROGRPO_GROUPS_PER_STEP", "2");
        env.put("PROGRPO_DIST_TIMEOUT", "60");
        env.putAll(extraEnv);
        Files.createDirectories(out.getParent());
        return pb.start();
    }

    static String checksum(Path log, int rank) throws IOException {
        Matcher m = Pattern.compile("\\[rank " + rank + "/\\d+] parameter checksum ([0-9a-f]+)").matcher(Files.readString(log));
        assertTrue(m.find(), "rank " + rank + " printed its checksum:\n" + Files.readString(log));
        return m.group(1);
    }

    static double maxAbsDiff(Path a, Path b) throws IOException {
        Map<String, Tensor> x = TensorIO.load(a);
        Map<String, Tensor> y = TensorIO.load(b);
        try {
            assertEquals(x.keySet(), y.keySet());
            double max = 0;
            for (String k : x.keySet()) {
                float[] u = x.get(k).toFloatArray();
                float[] v = y.get(k).toFloatArray();
                for (int i = 0; i < u.length; i++) max = Math.max(max, Math.abs(u[i] - v[i]));
            }
            return max;
        } finally {
            x.values().forEach(Tensor::close);
            y.values().forEach(Tensor::close);
        }
    }

    @Test
    void twoRanksHoldIdenticalParametersEqualToOneProcessOverTheSameGroups() throws Exception {
        // one process, the same 2 groups per optimizer step (it also pretrains and caches the base model)
        Path single = tmp.resolve("single");
        Process p = rank(single, tmp.resolve("single.log"), 0, 1, freePort(), Map.of());
        assertTrue(p.waitFor(100, TimeUnit.SECONDS), "single-process run finished");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("single.log")));

        Path two = tmp.resolve("two");
        int port = freePort();
        Process r0 = rank(two, tmp.resolve("r0.log"), 0, 2, port, Map.of());
        Process r1 = rank(two, tmp.resolve("r1.log"), 1, 2, port, Map.of());
        assertTrue(r0.waitFor(100, TimeUnit.SECONDS) && r1.waitFor(30, TimeUnit.SECONDS), "both ranks finished");
        assertEquals(0, r0.exitValue(), Files.readString(tmp.resolve("r0.log")));
        assertEquals(0, r1.exitValue(), Files.readString(tmp.resolve("r1.log")));

        assertEquals(checksum(tmp.resolve("r0.log"), 0), checksum(tmp.resolve("r1.log"), 1), "bit-identical parameters on both ranks");
        assertTrue(Files.readString(tmp.resolve("r0.log")).contains("parameters identical on all 2 ranks"));

        List<Map<String, Object>> rows = MetricsLog.read(two.resolve("metrics.jsonl"));
        assertEquals(2, rows.size(), "rank 0 alone wrote the metrics, one row per epoch");
        for (Map<String, Object> row : rows) {
            assertEquals(2, ((Number) row.get("world_size")).intValue());
            assertEquals(16, ((Number) row.get("trajectories_sampled")).intValue(), "counts cover both ranks: 4 groups x G=4");
        }
        List<Map<String, Object>> ref = MetricsLog.read(single.resolve("metrics.jsonl"));
        for (int e = 0; e < 2; e++) {
            int steps = ((Number) ref.get(e).get("optimizer_steps")).intValue();
            assertTrue(steps >= 1, "the reference trained");
            assertEquals(steps, ((Number) rows.get(e).get("optimizer_steps")).intValue(), "4 groups, 2 per step: the same steps on rank 0");
            assertEquals(((Number) ref.get(e).get("reward_mean")).doubleValue(), ((Number) rows.get(e).get("reward_mean")).doubleValue(), 1e-5,
                    "epoch " + e + ": the same groups were sampled, so the global reward mean agrees");
        }
        double diff = maxAbsDiff(single.resolve("checkpoint/policy.pt"), two.resolve("checkpoint/policy.pt"));
        assertTrue(diff < 1e-4, "two ranks trained what one process trained, max |diff| = " + diff);
    }

    @Test
    void aDeadRankEndsTheOtherWithinTheTimeoutNamingIt() throws Exception {
        Path out = tmp.resolve("dead");
        int port = freePort();
        Map<String, String> env = Map.of("PROGRPO_DIST_TIMEOUT", "10", "PROGRPO_TEST_HALT_RANK", "1", "PROGRPO_TEST_HALT_AT", "2");
        Process r0 = rank(out, tmp.resolve("d0.log"), 0, 2, port, env);
        Process r1 = rank(out, tmp.resolve("d1.log"), 1, 2, port, env);
        assertTrue(r1.waitFor(100, TimeUnit.SECONDS), "rank 1 halted");
        long t0 = System.nanoTime();
        assertTrue(r0.waitFor(40, TimeUnit.SECONDS), "rank 0 ended instead of hanging:\n" + Files.readString(tmp.resolve("d0.log")));
        double after = (System.nanoTime() - t0) / 1e9;
        String log0 = Files.readString(tmp.resolve("d0.log"));
        assertTrue(Files.readString(tmp.resolve("d1.log")).contains("halting rank 1"), Files.readString(tmp.resolve("d1.log")));
        assertEquals(DistributedGrpo.EXIT_DISTRIBUTED, r0.exitValue(), log0);
        assertTrue(log0.contains("distributed training failed") && log0.contains("rank 1"), "the message names rank 1:\n" + log0);
        assertTrue(after < 10 + 15, "rank 0 ended within the 10 s timeout of rank 1's death (+ process exit): " + after + " s");
    }

    @Test
    void ranksStartedWithDifferentConfigsStopAtStartNamingTheField() throws Exception {
        Path out = tmp.resolve("mismatch");
        int port = freePort();
        Process r0 = rank(out, tmp.resolve("m0.log"), 0, 2, port, Map.of("PROGRPO_DIST_TIMEOUT", "20"));
        Process r1 = rank(out, tmp.resolve("m1.log"), 1, 2, port, Map.of("PROGRPO_DIST_TIMEOUT", "20"), "--set", "lr=0.001");
        assertTrue(r0.waitFor(60, TimeUnit.SECONDS) && r1.waitFor(30, TimeUnit.SECONDS), "both ranks stopped");
        for (String log : List.of("m0.log", "m1.log")) {
            String text = Files.readString(tmp.resolve(log));
            assertTrue(text.contains("lr is 3.0E-4 on rank 0 but 0.001 on rank 1") || text.contains("lr is 0.0003 on rank 0 but 0.001 on rank 1"),
                    "names the field and both values:\n" + text);
        }
        assertEquals(DistributedGrpo.EXIT_DISTRIBUTED, r0.exitValue());
        assertEquals(DistributedGrpo.EXIT_DISTRIBUTED, r1.exitValue());
    }

    @Test
    void ranksThatDisagreeOnResumingStopBeforeTheFirstStepAndChangeNothing() throws Exception {
        Path out = tmp.resolve("agree");
        // a checkpoint of epoch 0 to resume from (one rank, one epoch)
        Process p = rank(out, tmp.resolve("agree.log"), 0, 1, freePort(), Map.of(), "--set", "epochs=1");
        assertTrue(p.waitFor(100, TimeUnit.SECONDS), "the first run finished");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("agree.log")));
        Path manifest = out.resolve("checkpoint").resolve("manifest.sha256");
        String id = Files.exists(manifest) ? sha256(manifest) : "(no manifest)";
        byte[] state = Files.readAllBytes(out.resolve("checkpoint").resolve("state.json"));
        byte[] metrics = Files.readAllBytes(out.resolve("metrics.jsonl"));
        byte[] policy = Files.readAllBytes(out.resolve("checkpoint").resolve("policy.pt"));

        // rank 0 resumes, rank 1 was started without --resume
        int port = freePort();
        Map<String, String> env = Map.of("PROGRPO_DIST_TIMEOUT", "20");
        Process r0 = rank(out, tmp.resolve("a0.log"), 0, 2, port, env, "--resume");
        Process r1 = rank(out, tmp.resolve("a1.log"), 1, 2, port, env);
        assertTrue(r0.waitFor(60, TimeUnit.SECONDS) && r1.waitFor(30, TimeUnit.SECONDS), "both ranks stopped");
        for (String log : List.of("a0.log", "a1.log")) {
            String text = Files.readString(tmp.resolve(log));
            assertTrue(text.contains("the ranks disagree on where training starts") && text.contains("rank 0: resume at epoch 1 from checkpoint " + id)
                    && text.contains("but rank 1: fresh start at epoch 0"), log + " names both ranks' starts:\n" + text);
            assertFalse(text.contains("epoch 2/2"), "no epoch was trained:\n" + text);
        }
        assertEquals(DistributedGrpo.EXIT_DISTRIBUTED, r0.exitValue());
        assertEquals(DistributedGrpo.EXIT_DISTRIBUTED, r1.exitValue());
        assertArrayEquals(state, Files.readAllBytes(out.resolve("checkpoint").resolve("state.json")), "the checkpoint was not overwritten");
        assertEquals(id, sha256(manifest));
        assertArrayEquals(policy, Files.readAllBytes(out.resolve("checkpoint").resolve("policy.pt")));
        assertArrayEquals(metrics, Files.readAllBytes(out.resolve("metrics.jsonl")), "metrics.jsonl was not touched");
    }

    static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
