package io.progrpo.tensor.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.Torch;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;
import io.progrpo.tensor.jit.ScriptModule;
import io.progrpo.tensor.optim.AdamW;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every writer of the shim (optimizer state, tensor files, TorchScript modules) on a full disk: the write fails with
 * a message naming the file and the OS error, and the process lives on. The writers run in a child JVM, because on a
 * shim that lets libtorch's stream-writer destructor throw, the process aborts (exit 134).
 *
 * <p>Two ways to a failing file system without root: {@code /dev/full} (every write fails with ENOSPC; one path only,
 * so the child calls the shim's entry points directly, without the API's temporary file beside the target) and a
 * file-size limit ({@code ulimit -f}: writes past it fail with EFBIG; HotSpot ignores SIGXFSZ), under which the
 * public API's atomic writers run into a real directory. A tiny tmpfs would be closer to a full disk but needs root.
 */
class DiskFullTest {
    /** Elements of the "large" payloads: 1 MiB of float32, past any stream buffer and past the file-size limit. */
    static final int LARGE = 512 * 512;
    /** A file-size limit in /bin/sh blocks (512 or 1024 bytes): 32 or 64 KiB. */
    static final String LIMIT = "ulimit -f 64";

    @BeforeAll
    static void shim() {
        Torch.ensureAvailable();
    }

