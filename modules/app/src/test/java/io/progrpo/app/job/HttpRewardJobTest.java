package io.progrpo.app.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.app.CacheProperty;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A job whose reward is served over HTTP by scripts/reward-server (the reference server; skipped without python3):
 * an epoch trains on it in the pixel world, and a job whose endpoint is down fails when it is built, naming the
 * endpoint, before any sampling.
 */
class HttpRewardJobTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    Path tmp;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    @Test
    void anEpochTrainsOnARemoteReward() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).resolve("../../scripts/reward-server").normalize();
        Assumptions.assumeTrue(Files.isRegularFile(script), "scripts/reward-server not found");
        Assumptions.assumeTrue(new ProcessBuilder("python3", "--version").start().waitFor() == 0, "python3 is not installed");
        CACHE.point(tmp.resolve("cache"));
        int port = freePort();
        String url = "http://127.0.0.1:" + port + "/score";
        Process server = new ProcessBuilder("python3", script.toString(), "--port", String.valueOf(port)).redirectErrorStream(true).start();
        System.setProperty("progrpo.reward.http.retries", "30"); // the health check waits for the server to start
        System.setProperty("progrpo.reward.http.backoffMillis", "50");
        try {
            TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, List.of("groupsPerEpoch=2", "evalEvery=1",
                    "reward=" + url, "outDir=" + tmp.resolve("run")));
            try (Jobs.Job job = Jobs.build(c, s -> { })) {
                List<Map<String, Object>> rows = job.run(tmp.resolve("run"), s -> { }).run(false);
                Map<String, Object> m = rows.get(rows.size() - 1);
                double reward = ((Number) m.get("reward_mean")).doubleValue();
                assertTrue(reward >= 0 && reward <= 1, "the mean pixel of [0, 1] images: " + m);
                assertTrue(Double.isFinite(((Number) m.get("eval_reward")).doubleValue()), m.toString());
            }
            assertTrue(Files.readString(tmp.resolve("run/checkpoint/config.json")).contains(url));
        } finally {
            System.clearProperty("progrpo.reward.http.retries");
            System.clearProperty("progrpo.reward.http.backoffMillis");
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aJobWhoseEndpointIsDownFailsWhenBuilt() throws Exception {
        CACHE.point(tmp.resolve("cache"));
        String url = "http://127.0.0.1:" + freePort() + "/score";
        System.setProperty("progrpo.reward.http.retries", "1");
        System.setProperty("progrpo.reward.http.backoffMillis", "10");
        try {
            TrainConfig c = TrainConfig.resolve("flow-grpo+quick", null, List.of("reward=" + url, "outDir=" + tmp.resolve("down")));
            var e = assertThrows(IllegalStateException.class, () -> Jobs.build(c, s -> { }).close());
            assertTrue(e.getMessage().contains(url) && e.getMessage().contains("health check"), e.getMessage());
            assertEquals(false, Files.exists(tmp.resolve("down/metrics.jsonl")), "nothing ran");
        } finally {
            System.clearProperty("progrpo.reward.http.retries");
            System.clearProperty("progrpo.reward.http.backoffMillis");
        }
    }
}
