package io.progrpo.bench;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * Where the time of a 4x4 add goes, layer by layer. A public {@code Tensor.add} makes three downcalls
 * ({@code pt_binary}, {@code pt_tensor_info} when wrapping the result, {@code pt_tensor_free} when closing it) plus
 * Java bookkeeping (memory ledger, scope or leak safety net). The {@code raw_*} benchmarks call the generated bindings
 * directly, which only works on the class path (the bindings' package is not exported), to take those layers apart:
 * <ul>
 *   <li>{@code raw_downcall}: one trivial downcall ({@code pt_get_num_threads}), the FFM transition alone;</li>
 *   <li>{@code raw_add_free}: the op and the free, nothing else: the floor any binding of this shim can reach;</li>
 *   <li>{@code raw_add_info_free}: plus the metadata read that wrapping a result does;</li>
 *   <li>{@code api_add_close} and {@code api_add_scoped}: the public API, explicit close and scope.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(org.openjdk.jmh.annotations.Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=io.progrpo.tensor,ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AddOverheadBench {
    private Tensor a;
    private Tensor b;
    private MemorySegment ha;
    private MemorySegment hb;
    private Arena arena;
    private MemorySegment out;
    private MemorySegment info;
    private MemorySegment ints;

    @Setup(Level.Trial)
    public void setUp() {
        try (Generator g = Generator.create(7L)) {
            a = Tensor.randn(g, 4, 4);
            b = Tensor.randn(g, 4, 4);
        }
        arena = Arena.ofConfined();
        out = arena.allocate(ValueLayout.ADDRESS, 2);
        info = arena.allocate(ValueLayout.JAVA_LONG, 8);
        ints = arena.allocate(ValueLayout.JAVA_INT, 2);
        // the same handles the public API passes to the shim (TensorAccess is the module-internal bridge)
        ha = TensorAccess.get().handle(a);
        hb = TensorAccess.get().handle(b);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        arena.close();
    }

    @Benchmark
    public int raw_downcall() {
        return progrpo_torch_h.pt_get_num_threads(ints);
    }

    @Benchmark
    public int raw_add_free() {
        progrpo_torch_h.pt_binary(0, ha, hb, out);
        return progrpo_torch_h.pt_tensor_free(out.getAtIndex(ValueLayout.ADDRESS, 0));
    }

    @Benchmark
    public int raw_add_info_free() {
        progrpo_torch_h.pt_binary(0, ha, hb, out);
        MemorySegment r = out.getAtIndex(ValueLayout.ADDRESS, 0);
        progrpo_torch_h.pt_tensor_info(r, info);
        return progrpo_torch_h.pt_tensor_free(r);
    }

    @Benchmark
    public long api_add_close() {
        try (Tensor r = a.add(b)) {
            return r.numel();
        }
    }

    @Benchmark
    public long api_add_scoped() {
        try (Scope s = Scope.open()) {
            return a.add(b).numel();
        }
    }
}
