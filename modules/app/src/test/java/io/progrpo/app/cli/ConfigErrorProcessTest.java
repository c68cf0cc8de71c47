package io.progrpo.app.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real entry point in a fresh JVM ({@code Main.main}, its {@code System.exit} and {@code System.err}), with real
 * environment variables: a config error is exit status 2 and one line on stderr, no stack trace.
 */
class ConfigErrorProcessTest {
    @TempDir
    Path tmp;

    private record Outcome(int status, String stderr) {}

    private Outcome run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", ""),
                "-Dprogrpo.cache=" + tmp.resolve("cache"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path err = tmp.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(tmp.resolve("stdout.txt").toFile());
        pb.environment().keySet().removeIf(k -> k.equals("WORLD_SIZE") || k.startsWith("PROGRPO_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the CLI finished");
        return new Outcome(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static void assertConfigError(Outcome o, String field, String fragment) {
        assertEquals(2, o.status(), o.stderr());
        assertEquals(1, o.stderr().lines().count(), o.stderr());
        assertTrue(o.stderr().startsWith("config error (" + field + "): "), o.stderr());
        assertTrue(o.stderr().contains(fragment), o.stderr());
        assertFalse(o.stderr().contains("\tat ") || o.stderr().contains("Exception"), o.stderr());
    }

    @Test
    void configErrorsExitTwoWithOneLine() throws Exception {
        assertConfigError(run(Map.of("WORLD_SIZE", "1", "PROGRPO_GROUPS_PER_STEP", "-1"), "train", "--dry-run"),
                "PROGRPO_GROUPS_PER_STEP", "got '-1'");
        Path json = Files.writeString(tmp.resolve("two.json"), "{\"epochs\": 2}{\"epochs\": 3}");
        assertConfigError(run(Map.of(), "train", "--config", json.toString()), "file " + json, "must hold one JSON object");
        assertConfigError(run(Map.of(), "train", "--set", "reward=nope"), "reward", "'nope'");
    }
}
