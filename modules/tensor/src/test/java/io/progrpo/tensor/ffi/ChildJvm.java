package io.progrpo.tensor.ffi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's {@code main} class in a fresh JVM with this JVM's class path and shim, so that a native abort (exit
 * 134) or crash fails the test that started it instead of killing Surefire's JVM.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** What the child did: its exit status ({@code -1} when it had to be killed) and its stdout and stderr together. */
    public record Result(int exitCode, String output) {
        /** The exit status of a JVM killed by a signal (134 = SIGABRT, as from std::terminate) reads as such. */
        public String describe() {
            String how = exitCode > 128 ? " (killed by signal " + (exitCode - 128) + (exitCode == 134 ? ", SIGABRT: a C++ exception escaped" : "") + ")" : "";
            return "child JVM exit status " + exitCode + how + "\n--- child output ---\n" + output;
        }
    }

    /**
     * Starts {@code main} with {@code args}; {@code shellPrefix} (such as {@code "ulimit -f 64"}), when not null, runs
     * in {@code /bin/sh} first and then execs the JVM, so the limit applies to the child alone.
     */
    public static Result run(Class<?> main, String shellPrefix, long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xss4m",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-cp", System.getProperty("java.class.path"), main.getName()));
        java.addAll(List.of(args));
        List<String> cmd = new ArrayList<>();
        if (shellPrefix != null) {
            cmd.addAll(List.of("/bin/sh", "-c", shellPrefix + " && exec \"$@\"", "child"));
        }
        cmd.addAll(java);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        // read in the background so a chatty child never blocks on a full pipe
        var out = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (var in = p.getInputStream()) {
                in.transferTo(out);
            } catch (IOException ignored) {
                // the child is gone
            }
        });
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        reader.join(5000);
        String text;
        synchronized (out) {
            text = out.toString(StandardCharsets.UTF_8);
        }
        return new Result(done ? p.exitValue() : -1, done ? text : text + "\n[killed after " + timeoutSeconds + " s]");
    }
}
