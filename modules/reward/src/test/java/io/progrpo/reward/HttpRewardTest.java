package io.progrpo.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP reward against a loopback server on 127.0.0.1: the protocol (scores against the toy reward recomputed in
 * doubles, batching, order), the health check, and every failure the issue names (a killed server, a slow one, one
 * that recovers after a 503, a garbage body, a wrong count, a NaN), each an exception naming the endpoint; and the
 * reference server {@code scripts/reward-server} when python3 is there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpRewardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpReward.Options FAST = new HttpReward.Options(4, Duration.ofSeconds(5), 2, Duration.ofMillis(20), "raw-float32-le");

    /** The toy reward of the test server and of scripts/reward-server: each image's mean pixel value. */
    static LoopbackRewardServer.Answer meanPixel(LoopbackRewardServer.Request r) {
        if (r.method().equals("GET")) return LoopbackRewardServer.Answer.ok(r.path().equals("/health") ? "{\"ok\": true}" : "{}");
        try {
            JsonNode req = JSON.readTree(r.body());
            JsonNode shape = req.get("images").get("shape");
            int n = shape.get(0).asInt();
            int per = shape.get(1).asInt() * shape.get(2).asInt() * shape.get(3).asInt();
            ByteBuffer buf = ByteBuffer.wrap(Base64.getDecoder().decode(req.get("images").get("data").asText())).order(ByteOrder.LITTLE_ENDIAN);
            StringBuilder out = new StringBuilder("{\"rewards\": [");
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int k = 0; k < per; k++) s += buf.getFloat();
                out.append(i == 0 ? "" : ", ").append(s / per);
            }
            if (req.get("prompts").size() != n) return new LoopbackRewardServer.Answer(400, "{\"error\": \"prompt count\"}", 0);
            return LoopbackRewardServer.Answer.ok(out.append("]}").toString());
        } catch (IOException e) {
            return new LoopbackRewardServer.Answer(400, "{\"error\": \"bad json\"}", 0);
        }
    }

    private static Tensor images(int n, int size) {
        try (Generator g = Generator.create(17)) {
            return Tensor.rand(g, n, 3, size, size);
        }
    }

    private static double[] expectedMeans(Tensor images) {
        float[] px = images.toFloatArray();
        int n = (int) images.size(0);
        int per = px.length / n;
        double[] m = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < per; k++) s += px[i * per + k];
            m[i] = s / per;
        }
        return m;
    }

    private static List<String> prompts(int n) {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < n; i++) p.add("prompt " + i);
        return p;
    }

    @Test
    void scoresEveryImageInOrderOverBatches() throws Exception {
        try (LoopbackRewardServer server = new LoopbackRewardServer(HttpRewardTest::meanPixel); Tensor img = images(10, 4)) {
            HttpReward r = HttpReward.connect(server.url("/score"), FAST);
            assertEquals(1, server.requests.get(), "the health check ran at connect");
            double[] got = r.score(img, prompts(10)).scores();
            double[] want = expectedMeans(img);
            for (int i = 0; i < 10; i++) assertEquals(want[i], got[i], 1e-6, "image " + i);
            assertEquals(3, server.posts.get(), "10 images at 4 per request: ceil(10 / 4) requests");
        }
    }

    @Test
    void theRegistryConnectsAnEndpointAndTheSpecGivesItAWeight() throws Exception {
        try (LoopbackRewardServer server = new LoopbackRewardServer(HttpRewardTest::meanPixel); Tensor img = images(3, 4)) {
            String url = server.url("/score");
            Map<String, Double> w = MultiReward.parseWeights("jpeg_compressibility:0.1," + url + "@0.5");
            assertEquals(List.of("jpeg_compressibility", url), List.copyOf(w.keySet()));
            assertEquals(0.5, w.get(url));
            assertEquals(1.0, MultiReward.parseWeights(url + "?model=x").get(url + "?model=x"));
            RewardFunction r = RewardRegistry.create(url, null);
            assertEquals(url, r.name());
            double[] want = expectedMeans(img);
            double[] got = r.scoreChecked(img, prompts(3)).scores();
            for (int i = 0; i < 3; i++) assertEquals(want[i], got[i], 1e-6);
        }
        for (String bad : new String[] {"http://user:pw@127.0.0.1:1/score", "http:///score", "http://127.0.0.1:1/score@lots"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> MultiReward.parseWeights(bad), bad);
            assertTrue(e.getMessage().contains("127.0.0.1") || e.getMessage().contains("host"), e.getMessage());
        }
    }

    @Test
    void aKilledServerFailsWithTheEndpointAfterTheRetries() throws Exception {
        LoopbackRewardServer server = new LoopbackRewardServer(HttpRewardTest::meanPixel);
        String url = server.url("/score");
        HttpReward r = HttpReward.connect(url, FAST);
        server.close();
        try (Tensor img = images(2, 4)) {
            var e = assertThrows(IllegalStateException.class, () -> r.score(img, prompts(2)));
            assertTrue(e.getMessage().contains(url) && e.getMessage().contains("3 attempt(s)"), e.getMessage());
        }
        var health = assertThrows(IllegalStateException.class, () -> HttpReward.connect(url, FAST));
        assertTrue(health.getMessage().contains("health check") && health.getMessage().contains(url), health.getMessage());
    }

    @Test
    void aSlowServerTimesOut() throws Exception {
        HttpReward.Options quick = new HttpReward.Options(4, Duration.ofMillis(300), 0, Duration.ofMillis(10), "raw-float32-le");
        try (LoopbackRewardServer server = new LoopbackRewardServer(req -> req.method().equals("GET")
                ? LoopbackRewardServer.Answer.ok("{}") : new LoopbackRewardServer.Answer(200, "{\"rewards\": [1, 1]}", 1500));
             Tensor img = images(2, 4)) {
            HttpReward r = HttpReward.connect(server.url("/score"), quick);
            var e = assertThrows(IllegalStateException.class, () -> r.score(img, prompts(2)));
            assertTrue(e.getMessage().contains("timed out") && e.getMessage().contains(server.url("/score")), e.getMessage());
        }
    }

    @Test
    void aServerThatRecoversAfterA503Succeeds() throws Exception {
        AtomicInteger posts = new AtomicInteger();
        try (LoopbackRewardServer server = new LoopbackRewardServer(req -> {
                 if (req.method().equals("POST") && posts.incrementAndGet() == 1) return new LoopbackRewardServer.Answer(503, "busy", 0);
                 return meanPixel(req);
             });
             Tensor img = images(3, 4)) {
            HttpReward r = HttpReward.connect(server.url("/score"), FAST);
            double[] got = r.score(img, prompts(3)).scores();
            assertEquals(expectedMeans(img)[2], got[2], 1e-6);
            assertEquals(2, server.posts.get(), "one 503, then the retry");
        }
    }

    @Test
    void garbageAWrongCountANanAndA4xxEachFailWithTheirMessage() throws Exception {
        String[][] cases = {
                {"200", "<html>oops</html>", "expected a JSON object"},
                {"200", "{\"rewards\": [1.0]}", "answered 1 rewards"},
                {"200", "{\"rewards\": [1.0, \"NaN\"]}", "expected a finite number"},
                {"200", "{\"score\": [1.0, 2.0]}", "expected a JSON object"},
                {"400", "{\"error\": \"no model\"}", "answered 400"}};
        for (String[] c : cases) {
            try (LoopbackRewardServer server = new LoopbackRewardServer(req -> req.method().equals("GET")
                    ? LoopbackRewardServer.Answer.ok("{}") : new LoopbackRewardServer.Answer(Integer.parseInt(c[0]), c[1], 0));
                 Tensor img = images(2, 4)) {
                HttpReward r = HttpReward.connect(server.url("/score"), FAST);
                var e = assertThrows(IllegalStateException.class, () -> r.score(img, prompts(2)), c[1]);
                assertTrue(e.getMessage().contains(c[2]) && e.getMessage().contains(server.url("/score")), e.getMessage());
                assertEquals(1, server.posts.get(), "no retry for '" + c[1] + "'");
            }
        }
    }

    @Test
    void aFailingHealthCheckStopsTheConnect() throws Exception {
        try (LoopbackRewardServer server = new LoopbackRewardServer(req -> new LoopbackRewardServer.Answer(404, "not here", 0))) {
            var e = assertThrows(IllegalStateException.class, () -> HttpReward.connect(server.url("/score"), FAST));
            assertTrue(e.getMessage().contains("health check") && e.getMessage().contains("404") && e.getMessage().contains("/health"), e.getMessage());
        }
    }

    /** scripts/reward-server, the reference server users adapt, scores as the Java side computes (skipped without python3). */
    @Test
    void theReferenceServerScoresTheToyReward() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).resolve("../../scripts/reward-server").normalize();
        Assumptions.assumeTrue(Files.isRegularFile(script), "scripts/reward-server not found from " + System.getProperty("user.dir"));
        Assumptions.assumeTrue(new ProcessBuilder("python3", "--version").start().waitFor() == 0, "python3 is not installed");
        int port;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        Process p = new ProcessBuilder("python3", script.toString(), "--port", String.valueOf(port)).redirectErrorStream(true).start();
        try (Tensor img = images(5, 6)) {
            String url = "http://127.0.0.1:" + port + "/score";
            HttpReward.Options patient = new HttpReward.Options(2, Duration.ofSeconds(5), 20, Duration.ofMillis(100), "raw-float32-le");
            HttpReward r = HttpReward.connect(url, patient); // the retries wait for the server to start
            double[] got = r.score(img, prompts(5)).scores();
            double[] want = expectedMeans(img);
            for (int i = 0; i < 5; i++) assertEquals(want[i], got[i], 1e-6, "image " + i);
        } finally {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
