package io.progrpo.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The latent peer's export on the smoke-test world ({@code world=latent-quick}, pretrained once into a temporary
 * cache): the four files with the names and shapes {@code bench/python/peer_latent.py} reads, and, where Debian's
 * {@code /usr/bin/python3} can import torch, the peer's {@code --check} against this export passes (skipped otherwise:
 * {@code scripts/setup --python} installs python3-torch).
 */
class LatentPeerExportTest {
    @RegisterExtension
    static final CacheProperty CACHE = new CacheProperty();

    @TempDir
    static Path cache;
    @TempDir
    static Path export;
    private static TrainConfig config;

    @BeforeAll
    static void exportOnce() throws Exception {
        CACHE.point(cache);
        config = TrainConfig.resolve("flow-grpo+demo+latent", null, List.of("world=latent-quick", "groupsPerEpoch=2", "shadowEvery=0"));
        long live = MemoryLedger.liveTensors();
        LatentPeerExport.write(export, config, 2, s -> { });
        assertEquals(live, MemoryLedger.liveTensors(), "the export frees every tensor it made (its world and reward included)");
    }

    @Test
    void writesTheFilesWithTheNamesAndShapesThePeerReads() throws Exception {
        for (String f : List.of("weights.pt", "world.pt", "check.pt", "config.json")) assertTrue(Files.isRegularFile(export.resolve(f)), f);
        JsonNode cfg = new ObjectMapper().readTree(Files.readString(export.resolve("config.json")));
        for (String k : List.of("text", "generator", "autoencoder", "reward", "sigmas", "samplerSteps", "noiseLevel", "guidanceScale",
                "groupSize", "groupsPerEpoch", "groupsPerStep", "trainedSteps", "microBatch", "clipRange", "advClip", "lr", "beta1",
                "beta2", "adamEps", "weightDecay", "gradClip", "check")) {
            assertTrue(cfg.has(k), "config.json has " + k);
        }
        assertEquals(10, cfg.get("samplerSteps").asInt());
        assertEquals(11, cfg.get("sigmas").size());
        assertEquals(0.7, cfg.get("noiseLevel").asDouble());
        assertEquals(4.5, cfg.get("guidanceScale").asDouble());
        assertEquals(2, cfg.get("groupsPerStep").asInt());
        assertEquals(9, cfg.get("trainedSteps").asInt());
        int c = cfg.get("generator").get("latentChannels").asInt();
        int s = cfg.get("generator").get("latentSize").asInt();
        int l = cfg.get("text").get("tokens").asInt();
        int w = cfg.get("text").get("width").asInt();
        int img = cfg.get("autoencoder").get("imageSize").asInt();
        int rows = LatentPeerExport.CHECK_GROUPS * LatentPeerExport.CHECK_GROUP_SIZE;
        assertEquals(LatentPeerExport.CHECK_EPOCHS, cfg.get("check").get("loss").size());

        Map<String, Tensor> weights = TensorIO.load(export.resolve("weights.pt"));
        Map<String, Tensor> world = TensorIO.load(export.resolve("world.pt"));
        Map<String, Tensor> check = TensorIO.load(export.resolve("check.pt"));
        try {
            for (String prefix : List.of("text.", "flow.", "vae.", "reward.")) {
                assertTrue(weights.keySet().stream().anyMatch(k -> k.startsWith(prefix)), "weights under " + prefix);
            }
            for (String k : List.of("text.tokenEmbedding.weight", "text.position", "flow.position", "flow.patchEmbed.weight",
                    "flow.block0.adaLN.weight", "flow.block0.selfAttention.q.lora_A", "flow.block0.crossAttention.out.lora_B",
                    "flow.finalOut.weight", "vae.decIn.weight", "vae.decOut.bias", "reward.image.conv0.weight", "reward.image.head.weight",
                    "reward.text.layer0.q.weight", "reward.text.projection.weight", "reward.logitScale")) {
                assertTrue(weights.containsKey(k), "weights.pt has " + k);
            }
            assertArrayEquals(new long[] {l, w}, weights.get("text.position").shape());
            long prompts = world.get("train_cond").size(0);
            assertEquals(l, world.get("train_cond").size(1));
            assertArrayEquals(new long[] {1, l}, world.get("uncond").shape());
            assertArrayEquals(new long[] {prompts}, world.get("reward_set_start").shape());
            assertArrayEquals(new long[] {prompts}, world.get("reward_set_count").shape());
            long[] count = world.get("reward_set_count").toLongArray();
            assertEquals(Arrays.stream(count).sum(), world.get("reward_captions").size(0), "the caption sets tile the captions");
            assertTrue(Arrays.stream(count).allMatch(n -> n >= 2), "every prompt has neighbours");

            for (int e = 0; e < LatentPeerExport.CHECK_EPOCHS; e++) {
                String p = "e" + e + ".";
                assertArrayEquals(new long[] {rows, l}, check.get(p + "cond").shape());
                for (int i = 0; i < 10; i++) {
                    for (String k : List.of("x", "mean", "next")) assertArrayEquals(new long[] {rows, c, s, s}, check.get(p + "s" + i + "." + k).shape(), p + i + k);
                    assertArrayEquals(new long[] {rows}, check.get(p + "s" + i + ".logp").shape());
                }
                assertArrayEquals(new long[] {rows, 3, img, img}, check.get(p + "images").shape());
                for (String k : List.of("rewards", "adv", "prompt_index")) assertArrayEquals(new long[] {rows}, check.get(p + k).shape(), p + k);
                long calls = check.get(p + "train_calls").toLongArray()[0];
                // 2 groups of 4 rows (all with a non-zero advantage), 9 trained steps: 36 pairs per group in 8 micro-batches of 5
                assertEquals(16, calls);
                for (int j = 0; j < calls; j++) {
                    long n = check.get(p + "t" + j + ".steps").size(0);
                    assertTrue(n >= 1 && n <= LatentPeerExport.CHECK_MICRO_BATCH, "micro-batch " + j + " has " + n + " pairs");
                    assertArrayEquals(new long[] {n, c, s, s}, check.get(p + "t" + j + ".x").shape());
                    assertArrayEquals(new long[] {n}, check.get(p + "t" + j + ".logp").shape());
                }
                assertArrayEquals(weights.get("flow.block0.selfAttention.q.lora_B").shape(), check.get(p + "param.block0.selfAttention.q.lora_B").shape());
            }
            assertArrayEquals(new long[] {5, l, w}, check.get("text_tokens").shape());
            assertArrayEquals(new long[] {5, w}, check.get("text_pooled").shape());
            for (String k : List.of("x", "velocity", "velocity_base", "mean_step3", "x_next", "step3_next")) {
                assertArrayEquals(new long[] {4, c, s, s}, check.get(k).shape(), k);
            }
            assertArrayEquals(new long[] {4, 3, img, img}, check.get("images").shape());
            assertArrayEquals(new long[] {4}, check.get("reward").shape());
            assertArrayEquals(new long[] {6}, check.get("grad_steps").shape());
            long adapters = weights.keySet().stream().filter(k -> k.startsWith("flow.") && k.contains("lora_")).count();
            assertEquals(adapters, check.keySet().stream().filter(k -> k.startsWith("grad.")).count(), "a gradient per adapter");
        } finally {
            for (Map<String, Tensor> m : List.of(weights, world, check)) m.values().forEach(Tensor::close);
        }
    }

