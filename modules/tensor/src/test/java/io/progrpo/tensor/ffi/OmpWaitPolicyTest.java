package io.progrpo.tensor.ffi;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.ffi.NativeEnv;
import io.progrpo.tensor.internal.ffi.ShimLibrary;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * OpenMP's wait policy as libgomp itself reports it (OMP_DISPLAY_ENV=VERBOSE prints GOMP_SPINCOUNT when it loads): 0
 * for PASSIVE, 300000 for its spinning default, 30000000000 for ACTIVE. Each case is a fresh JVM, since libgomp reads
 * the environment once.
 */
class OmpWaitPolicyTest {

    /** The child: load the shim, run one op, exit. */
    public static final class Child {
        public static void main(String[] args) {
            try (Tensor t = Tensor.ones(DType.FLOAT32, Device.CPU, 1 << 20); Tensor u = t.add(1)) {
                System.out.println("child sum " + u.sum().item());
            }
        }
    }

    private static String spinCount(Map<String, String> env, String... jvmArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dprogrpo.shim.dir=" + System.getProperty("progrpo.shim.dir", "")));
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("OMP_WAIT_POLICY");
        pb.environment().put("OMP_DISPLAY_ENV", "VERBOSE");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child finished");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("child sum 2097152"), out);
        for (String line : out.split("\\R")) {
            String l = line.strip().replaceFirst("^\\[[a-z]+\\]\\s*", "");  // newer libgomp prefixes "[host] "
            if (l.startsWith("GOMP_SPINCOUNT = ")) return l.substring("GOMP_SPINCOUNT = ".length()).replace("'", "");
        }
        throw new AssertionError("libgomp printed no GOMP_SPINCOUNT (not libgomp?):\n" + out);
    }

    @Test
    void anUnsetPolicyBecomesPassiveBeforeLibgompLoads() throws Exception {
        assumeTrue(ShimLibrary.isLoaded() && NativeEnv.available(), "needs the shim and libc's setenv");
        assertEquals("0", spinCount(Map.of()));
    }

    @Test
    void thePropertyChoosesActiveOrLibgompsOwnDefault() throws Exception {
        assumeTrue(ShimLibrary.isLoaded() && NativeEnv.available(), "needs the shim and libc's setenv");
        assertEquals("300000", spinCount(Map.of(), "-D" + ShimLibrary.OMP_WAIT_POLICY_PROPERTY + "=inherit"));
        assertTrue(Long.parseLong(spinCount(Map.of(), "-D" + ShimLibrary.OMP_WAIT_POLICY_PROPERTY + "=active")) > 300000);
    }

    @Test
    void theEnvironmentWins() throws Exception {
        assumeTrue(ShimLibrary.isLoaded() && NativeEnv.available(), "needs the shim and libc's setenv");
        assertTrue(Long.parseLong(spinCount(Map.of("OMP_WAIT_POLICY", "ACTIVE"))) > 300000);
    }

    @Test
    void nativeEnvSetsOnlyWhatIsUnset() {
        assumeTrue(NativeEnv.available(), "needs libc's setenv");
        String name = "PROGRPO_NATIVE_ENV_TEST_" + ProcessHandle.current().pid();
        assertTrue(NativeEnv.get(name).isEmpty());
        assertTrue(NativeEnv.setIfUnset(name, "first"));
        assertEquals("first", NativeEnv.get(name).orElseThrow());
        assertTrue(!NativeEnv.setIfUnset(name, "second"));
        assertEquals("first", NativeEnv.get(name).orElseThrow());
    }
}
