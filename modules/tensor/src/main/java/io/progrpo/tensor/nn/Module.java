package io.progrpo.tensor.nn;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.TensorAccess;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base of neural-network modules: named parameters (leaf tensors with requires_grad) and sub-modules, train/eval
 * mode, state dicts. A module owns its parameters (they belong to no scope) and frees them in {@link #close()}.
 * Names are dotted paths as in PyTorch ("blocks.0.linear.weight"), so state dicts match Python's. A module is used on
 * the thread its parameters are confined to (see {@link Tensor}); {@link #close()} from another thread throws
 * {@link WrongThreadException} and closes nothing.
 */
public abstract class Module implements AutoCloseable {
    private final LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;
    private boolean closed;

    /** Registers {@code t} as a trainable parameter (sets requires_grad) and takes ownership of it. */
    protected final Tensor registerParameter(String name, Tensor t) {
        checkName(name);
        return putParameter(name, t);
    }

    /**
     * Registers a tensor whose storage another object owns (e.g. a TorchScript module's parameter alias) under its
     * dotted path ("blocks.0.q.lora_A"), so optimizers, state dicts and {@link #parameters()} see it; like
     * {@link #registerParameter} it sets requires_grad and takes the handle out of any scope, and {@link #close()}
     * closes the handle (the storage lives on with its owner). A subclass holding such aliases must not be moved
     * with {@link #to}, which would replace them with copies.
     */
    protected final Tensor registerParameterAlias(String path, Tensor t) {
        if (path == null || path.isEmpty() || path.startsWith(".") || path.endsWith(".") || path.contains("..")) {
            throw new IllegalArgumentException("a parameter path must be non-empty dotted names, got '" + path + "'");
        }
        return putParameter(path, t);
    }

    private Tensor putParameter(String name, Tensor t) {
        if (params.containsKey(name)) throw new IllegalArgumentException("parameter '" + name + "' is already registered");
        TensorAccess.get().release(t);
        t.setRequiresGrad(true);
        params.put(name, t);
        return t;
    }

    /**
     * Takes {@code t} out of any open scope: the subclass owns it from now on (a cache derived from its parameters,
     * not a parameter: no state dict or optimizer sees it) and must close it, in {@link #close()} at the latest.
     */
    protected static Tensor own(Tensor t) {
        TensorAccess.get().release(t);
        return t;
    }

    protected final <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        if (children.containsKey(name)) throw new IllegalArgumentException("module '" + name + "' is already registered");
        children.put(name, m);
        return m;
    }

    private static void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("a parameter or module name must be non-empty without '.', got '" + name + "'");
        }
    }

    /** The parameter registered as {@code name} directly on this module. */
    protected final Tensor parameter(String name) {
        checkOpen();
        Tensor t = params.get(name);
        if (t == null) throw new IllegalArgumentException("no parameter '" + name + "' on " + getClass().getSimpleName());
        return t;
    }

    /** Every parameter of this module and its sub-modules, by dotted name, in registration order. */
    public final Map<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out) {
        checkOpen();
        params.forEach((n, t) -> out.put(prefix + n, t));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public final long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    public final Map<String, Module> namedChildren() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** Sets training mode here and in every sub-module. */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(m -> m.train(on));
        return this;
    }

    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** The parameters by dotted name (the module's own tensors: do not close them). */
    public final Map<String, Tensor> stateDict() {
        return namedParameters();
    }

    /**
     * Copies values into this module's parameters in place. Every parameter must be present with the same shape;
     * extra entries are an error unless {@code strict} is false.
     */
    public final void loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> mine = namedParameters();
        List<String> missing = new ArrayList<>();
        for (String k : mine.keySet()) if (!state.containsKey(k)) missing.add(k);
        List<String> extra = new ArrayList<>();
        for (String k : state.keySet()) if (!mine.containsKey(k)) extra.add(k);
        if (!missing.isEmpty() || (strict && !extra.isEmpty())) {
            throw new IllegalArgumentException("state dict does not match " + getClass().getSimpleName() + ": missing " + missing
                    + (strict ? ", unexpected " + extra : ""));
        }
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("parameter '" + e.getKey() + "': expected shape " + Arrays.toString(e.getValue().shape())
                        + ", the state dict has " + Arrays.toString(src.shape()));
            }
        }
        try (var ng = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : mine.entrySet()) e.getValue().copyFrom(state.get(e.getKey()));
        }
    }

    /** Moves every parameter to {@code device} and {@code dtype} (replacing the tensors; optimizers must be rebuilt). */
    public Module to(Device device, DType dtype) {
        for (Map.Entry<String, Tensor> e : new ArrayList<>(params.entrySet())) {
            Tensor old = e.getValue();
            if (old.device().equals(device) && old.dtype() == dtype) continue;
            Tensor moved;
            try (var ng = Autograd.noGrad()) {
                moved = old.to(device, dtype);
            }
            TensorAccess.get().release(moved);
            moved.setRequiresGrad(true);
            params.put(e.getKey(), moved);
            old.close();
        }
        children.values().forEach(m -> m.to(device, dtype));
        return this;
    }

    /** Sets requires_grad on every parameter (false freezes the module, e.g. a reference policy). */
    public final Module requiresGrad(boolean on) {
        for (Tensor t : namedParameters().values()) t.setRequiresGrad(on);
        return this;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }

    /**
     * Frees every parameter of this module and its sub-modules. Idempotent. Needs the thread the parameters are
     * confined to: from another one it throws {@link WrongThreadException} and closes nothing.
     */
    @Override
    public void close() {
        if (closed) return;
        checkUsableHere();
        closed = true;
        params.values().forEach(Tensor::close);
        children.values().forEach(Module::close);
    }

    private void checkUsableHere() {
        if (closed) return;
        var b = TensorAccess.get();
        for (Tensor t : params.values()) {
            if (!t.isClosed()) b.handle(t);
        }
        children.values().forEach(Module::checkUsableHere);
    }

    /** U(-bound, bound) of the given shape, float32 on {@code device}, from {@code gen}. */
    protected static Tensor uniform(Generator gen, double bound, Device device, long... shape) {
        try (Tensor u = Tensor.rand(gen, DType.FLOAT32, device, shape); Tensor s = u.mul(2 * bound)) {
            return s.sub(bound);
        }
    }
}