    @Test
    void refusesWhatThePeerDoesNotImplement() {
        TrainConfig kl = config.withSets(List.of("beta=0.01"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LatentPeerExport.requireSupported(kl)).getMessage().contains("beta"));
        TrainConfig pixel = TrainConfig.resolve("flow-grpo+demo", null, List.of());
        assertThrows(IllegalArgumentException.class, () -> LatentPeerExport.requireSupported(pixel));
    }

    @Test
    void thePythonPeerMatchesThisExport() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python), "no /usr/bin/python3 (Debian's interpreter, which python3-torch installs into)");
        Process probe = new ProcessBuilder(python.toString(), "-c", "import torch").redirectErrorStream(true).start();
        probe.getInputStream().readAllBytes();
        Assumptions.assumeTrue(probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0,
                "/usr/bin/python3 cannot import torch: install python3-torch (scripts/setup --python) to run the peer's check");
        Path peer = repoRoot().resolve("bench/python/peer_latent.py");
        List<String> cmd = new ArrayList<>(List.of(python.toString(), peer.toString(), "--dir", export.toString(), "--check",
                "--threads", Integer.toString(Torch.numThreads())));
        Path log = export.resolve("check.json");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("peer_latent.py --check did not end within 600 s: " + Files.readString(log));
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), "peer_latent.py --check failed:\n" + out);
        JsonNode r = new ObjectMapper().readTree(out);
        assertTrue(r.get("ok").asBoolean(), out);
        assertTrue(r.get("items").size() >= 20, "every item reported: " + out);
    }

    /** The repository root: the first directory upwards from here that holds bench/python/peer_latent.py. */
    private static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("bench/python/peer_latent.py"))) return d;
        }
        throw new AssertionError("bench/python/peer_latent.py not found above " + Path.of("").toAbsolutePath());
    }
}
