package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.ShimLibrary;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The libtorch runtime: versions, CUDA, threads, global seed and the active BLAS.
 *
 * <h2>Thread defaults</h2>
 * libtorch's intra-op pool is set at first use to {@code -Dprogrpo.torch.threads} if given, else to the number of
 * processors the JVM sees; inter-op threads to {@code -Dprogrpo.torch.interopThreads} (default 1: the JVM does
 * the inter-op work). libtorch only parallelises ops above its grain size (32768 elements), so small ops stay on the
 * calling thread whatever the setting. Measured on 2 cores: a 1024x1024 float add took 0.18 to 3 ms per op with
 * libtorch's default set-up against 0.09 ms once the thread count was set; see docs/benchmarks.md. On shared cores,
 * also launch with {@code OMP_WAIT_POLICY=PASSIVE} (libgomp reads it at load time, so it cannot be set from here):
 * spinning OpenMP workers made large ops 10x slower under load; the scripts set it.
 */
public final class Torch {
    private Torch() {}

    static void applyThreadDefaults() {
        int threads = Integer.getInteger("progrpo.torch.threads", Runtime.getRuntime().availableProcessors());
        int interop = Integer.getInteger("progrpo.torch.interopThreads", 1);
        Native.check(progrpo_torch_h.pt_set_num_threads(Math.max(1, threads)), "set_num_threads");
        // inter-op threads can be set only once, before any inter-op work; ignore a refusal
        progrpo_torch_h.pt_set_num_interop_threads(Math.max(1, interop));
    }

    /** True when the shim and libtorch are loaded. */
    public static boolean isAvailable() {
        return ShimLibrary.isLoaded();
    }

    /** Why the shim is not available, if it is not. */
    public static Optional<String> unavailableReason() {
        return Optional.ofNullable(ShimLibrary.failure());
    }

    /** Throws {@link TorchUnavailableException} naming the fix when the shim or libtorch is missing. */
    public static void ensureAvailable() {
        Native.ensureLoaded();
    }

    private static int intOut(int status, String what) {
        Native.check(status, what);
        return Native.scratch().ints.getAtIndex(ValueLayout.JAVA_INT, 0);
    }

    /** libtorch's version, e.g. "1.13.1". */
    public static String version() {
        Native.ensureLoaded();
        int v = intOut(progrpo_torch_h.pt_torch_version(Native.scratch().ints), "torch_version");
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
    }

    public static int abiVersion() {
        Native.ensureLoaded();
        return intOut(progrpo_torch_h.pt_abi_version(Native.scratch().ints), "abi_version");
    }

    public static boolean cudaAvailable() {
        Native.ensureLoaded();
        return intOut(progrpo_torch_h.pt_cuda_is_available(Native.scratch().ints), "cuda_is_available") != 0;
    }

    public static int cudaDeviceCount() {
        Native.ensureLoaded();
        return intOut(progrpo_torch_h.pt_cuda_device_count(Native.scratch().ints), "cuda_device_count");
    }

    /** Whether the shim was compiled against a CUDA build of libtorch. */
    public static boolean builtWithCuda() {
        Native.ensureLoaded();
        return intOut(progrpo_torch_h.pt_built_with_cuda(Native.scratch().ints), "built_with_cuda") != 0;
    }

    public static void setNumThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        Native.ensureLoaded();
        Native.check(progrpo_torch_h.pt_set_num_threads(n), "set_num_threads");
    }

    public static int numThreads() {
        Native.ensureLoaded();
        return intOut(progrpo_torch_h.pt_get_num_threads(Native.scratch().ints), "get_num_threads");
    }

    /** Seeds libtorch's default generators (prefer an explicit {@link Generator}). */
    public static void manualSeed(long seed) {
        Native.ensureLoaded();
        Native.check(progrpo_torch_h.pt_manual_seed(seed), "manual_seed");
    }

    public static void cudaSynchronize(int deviceIndex) {
        Native.ensureLoaded();
        Native.check(progrpo_torch_h.pt_cuda_synchronize(deviceIndex), "cuda_synchronize");
    }

    /** The path of the loaded shim. */
    public static Optional<Path> shimPath() {
        return ShimLibrary.path();
    }

    /**
     * The BLAS library mapped into this process (read from /proc/self/maps), e.g. ".../openblas-pthread/libblas.so.3";
     * empty when none is mapped or the platform has no /proc.
     */
    public static Optional<String> blasLibrary() {
        Native.ensureLoaded();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int i = line.indexOf('/');
                if (i < 0) continue;
                String p = line.substring(i);
                String name = Path.of(p).getFileName().toString();
                if (name.startsWith("libblas") || name.startsWith("libopenblas") || name.startsWith("libmkl_rt")) {
                    return Optional.of(Path.of(p).toRealPath().toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** True when the mapped BLAS is the slow reference implementation (Debian's libblas3). */
    public static boolean isReferenceBlas() {
        return blasLibrary().map(p -> !(p.contains("openblas") || p.contains("mkl") || p.contains("blis"))).orElse(false);
    }

    /** One line for logs: versions, threads, BLAS, CUDA. */
    public static String describe() {
        return "libtorch " + version() + " (shim ABI " + abiVersion() + "), intra-op threads " + numThreads()
                + ", BLAS " + blasLibrary().orElse("unknown") + (isReferenceBlas() ? " (REFERENCE BLAS: slow matmul)" : "")
                + ", CUDA " + (cudaAvailable() ? cudaDeviceCount() + " device(s)" : "not available");
    }
}
