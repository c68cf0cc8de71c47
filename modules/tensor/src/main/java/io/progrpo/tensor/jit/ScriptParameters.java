package io.progrpo.tensor.jit;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.internal.HandleGuard;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A TorchScript module's named tensors: listing its parameters or buffers as aliases (pt_jit_named_tensors), choosing
 * the trainable subset by a name pattern, and loading values from a file into the parameters. {@link ScriptModule}
 * holds the lists and documents the rules; {@code origin} names the module in every message.
 */
final class ScriptParameters {
    static final int PARAMETERS = 0;
    static final int BUFFERS = 1;

    private ScriptParameters() {}

    /**
     * NEW aliases of the module's parameters ({@link #PARAMETERS}) or buffers ({@link #BUFFERS}) by dotted name, in the
     * module's order, owned by the caller whatever scope is open.
     */
    static Map<String, Tensor> named(TensorAccess.Bridge b, HandleGuard guard, String origin, int kind) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment list = a.allocate(ValueLayout.ADDRESS);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_named_tensors(h, kind, list)), () -> "TorchScript " + origin + ": named "
                    + (kind == PARAMETERS ? "parameters" : "buffers"));
            MemorySegment l = list.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment size = a.allocate(ValueLayout.JAVA_INT);
                b.check(progrpo_torch_h.pt_named_size(l, size), () -> "named_size");
                MemorySegment name = a.allocate(ValueLayout.ADDRESS);
                MemorySegment t = a.allocate(ValueLayout.ADDRESS);
                for (int i = 0; i < size.get(ValueLayout.JAVA_INT, 0); i++) {
                    b.check(progrpo_torch_h.pt_named_get(l, i, name, t), () -> "named_get");
                    String key = name.get(ValueLayout.ADDRESS, 0).reinterpret(Integer.MAX_VALUE).getString(0);
                    Tensor alias = b.adopt(t.get(ValueLayout.ADDRESS, 0));
                    b.release(alias);  // owned by the module (or the caller), whatever scope is open
                    out.put(key, alias);
                }
            } finally {
                progrpo_torch_h.pt_named_free(l);
            }
        }
        return out;
    }

    /** The entries of {@code all} whose name is in {@code names}; closes the others, and all of them on a failure. */
    static Map<String, Tensor> pick(Map<String, Tensor> all, java.util.Collection<String> names, String origin) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (String n : names) {
                Tensor t = all.remove(n);
                if (t == null) {
                    if (out.containsKey(n)) continue;
                    throw new IllegalArgumentException("'" + n + "' is no parameter of " + origin);
                }
                out.put(n, t);
            }
        } catch (RuntimeException e) {
            out.values().forEach(Tensor::close);
            throw e;
        } finally {
            all.values().forEach(Tensor::close);
        }
        return out;
    }

    /** The trainable-parameter pattern {@code regex}, compiled. */
    static Pattern trainablePattern(String regex) {
        if (regex == null || regex.isEmpty()) throw new IllegalArgumentException("the trainable-parameter pattern is empty");
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("trainable-parameter pattern '" + regex + "' is not a valid regular expression: "
                    + e.getDescription(), e);
        }
    }

    /** Sets requires_grad on the parameters whose name matches {@code p} (find), clears it on the others. */
    static Map<String, Tensor> selectTrainable(Map<String, Tensor> all, Pattern p, String origin) {
        String regex = p.pattern();
        Map<String, Tensor> selected = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (p.matcher(k).find()) selected.put(k, v);
        });
        if (selected.isEmpty()) {
            List<String> names = new ArrayList<>(all.keySet());
            String sample = String.join(", ", names.subList(0, Math.min(8, names.size()))) + (names.size() > 8 ? ", ..." : "");
            throw new IllegalArgumentException("trainable-parameter pattern '" + regex + "' selects no parameter of " + origin
                    + " (" + names.size() + " parameters: " + sample + ")");
        }
        all.forEach((k, v) -> v.setRequiresGrad(selected.containsKey(k)));
        return Collections.unmodifiableMap(selected);
    }

    /** Copies every entry of the file at {@code path} into the parameter of its name, after checking all of them. */
    static int load(Map<String, Tensor> mine, Path path, String origin) throws IOException {
        Map<String, Tensor> loaded = TensorIO.load(path);
        try {
            for (Map.Entry<String, Tensor> e : loaded.entrySet()) {
                Tensor dst = mine.get(e.getKey());
                if (dst == null) {
                    throw new IllegalArgumentException(path + " has '" + e.getKey() + "', which is no parameter of " + origin);
                }
                if (!Arrays.equals(dst.shape(), e.getValue().shape())) {
                    throw new IllegalArgumentException(path + ": '" + e.getKey() + "' has shape " + Arrays.toString(e.getValue().shape())
                            + ", the module's parameter has " + Arrays.toString(dst.shape()));
                }
            }
            try (var ng = Autograd.noGrad()) {
                for (Map.Entry<String, Tensor> e : loaded.entrySet()) mine.get(e.getKey()).copyFrom(e.getValue());
            }
            return loaded.size();
        } finally {
            loaded.values().forEach(Tensor::close);
        }
    }
}
