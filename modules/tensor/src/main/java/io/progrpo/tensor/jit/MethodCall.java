package io.progrpo.tensor.jit;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.HandleGuard;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One call of a TorchScript method through pt_jit_call: the Java arguments packed into the shim's parallel arrays
 * (a kind per argument and a slot of the matching type), the call under the module's {@link HandleGuard}, and the
 * result handles adopted as new tensors. {@link ScriptModule#call} documents the accepted types and the errors.
 */
final class MethodCall {
    private static final int KIND_TENSOR = progrpo_torch_h.PT_JIT_ARG_TENSOR();
    private static final int KIND_DOUBLE = progrpo_torch_h.PT_JIT_ARG_DOUBLE();
    private static final int KIND_INT64 = progrpo_torch_h.PT_JIT_ARG_INT64();
    private static final int KIND_BOOL = progrpo_torch_h.PT_JIT_ARG_BOOL();
    private static final int KIND_NONE = progrpo_torch_h.PT_JIT_ARG_NONE();

    private MethodCall() {}

    /** Calls {@code method} of the module behind {@code guard} ({@code origin} names it in messages). */
    static List<Tensor> invoke(TensorAccess.Bridge b, HandleGuard guard, String origin, String method, Object[] args) {
        int n = args == null ? 0 : args.length;
        try (Arena a = Arena.ofConfined()) {
            int slots = Math.max(1, n);
            MemorySegment kinds = a.allocate(ValueLayout.JAVA_INT, slots);
            MemorySegment tensors = a.allocate(ValueLayout.ADDRESS, slots);
            MemorySegment doubles = a.allocate(ValueLayout.JAVA_DOUBLE, slots);
            MemorySegment ints = a.allocate(ValueLayout.JAVA_LONG, slots);
            for (int i = 0; i < n; i++) {
                Object v = args[i];
                switch (v) {
                    case null -> kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_NONE);
                    case Tensor t -> {
                        kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_TENSOR);
                        tensors.setAtIndex(ValueLayout.ADDRESS, i, b.handle(t));
                    }
                    case Double d -> {
                        kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_DOUBLE);
                        doubles.setAtIndex(ValueLayout.JAVA_DOUBLE, i, d);
                    }
                    case Float f -> {
                        kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_DOUBLE);
                        doubles.setAtIndex(ValueLayout.JAVA_DOUBLE, i, f);
                    }
                    case Integer k -> {
                        kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_INT64);
                        ints.setAtIndex(ValueLayout.JAVA_LONG, i, k);
                    }
                    case Long k -> {
                        kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_INT64);
                        ints.setAtIndex(ValueLayout.JAVA_LONG, i, k);
                    }
                    case Boolean z -> {
                        kinds.setAtIndex(ValueLayout.JAVA_INT, i, KIND_BOOL);
                        ints.setAtIndex(ValueLayout.JAVA_LONG, i, z ? 1 : 0);
                    }
                    default -> throw new IllegalArgumentException("TorchScript " + origin + " " + method + ": argument " + i
                            + " is a " + v.getClass().getName() + "; expected a Tensor, Double, Float, Integer, Long, Boolean or null");
                }
            }
            int max = ScriptModule.MAX_RESULTS;
            MemorySegment outs = a.allocate(ValueLayout.ADDRESS, max);
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment name = a.allocateFrom(method);
            int st = guard.call(h -> progrpo_torch_h.pt_jit_call(h, name, kinds, tensors, doubles, ints, n, outs, max, count));
            b.check(st, () -> "TorchScript " + origin + " " + method + "(" + describe(args) + ")");
            int k = count.get(ValueLayout.JAVA_INT, 0);
            List<Tensor> r = new ArrayList<>(k);
            for (int i = 0; i < k; i++) r.add(b.adopt(outs.getAtIndex(ValueLayout.ADDRESS, i)));
            return r;
        }
    }

    /** The arguments for an error message: tensors by shape, dtype and device, other values as text. */
    private static String describe(Object[] args) {
        if (args == null) return "";
        List<String> parts = new ArrayList<>();
        for (Object o : args) {
            if (o instanceof Tensor t) {
                parts.add(t.isClosed() ? "closed tensor" : Arrays.toString(t.shape()) + " " + t.dtype().name().toLowerCase() + " " + t.device());
            } else {
                parts.add(String.valueOf(o));
            }
        }
        return String.join(", ", parts);
    }
}
