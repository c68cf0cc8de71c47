package io.progrpo.tensor.jit;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.TorchException;
import io.progrpo.tensor.internal.HandleGuard;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A TorchScript module (a file written by Python's {@code torch.jit.save} of a scripted or traced {@code nn.Module})
 * loaded into libtorch on a device: its methods called with tensors and simple values, its named parameters and
 * buffers, train/eval mode, a trainable subset selected by name, and saving.
 *
 * <p><b>Parameters are aliases.</b> {@link #namedParameters()} returns tensors that share the module's own storage
 * and autograd identity: an optimizer over them (e.g. {@code new AdamW(m.trainableParameters().values(), ...)})
 * trains the module in place, and the next {@link #call} sees the new values. The aliases belong to this object
 * (no scope, confined to the thread that first listed them) and are closed with it; never close them yourself.
 *
 * <p><b>Calls.</b> {@link #call(String, Object...)} passes positional arguments after {@code self}: a {@link Tensor},
 * a {@link Double} or {@link Float} ({@code float} in TorchScript), an {@link Integer} or {@link Long} ({@code int}),
 * a {@link Boolean} ({@code bool}) or {@code null} ({@code None}); missing trailing arguments take the schema's
 * defaults. A method may return a tensor (one result), a tuple or list of tensors (every element, in order) or
 * {@code None} (no result). Results are new tensors owned by the scope open on the calling thread, or by the caller.
 * A failure throws {@link TorchException} whose message names the file, the method, the arguments' shapes and
 * dtypes, and ends with libtorch's (or the script's own) message.
 *
 * <p><b>Threads.</b> Calls ({@link #call}, {@link #forward}, {@link #methodNames}, {@link #save}, ...) may come from
 * any thread, several at once as far as libtorch allows (it runs TorchScript methods concurrently; switching
 * {@link #train} while another thread calls is a race on the mode); tensor arguments follow {@link Tensor}'s
 * confinement. {@link #close()} may come from any thread that may use the aliases, also during calls on other
 * threads: those calls complete, the module is freed when the last returns, and later calls throw
 * {@link IllegalStateException}; it is never freed under a running call.
 */
public final class ScriptModule implements AutoCloseable {
    /** The most results one call may return (a tuple of more tensors fails with a message saying so). */
    public static final int MAX_RESULTS = 64;

    private static final int KIND_TENSOR = progrpo_torch_h.PT_JIT_ARG_TENSOR();
    private static final int KIND_DOUBLE = progrpo_torch_h.PT_JIT_ARG_DOUBLE();
    private static final int KIND_INT64 = progrpo_torch_h.PT_JIT_ARG_INT64();
    private static final int KIND_BOOL = progrpo_torch_h.PT_JIT_ARG_BOOL();
    private static final int KIND_NONE = progrpo_torch_h.PT_JIT_ARG_NONE();

    private final Path file;
    private final Device device;
    private final String origin;
    private final HandleGuard guard;
    private Map<String, Tensor> parameters;
    private Map<String, Tensor> buffers;

    private ScriptModule(Path file, Device device, String origin, MemorySegment handle) {
        this.file = file;
        this.device = device;
        this.origin = origin;
        this.guard = new HandleGuard(handle, progrpo_torch_h::pt_jit_free, () -> "TorchScript module " + origin, false);
    }

    private static TensorAccess.Bridge bridge() {
        TensorAccess.Bridge b = TensorAccess.get();
        b.ensureLoaded();
        return b;
    }

    /** {@link #load(Path, Device)} on the CPU. */
    public static ScriptModule load(Path file) throws IOException {
        return load(file, Device.CPU);
    }

    /**
     * Loads a TorchScript file with every parameter and buffer on {@code device}.
     *
     * @throws NoSuchFileException when {@code file} is not a regular file
     * @throws IOException naming the file when it is not a TorchScript archive (e.g. a {@code torch.save} state dict)
     *                     or cannot be read
     */
    public static ScriptModule load(Path file, Device device) throws IOException {
        if (file == null) throw new IllegalArgumentException("TorchScript file is null");
        if (device == null) throw new IllegalArgumentException("device is null");
        var b = bridge();
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no such TorchScript file");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            int st = progrpo_torch_h.pt_jit_load(a.allocateFrom(file.toAbsolutePath().toString()),
                    device.isCuda() ? progrpo_torch_h.PT_DEVICE_CUDA() : progrpo_torch_h.PT_DEVICE_CPU(), device.index(), out);
            if (st != 0) {
                throw new IOException("cannot load " + file + " as a TorchScript module on " + device
                        + " (expected a file written by torch.jit.save; a torch.save state dict or another file is not one): "
                        + b.lastError());
            }
            return new ScriptModule(file, device, file.toString(), out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** The file this module was loaded from. */
    public Path file() {
        return file;
    }

    public Device device() {
        return device;
    }

    private void checkOpen() {
        if (guard.isClosed()) throw new IllegalStateException("TorchScript module " + origin + " is closed");
    }

    // ---- methods ------------------------------------------------------------------------------------------------

    /** The module's method names (e.g. forward, and any {@code @torch.jit.export}-ed ones). */
    public List<String> methodNames() {
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_method_names(h, out)), () -> "TorchScript " + origin + ": method names");
            String s = out.get(ValueLayout.ADDRESS, 0).reinterpret(Integer.MAX_VALUE).getString(0);
            return s.isEmpty() ? List.of() : List.of(s.split(","));
        }
    }

    public boolean hasMethod(String method) {
        if (method == null || method.isEmpty()) throw new IllegalArgumentException("method name is empty");
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment name = a.allocateFrom(method);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_has_method(h, name, out)), () -> "TorchScript " + origin + ": has_method");
            return out.get(ValueLayout.JAVA_INT, 0) != 0;
        }
    }

    /**
     * Throws unless the module has {@code method}.
     *
     * @throws IllegalArgumentException naming the file, the method and the methods the module has
     */
    public ScriptModule requireMethod(String method) {
        if (!hasMethod(method)) {
            throw new IllegalArgumentException("TorchScript module " + origin + " has no method '" + method + "' (it has: "
                    + String.join(", ", methodNames()) + ")");
        }
        return this;
    }

    /** The method's TorchScript schema, e.g. {@code forward(__torch__.M self, Tensor x) -> Tensor}. */
    public String schema(String method) {
        requireMethod(method);
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            MemorySegment name = a.allocateFrom(method);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_method_schema(h, name, out)), () -> "TorchScript " + origin + ": schema of " + method);
            return out.get(ValueLayout.ADDRESS, 0).reinterpret(Integer.MAX_VALUE).getString(0);
        }
    }

    /** {@code call("forward", args)}, which must return exactly one tensor. */
    public Tensor forward(Object... args) {
        return callTensor("forward", args);
    }

    /** Calls {@code method}, which must return exactly one tensor. */
    public Tensor callTensor(String method, Object... args) {
        List<Tensor> r = call(method, args);
        if (r.size() != 1) {
            r.forEach(Tensor::close);
            throw new IllegalStateException("TorchScript " + origin + " " + method + " returned " + r.size()
                    + " tensors; expected exactly one");
        }
        return r.get(0);
    }

    /**
     * Calls {@code method} with positional arguments (see the class comment for the accepted types).
     *
     * @return the result tensors (none for {@code None}, one for a tensor, every element of a tuple or list)
     * @throws IllegalArgumentException naming the file and the method when there is no such method, or an argument of
     *                                  an unsupported Java type
     * @throws TorchException naming the file, the method and the arguments when TorchScript rejects the arguments
     *                        (types against the schema) or the method fails (e.g. a shape the script checks)
     */
    public List<Tensor> call(String method, Object... args) {
        if (method == null || method.isEmpty()) throw new IllegalArgumentException("method name is empty");
        var b = bridge();
        if (!hasMethod(method)) requireMethod(method); // (throws when closed)
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
            MemorySegment outs = a.allocate(ValueLayout.ADDRESS, MAX_RESULTS);
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment name = a.allocateFrom(method);
            int st = guard.call(h -> progrpo_torch_h.pt_jit_call(h, name, kinds, tensors, doubles, ints, n, outs, MAX_RESULTS, count));
            b.check(st, () -> "TorchScript " + origin + " " + method + "(" + describe(args) + ")");
            int k = count.get(ValueLayout.JAVA_INT, 0);
            List<Tensor> r = new ArrayList<>(k);
            for (int i = 0; i < k; i++) r.add(b.adopt(outs.getAtIndex(ValueLayout.ADDRESS, i)));
            return r;
        }
    }

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

    // ---- parameters and buffers ---------------------------------------------------------------------------------

    /**
     * Every parameter of the module and its submodules by dotted name ("blocks.0.q.lora_A"), in the module's order.
     * The tensors alias the module's own (see the class comment): owned by this object, do not close them.
     */
    public Map<String, Tensor> namedParameters() {
        if (parameters == null) parameters = Collections.unmodifiableMap(named(0));
        checkOpen();
        return parameters;
    }

    /**
     * NEW handles to the named parameters, aliasing the module's own like {@link #namedParameters()} but owned by the
     * caller, who closes them (closing a handle never frees the module's storage). For an owner with its own
     * lifetime, e.g. an {@code nn.Module} that registers them as its parameters.
     *
     * @throws IllegalArgumentException naming the file and the first name that is no parameter of the module
     */
    public Map<String, Tensor> newParameterAliases(java.util.Collection<String> names) {
        Map<String, Tensor> all = named(0);
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

    /** Every buffer (e.g. batch-norm statistics, constant tables) by dotted name; aliases like the parameters. */
    public Map<String, Tensor> namedBuffers() {
        if (buffers == null) buffers = Collections.unmodifiableMap(named(1));
        checkOpen();
        return buffers;
    }

    private Map<String, Tensor> named(int kind) {
        var b = bridge();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment list = a.allocate(ValueLayout.ADDRESS);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_named_tensors(h, kind, list)), () -> "TorchScript " + origin + ": named "
                    + (kind == 0 ? "parameters" : "buffers"));
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
                    b.release(alias);  // owned by this module, whatever scope is open
                    out.put(key, alias);
                }
            } finally {
                progrpo_torch_h.pt_named_free(l);
            }
        }
        return out;
    }

    /**
     * Makes exactly the parameters whose dotted name matches {@code regex} (anywhere in the name, as
     * {@link java.util.regex.Matcher#find()}: {@code "lora_"} selects every adapter weight) trainable, and freezes
     * every other one (requires_grad false), so gradients flow only into the selected subset.
     *
     * @return the selected parameters by name, in the module's order (aliases: do not close them)
     * @throws IllegalArgumentException naming the pattern and the file when the pattern is invalid or selects no
     *                                  parameter (with a few of the module's parameter names)
     */
    public Map<String, Tensor> selectTrainable(String regex) {
        if (regex == null || regex.isEmpty()) throw new IllegalArgumentException("the trainable-parameter pattern is empty");
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("trainable-parameter pattern '" + regex + "' is not a valid regular expression: "
                    + e.getDescription(), e);
        }
        Map<String, Tensor> all = namedParameters();
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

    /** The parameters with requires_grad set, by name (aliases). */
    public Map<String, Tensor> trainableParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> {
            if (v.requiresGrad()) out.put(k, v);
        });
        return Collections.unmodifiableMap(out);
    }

    /** Sets requires_grad on every parameter (false: a frozen module, e.g. a reference policy). */
    public ScriptModule requiresGrad(boolean on) {
        namedParameters().values().forEach(t -> t.setRequiresGrad(on));
        return this;
    }

    /** Total element count of the parameters (all, or only the trainable ones). */
    public long parameterCount(boolean trainableOnly) {
        long n = 0;
        for (Tensor t : (trainableOnly ? trainableParameters() : namedParameters()).values()) n += t.numel();
        return n;
    }

    // ---- mode, copies, saving -----------------------------------------------------------------------------------

    /** Training mode of the module and its submodules (dropout, batch norm), as {@code nn.Module.train(on)}. */
    public ScriptModule train(boolean on) {
        var b = bridge();
        b.check(guard.call(h -> progrpo_torch_h.pt_jit_train(h, on ? 1 : 0)), () -> "TorchScript " + origin + ": train(" + on + ")");
        return this;
    }

    public ScriptModule eval() {
        return train(false);
    }

    public boolean isTraining() {
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_is_training(h, out)), () -> "TorchScript " + origin + ": is_training");
            return out.get(ValueLayout.JAVA_INT, 0) != 0;
        }
    }

    /**
     * An independent copy with every parameter and buffer cloned (same device, same requires_grad flags, same mode):
     * e.g. a frozen reference policy ({@code copy.requiresGrad(false).eval()}). Costs one more model in memory.
     */
    public ScriptModule deepCopy() {
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            b.check(guard.call(h -> progrpo_torch_h.pt_jit_deepcopy(h, out)), () -> "TorchScript " + origin + ": deepcopy");
            return new ScriptModule(file, device, "copy of " + origin, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /**
     * Writes the parameters (all, or only the trainable ones, e.g. the LoRA adapters) as a dict of tensors that
     * Python's {@code torch.load(path)} reads; names are the module's dotted names, so
     * {@code model.load_state_dict(torch.load(path), strict=False)} applies them to the Python model.
     */
    public void saveParameters(Path path, boolean trainableOnly) throws IOException {
        TensorIO.save(path, trainableOnly ? trainableParameters() : namedParameters());
    }

    /**
     * Copies values from a file written by {@link #saveParameters} (or Python's {@code torch.save} of a state dict)
     * into the matching parameters in place. Every entry must name a parameter of this module with the same shape.
     *
     * @return how many parameters were loaded
     * @throws IllegalArgumentException naming the file and the entry that matches no parameter or has another shape
     */
    public int loadParameters(Path path) throws IOException {
        Map<String, Tensor> mine = namedParameters();
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

    /** Writes the whole module with its current parameter values (Python's {@code torch.jit.load} reads it), atomically. */
    public void save(Path path) throws IOException {
        var b = bridge();
        io.progrpo.tensor.internal.AtomicFiles.write(path, tmp -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment to = a.allocateFrom(tmp.toString());
                if (guard.call(h -> progrpo_torch_h.pt_jit_save(h, to)) != 0) {
                    throw new IOException("saving TorchScript module " + origin + " to " + path + " failed: " + b.lastError());
                }
            }
        });
    }

    public boolean isClosed() {
        return guard.isClosed();
    }

    /**
     * Frees the module, at once or, when other threads are inside calls, as the last of them returns, and closes the
     * parameter and buffer aliases listed from it (which needs the thread they are confined to: from another one it
     * throws {@link WrongThreadException} and changes nothing). Idempotent.
     */
    @Override
    public void close() {
        if (guard.isClosed()) return;
        var b = bridge();
        for (Map<String, Tensor> m : Arrays.asList(parameters, buffers)) {
            if (m != null) m.values().forEach(t -> { // usable on this thread, or throw before closing anything
                if (!t.isClosed()) b.handle(t);
            });
        }
        if (!guard.close()) return;
        if (parameters != null) parameters.values().forEach(Tensor::close);
        if (buffers != null) buffers.values().forEach(Tensor::close);
    }

    @Override
    public String toString() {
        return "ScriptModule[" + origin + " on " + device + (guard.isClosed() ? ", closed" : "") + "]";
    }
}
