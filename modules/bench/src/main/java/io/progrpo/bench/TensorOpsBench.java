package io.progrpo.bench;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Per-op latency of the tensor module: the time from the Java call to a closed result, so each figure includes the
 * downcall, wrapping the result (metadata, memory ledger, ownership) and freeing it. The same ops are timed in PyTorch
 * eager by {@code bench/python/ops.py}; {@code scripts/bench-ops} prints both side by side.
 *
 * <p>Inputs are made once per trial; libtorch's intra-op thread count comes from {@code -Dprogrpo.torch.threads}
 * (default: the processors the JVM sees), which {@code scripts/bench-ops} sets to the Python side's count.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(org.openjdk.jmh.annotations.Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=io.progrpo.tensor,ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TensorOpsBench {
    private Tensor small0;
    private Tensor small1;
    private Tensor large0;
    private Tensor large1;
    private Tensor mat0;
    private Tensor mat1;

    @Setup(Level.Trial)
    public void setUp() {
        try (Generator g = Generator.create(20251217L)) {
            small0 = Tensor.randn(g, 4, 4);
            small1 = Tensor.randn(g, 4, 4);
            large0 = Tensor.randn(g, 1024, 1024);
            large1 = Tensor.randn(g, 1024, 1024);
            mat0 = Tensor.randn(g, 512, 512);
            mat1 = Tensor.randn(g, 512, 512);
        }
        // one line in the JMH log, so the run records what it measured on
        System.out.println("# progrpo: " + Torch.describe());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {small0, small1, large0, large1, mat0, mat1}) t.close();
    }

    /** 4x4 float add, result closed explicitly: the per-op overhead of the binding dominates. */
    @Benchmark
    public long add_4x4() {
        try (Tensor r = small0.add(small1)) {
            return r.numel();
        }
    }

    /** The same add with the result owned by a Scope, the style the trainer uses. */
    @Benchmark
    public long add_4x4_scoped() {
        try (Scope s = Scope.open()) {
            return small0.add(small1).numel();
        }
    }

    /** 1024x1024 float add (4 MiB per operand): memory bandwidth and intra-op threads. */
    @Benchmark
    public long add_1024x1024() {
        try (Tensor r = large0.add(large1)) {
            return r.numel();
        }
    }

    /** 512x512 float matmul: the BLAS. */
    @Benchmark
    public long matmul_512x512() {
        try (Tensor r = mat0.matmul(mat1)) {
            return r.numel();
        }
    }
}
