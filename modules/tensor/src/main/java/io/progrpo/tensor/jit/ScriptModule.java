package io.progrpo.tensor.jit;

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
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

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
        return MethodCall.invoke(b, guard, origin, method, args);
    }

    // ---- parameters and buffers ---------------------------------------------------------------------------------

    /**
     * Every parameter of the module and its submodules by dotted name ("blocks.0.q.lora_A"), in the module's order.
     * The tensors alias the module's own (see the class comment): owned by this object, do not close them.
     */
    public Map<String, Tensor> namedParameters() {
        if (parameters == null) parameters = Collections.unmodifiableMap(named(ScriptParameters.PARAMETERS));
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
        return ScriptParameters.pick(named(ScriptParameters.PARAMETERS), names, origin);
    }

    /** Every buffer (e.g. batch-norm statistics, constant tables) by dotted name; aliases like the parameters. */
    public Map<String, Tensor> namedBuffers() {
        if (buffers == null) buffers = Collections.unmodifiableMap(named(ScriptParameters.BUFFERS));
        checkOpen();
        return buffers;
    }

    private Map<String, Tensor> named(int kind) {
        return ScriptParameters.named(bridge(), guard, origin, kind);
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
        Pattern p = ScriptParameters.trainablePattern(regex);
        return ScriptParameters.selectTrainable(namedParameters(), p, origin);
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
        return ScriptParameters.load(namedParameters(), path, origin);
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
