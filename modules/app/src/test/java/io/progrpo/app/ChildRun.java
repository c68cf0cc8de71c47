package io.progrpo.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code progrpo train} of the smallest world in a fresh JVM (class path, one intra-op thread), so that a halt or a
 * crash ends that JVM and not the test's: the set-up of {@link KillAndResumeTest}, shared by the run-directory tests.
 */
final class ChildRun {
    /** A flow-grpo run of 3 epochs with a checkpoint after each and eval before epoch 0, after epoch 1 and at the end. */
    static final List<String> TINY = List.of("--preset", "flow-grpo",
            "--set", "epochs=3", "--set", "groupsPerEpoch=1", "--set", "groupSize=4", "--set", "samplerSteps=3",
            "--set", "modelWidth=8", "--set", "imageSize=8", "--set", "pretrainSteps=2", "--set", "evalEvery=2",
            "--set", "evalPrompts=1", "--set", "evalSteps=2", "--set", "checkpointEvery=1", "--set", "microBatch=4",
            "--set", "seed=5");

    record Result(int status, String log) {}

    private ChildRun() {}

    /**
     * Runs {@code java [-Dprogrpo.fault.haltAt=HALT] ResumeMain train TINY --out OUT [--resume]} and waits for it.
     *
     * @param cache   the base-model cache (shared, so only the first run pretrains)
     * @param haltAt  null: no fault point
     * @param logFile where its combined output goes
     */
    static Result train(Path cache, Path out, boolean resume, String haltAt, Path logFile, String... extra) throws IOException, InterruptedException {
        Process p = start(cache, out, resume, haltAt, logFile, extra);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the run did not end within 180 s: " + Files.readString(logFile));
        }
        return new Result(p.exitValue(), Files.readString(logFile));
    }

    static Process start(Path cache, Path out, boolean resume, String haltAt, Path logFile, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-Dprogrpo.torch.threads=1",
                "-Dprogrpo.cache=" + cache,
                "-XX:TieredStopAtLevel=1"));  // start-up dominates these short runs: C1 only
        if (haltAt != null) cmd.add("-Dprogrpo.fault.haltAt=" + haltAt);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ResumeMain.class.getName(), "train"));
        cmd.addAll(TINY);
        cmd.addAll(List.of(extra));
        cmd.addAll(List.of("--out", out.toString()));
        if (resume) cmd.add("--resume");
        Files.createDirectories(logFile.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return pb.start();
    }
}
