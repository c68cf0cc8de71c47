package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's {@code main} in a fresh JVM, so a misuse that would crash the JVM (SIGSEGV, glibc abort) fails the test
 * instead of killing Surefire. The child gets the test class path, native access and the shim directory; a crash report
 * goes to the temporary directory, not the module.
 */
public final class ForkedJvm {
    private ForkedJvm() {}

    /** The child's exit code and its stdout and stderr together. */
    public record Result(int exitCode, String output) {
        /** Asserts a clean exit and that every {@code marker} line was printed. */
        public void assertPassed(String... markers) {
            String how = output.contains("A fatal error has been detected") ? "crashed" : "failed";
            assertEquals(0, exitCode, "the child JVM " + how + " (exit " + exitCode + "):\n" + output);
            for (String m : markers) assertTrue(output.contains(m), "the child printed no '" + m + "':\n" + output);
        }
    }

    /** Runs {@code main}'s main method with {@code args}; fails after {@code timeoutSeconds}. */
    public static Result run(Class<?> main, int timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-XX:ErrorFile=" + Path.of(System.getProperty("java.io.tmpdir"), "progrpo-hs_err_%p.log"),
                "-XX:-CreateCoredumpOnCrash", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("progrpo-child", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            return done ? new Result(p.exitValue(), out) : new Result(-1, "timed out after " + timeoutSeconds + " s\n" + out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
