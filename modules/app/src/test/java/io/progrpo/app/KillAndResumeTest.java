package io.progrpo.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.trainer.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real process kill in the middle of training, then --resume: the metrics of every epoch equal those of an
 * uninterrupted run with the same seed (CPU, one intra-op thread in both runs).
 */
class KillAndResumeTest {
    @TempDir
    Path tmp;

    private Process start(Path out, boolean resume) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-Dprogrpo.torch.threads=1",
                "-Dprogrpo.cache=" + tmp.resolve("cache"),
                "-cp", System.getProperty("java.class.path"),
                ResumeMain.class.getName(), "train", "--preset", "pro-grpo-flash",
                "--set", "epochs=5", "--set", "groupsPerEpoch=1", "--set", "modelWidth=8", "--set", "imageSize=8",
                "--set", "pretrainSteps=2", "--set", "evalEvery=1", "--set", "evalPrompts=2", "--set", "evalSteps=3",
                "--set", "checkpointEvery=1", "--set", "seed=77", "--out", out.toString()));
        if (resume) cmd.add("--resume");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolveSibling(out.getFileName() + (resume ? ".resume.log" : ".log")).toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Files.createDirectories(out.getParent());
        return pb.start();
    }

    private static int checkpointEpoch(Path out) {
        try {
            Path s = out.resolve("checkpoint").resolve("state.json");
            if (!Files.isRegularFile(s)) return -1;
            String json = Files.readString(s);
            int i = json.indexOf("\"epoch\"");
            return Integer.parseInt(json.substring(json.indexOf(':', i) + 1, json.indexOf(',', i)).strip());
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws Exception {
        Path full = tmp.resolve("full");
        Process p = start(full, false);
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "uninterrupted run finished");
        assertEquals(0, p.exitValue(), () -> log(full));

        Path cut = tmp.resolve("cut");
        Process k = start(cut, false);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (checkpointEpoch(cut) < 1 && k.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(k.isAlive(), "the run was still going when killed; " + log(cut));
        k.destroyForcibly();
        k.waitFor(30, TimeUnit.SECONDS);
        int reached = checkpointEpoch(cut);
        assertTrue(reached >= 1 && reached < 4, "killed after epoch " + reached);

        Process r = start(cut, true);
        assertTrue(r.waitFor(240, TimeUnit.SECONDS));
        assertEquals(0, r.exitValue(), () -> log(cut));

        List<Map<String, Object>> a = MetricsLog.read(full.resolve("metrics.jsonl"));
        List<Map<String, Object>> b = MetricsLog.read(cut.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size(), "one line per epoch (plus the initial eval) in both runs");
        for (int i = 0; i < a.size(); i++) {
            for (String key : List.of("epoch", "reward_mean", "reward_std", "loss", "grad_norm", "eval_reward", "nfe_sampling")) {
                assertEquals(a.get(i).get(key), b.get(i).get(key), "line " + i + " key " + key);
            }
        }

        // The checkpoint carries its run's resolved config, which `progrpo eval --checkpoint` reads by default.
        Path own = full.resolve("checkpoint").resolve(io.progrpo.app.cli.Main.CONFIG_FILE_NAME);
        assertTrue(Files.isRegularFile(own), own + " exists");
        var c = io.progrpo.trainer.config.TrainConfig.resolve("flow-grpo", own, List.of());
        assertEquals("pro-grpo-flash", c.method());
        assertEquals(8, c.modelWidth());
        assertEquals(8, c.imageSize());
        assertEquals(77L, c.seed());
    }

    private static String log(Path out) {
        try {
            return Files.readString(out.resolveSibling(out.getFileName() + ".log"));
        } catch (Exception e) {
            return "(no log)";
        }
    }
}