    /** The child: {@code devfull}, or {@code api DIR} under the file-size limit. Prints one CASE line per write. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            if (args[0].equals("devfull")) devFull();
            else api(Path.of(args[1]));
            System.out.println("CHILD DONE");
        }

        static String lastError() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                progrpo_torch_h.pt_last_error(out);
                return out.get(ValueLayout.ADDRESS, 0).reinterpret(1 << 16).getString(0);
            }
        }

        static void report(String name, int status) {
            System.out.println("CASE " + name + " status=" + status + " error=" + (status == 0 ? "" : lastError().replace('\n', ' ')));
        }

        static MemorySegment optimizer(Arena a, Tensor p) {
            var b = TensorAccess.get();
            MemorySegment hs = a.allocate(ValueLayout.ADDRESS);
            hs.set(ValueLayout.ADDRESS, 0, b.handle(p));
            MemorySegment opts = a.allocateFrom(ValueLayout.JAVA_DOUBLE, 1e-3, 0.9, 0.999, 1e-8, 1e-4);
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            b.check(progrpo_torch_h.pt_adamw_new(hs, 1, opts, out), () -> "adamw_new");
            MemorySegment h = out.get(ValueLayout.ADDRESS, 0);
            p.square().sum().backward();
            b.check(progrpo_torch_h.pt_optimizer_step(h), () -> "step");  // creates the state (two moments per parameter)
            return h;
        }

        static void devFull() throws Exception {
            var b = TensorAccess.get();
            try (Arena a = Arena.ofConfined(); Generator g = Generator.create(1)) {
                MemorySegment full = a.allocateFrom("/dev/full");
                for (int n : new int[] {LARGE, 4}) {
                    String size = n == LARGE ? "large" : "small";
                    try (Tensor p = Tensor.randn(g, n).setRequiresGrad(true)) {
                        MemorySegment opt = optimizer(a, p);
                        report("optimizer-" + size, progrpo_torch_h.pt_optimizer_save(opt, full));
                        progrpo_torch_h.pt_optimizer_free(opt);
                        MemorySegment names = a.allocate(ValueLayout.ADDRESS);
                        names.set(ValueLayout.ADDRESS, 0, a.allocateFrom("w"));
                        MemorySegment hs = a.allocate(ValueLayout.ADDRESS);
                        hs.set(ValueLayout.ADDRESS, 0, b.handle(p));
                        report("tensors-" + size, progrpo_torch_h.pt_save_named(full, names, hs, 1));
                    }
                }
                MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                Path velocity = fixtures().resolve("velocity.pt");
                b.check(progrpo_torch_h.pt_jit_load(a.allocateFrom(velocity.toString()), 0, 0, out), () -> "jit_load");
                MemorySegment mod = out.get(ValueLayout.ADDRESS, 0);
                report("module", progrpo_torch_h.pt_jit_save(mod, full));
                progrpo_torch_h.pt_jit_free(mod);
            }
        }

        static void api(Path dir) throws Exception {
            try (Generator g = Generator.create(2); Tensor p = Tensor.randn(g, LARGE).setRequiresGrad(true);
                 AdamW opt = new AdamW(List.of(p), AdamW.Options.DEFAULTS);
                 ScriptModule m = ScriptModule.load(fixtures().resolve("velocity.pt"))) {
                p.square().sum().backward();
                opt.step();
                apiCase("optimizer", () -> opt.save(dir.resolve("optimizer.pt")));
                apiCase("tensors", () -> TensorIO.save(dir.resolve("weights.pt"), Map.of("w", p)));
                apiCase("module", () -> m.save(dir.resolve("module.pt")));
                try (Stream<Path> left = Files.list(dir)) {
                    System.out.println("LEFT " + left.map(x -> x.getFileName().toString()).toList());
                }
                // the process is healthy: a small file below the limit still writes and reads back
                try (Tensor small = Tensor.of(new float[] {1, 2, 3}, 3)) {
                    TensorIO.save(dir.resolve("small.pt"), Map.of("s", small));
                    Map<String, Tensor> back = TensorIO.load(dir.resolve("small.pt"));
                    System.out.println("SMALL " + java.util.Arrays.toString(back.get("s").toFloatArray()));
                    back.values().forEach(Tensor::close);
                }
            }
        }

        interface Save {
            void run() throws IOException;
        }

        static void apiCase(String name, Save s) {
            try {
                s.run();
                System.out.println("CASE " + name + " status=0 error=");
            } catch (IOException e) {
                System.out.println("CASE " + name + " status=1 error=" + e.getMessage().replace('\n', ' '));
            }
        }
    }

    static Path fixtures() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("fixtures/torchscript");
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/torchscript not found above " + Path.of("").toAbsolutePath());
    }

    private static final Pattern CASE = Pattern.compile("^CASE (\\S+) status=(\\d+) error=(.*)$", Pattern.MULTILINE);

    static Map<String, String[]> cases(ChildJvm.Result r) {
        Map<String, String[]> m = new java.util.LinkedHashMap<>();
        Matcher x = CASE.matcher(r.output());
        while (x.find()) m.put(x.group(1), new String[] {x.group(2), x.group(3)});
        return m;
    }

    @Test
    void everyWriterOnDevFullFailsWithEnospcAndTheProcessLives() throws Exception {
        ChildJvm.Result r = ChildJvm.run(Child.class, null, 120, "devfull");
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.output().contains("CHILD DONE"), r.describe());
        Map<String, String[]> c = cases(r);
        List<String> expected = List.of("optimizer-large", "tensors-large", "optimizer-small", "tensors-small", "module");
        assertEquals(expected, new ArrayList<>(c.keySet()), r.describe());
        for (String name : expected) {
            String[] v = c.get(name);
            assertEquals("1", v[0], name + " reported success on a full disk:\n" + r.describe());
            assertTrue(v[1].contains("/dev/full") && v[1].contains("No space left on device"),
                    name + ": the message names the file and the OS error: " + v[1]);
        }
    }

    @Test
    void theAtomicWritersUnderAFileSizeLimitThrowIOExceptionAndLeaveNoFile(@TempDir Path dir) throws Exception {
        ChildJvm.Result r = ChildJvm.run(Child.class, LIMIT, 120, "api", dir.toString());
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.output().contains("CHILD DONE"), r.describe());
        Map<String, String[]> c = cases(r);
        assertEquals(List.of("optimizer", "tensors", "module"), new ArrayList<>(c.keySet()), r.describe());
        for (var e : c.entrySet()) {
            assertEquals("1", e.getValue()[0], e.getKey() + " reported success past the file-size limit:\n" + r.describe());
            assertTrue(e.getValue()[1].contains("File too large"), e.getKey() + ": the message names the OS error: " + e.getValue()[1]);
            assertTrue(e.getValue()[1].contains(dir.toString()), e.getKey() + ": the message names the file: " + e.getValue()[1]);
        }
        assertTrue(r.output().contains("LEFT []"), "no partial or temporary file is left:\n" + r.describe());
        assertTrue(r.output().contains("SMALL [1.0, 2.0, 3.0]"), "a small file still writes and reads back:\n" + r.describe());
    }
}
