package io.progrpo.tensor.optim;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.HandleGuard;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * A libtorch optimizer over a list of parameters (leaf tensors with requires_grad). It keeps its own references to
 * the parameters, so it stays valid while they are open; close it to free its state.
 *
 * <h2>Parameters</h2>
 * Each parameter may appear once in an optimizer, across all its groups: the same tensor twice, or two handles of it
 * (e.g. two aliases of one TorchScript parameter), would be updated twice per step, so the constructor and
 * {@link #addParamGroup} reject it with {@link IllegalArgumentException} naming both places.
 *
 * <h2>Threads</h2>
 * {@link #step()} and {@link #zeroGrad()} touch every parameter, so they run only on a thread that may use all of
 * them (see {@link Tensor}'s confinement): otherwise they throw {@link WrongThreadException} before changing anything,
 * and a closed parameter (e.g. one a module's {@code to()} replaced) is an {@link IllegalStateException}. libtorch's
 * optimizers are not thread-safe, so calls on one optimizer must not overlap: a call while another thread is inside
 * one throws {@link IllegalStateException}. {@link #close()} may come from any thread, also during a step: the
 * running step completes, the state is freed when it returns, and every later call throws
 * {@link IllegalStateException}; it never frees the state under a running step.
 */
public abstract sealed class Optimizer implements AutoCloseable permits AdamW, Sgd {
    private HandleGuard guard;
    /** Immutable; replaced as a whole by addParamGroup and close. */
    private volatile List<Tensor> params;
    /** Identity of every parameter -> "parameter i of group g", for the duplicate check. */
    private final Map<TensorAccess.Identity, String> places = new HashMap<>();
    private int groups;

    Optimizer(List<Tensor> params) {
        if (params.isEmpty()) throw new IllegalArgumentException("an optimizer needs at least one parameter");
        places.putAll(checkNew(params));
        this.params = List.copyOf(params);
    }

    void init(MemorySegment h) {
        groups = 1;
        this.guard = new HandleGuard(h, progrpo_torch_h::pt_optimizer_free, () -> getClass().getSimpleName() + " optimizer", true);
    }

    static TensorAccess.Bridge bridge() {
        return TensorAccess.get();
    }

    /**
     * Checks a new group before libtorch sees it: no null, no parameter twice in it or already in the optimizer.
     * Returns the group's places, for the caller to record once libtorch took the group.
     */
    private Map<TensorAccess.Identity, String> checkNew(List<Tensor> group) {
        var b = bridge();
        String name = getClass().getSimpleName();
        Map<TensorAccess.Identity, String> seen = new HashMap<>();
        for (int i = 0; i < group.size(); i++) {
            Tensor t = group.get(i);
            if (t == null) throw new IllegalArgumentException(name + ": parameter " + i + " of group " + groups + " is null");
            String here = "parameter " + i + " of group " + groups + " (" + t + ")";
            TensorAccess.Identity id = b.identity(t);
            String before = places.getOrDefault(id, seen.get(id));
            if (before != null) {
                throw new IllegalArgumentException(name + ": " + here + " is the same tensor as " + before
                        + "; each parameter may be in an optimizer once, or every step would update it twice");
            }
            seen.put(id, here);
        }
        return seen;
    }

    /** Runs a shim call that touches no parameter, with the handle held (calls on one optimizer never overlap). */
    int call(ToIntFunction<MemorySegment> call) {
        return guard.call(call);
    }

    /** Every parameter may be used from this thread and is open (step and zero_grad touch them all). */
    private void checkParameters(String op) {
        var b = bridge();
        List<Tensor> ps = params;
        for (int i = 0; i < ps.size(); i++) {
            try {
                b.handle(ps.get(i));
            } catch (WrongThreadException e) {
                throw new WrongThreadException(getClass().getSimpleName() + "." + op + " on thread '" + Thread.currentThread().getName()
                        + "': parameter " + i + " is confined to another thread; step where the parameters live, or hand them off"
                        + " with unconfine()/confine() (" + e.getMessage() + ")", e);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(getClass().getSimpleName() + "." + op + ": parameter " + i
                        + " is closed (replaced by Module.to, or its module closed?); build the optimizer over the live parameters", e);
            }
        }
    }

    /** Every parameter of every group, in order. */
    public List<Tensor> parameters() {
        return params;
    }

    /** Applies one update with the current gradients. */
    public void step() {
        MemorySegment h = guard.acquire();
        try {
            checkParameters("step");
            bridge().check(progrpo_torch_h.pt_optimizer_step(h), () -> getClass().getSimpleName() + ".step");
        } finally {
            guard.release();
        }
    }

    /** Drops every parameter's gradient (set to none, as torch's zero_grad(set_to_none=True)). */
    public void zeroGrad() {
        MemorySegment h = guard.acquire();
        try {
            checkParameters("zeroGrad");
            bridge().check(progrpo_torch_h.pt_optimizer_zero_grad(h), () -> "zero_grad");
        } finally {
            guard.release();
        }
    }

    /**
     * Adds a parameter group with its own learning rate and weight decay.
     *
     * @throws IllegalArgumentException when a parameter is already in the optimizer or twice in the group
     */
    public void addParamGroup(List<Tensor> groupParams, double lr, double weightDecay) {
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        if (groupParams.isEmpty()) throw new IllegalArgumentException("a parameter group needs at least one parameter");
        var b = bridge();
        MemorySegment h = guard.acquire();
        try { // the guard is exclusive: no other call runs meanwhile
            Map<TensorAccess.Identity, String> added = checkNew(groupParams);
            b.check(progrpo_torch_h.pt_optimizer_add_group(h, b.handles(groupParams), groupParams.size(), lr, weightDecay),
                    () -> "add_param_group");
            places.putAll(added);
            groups++;
            List<Tensor> all = new ArrayList<>(params);
            all.addAll(groupParams);
            params = List.copyOf(all);
        } finally {
            guard.release();
        }
    }

    public int groupCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            bridge().check(call(h -> progrpo_torch_h.pt_optimizer_group_count(h, out)), () -> "group_count");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public void setLearningRate(int group, double lr) {
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
        bridge().check(call(h -> progrpo_torch_h.pt_optimizer_set_lr(h, group, lr)), () -> "set_lr(group " + group + ")");
    }

    public double learningRate(int group) {
        var b = bridge();
        b.check(call(h -> progrpo_torch_h.pt_optimizer_get_lr(h, group, b.doubles())), () -> "get_lr(group " + group + ")");
        return b.doubles().getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
    }

    /** Writes the optimizer state (libtorch's archive format, for resume) atomically. */
    public void save(Path path) throws IOException {
        io.progrpo.tensor.internal.AtomicFiles.write(path, tmp -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment file = a.allocateFrom(tmp.toString());
                if (call(h -> progrpo_torch_h.pt_optimizer_save(h, file)) != 0) {
                    throw new IOException("saving optimizer state to " + path + " failed: " + bridge().lastError());
                }
            }
        });
    }

    /** Restores state written by {@link #save(Path)} for the same parameter layout. */
    public void load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new java.nio.file.NoSuchFileException(path.toString(), null, "no optimizer state file");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment file = a.allocateFrom(path.toAbsolutePath().toString());
            if (call(h -> progrpo_torch_h.pt_optimizer_load(h, file)) != 0) {
                throw new IOException("cannot load optimizer state from " + path + " (corrupt, or saved for other parameters): " + bridge().lastError());
            }
        }
    }

    public boolean isClosed() {
        return guard.isClosed();
    }

    /** Frees the optimizer's state, at once or, when another thread is inside a call, as that call returns. Idempotent. */
    @Override
    public void close() {
        if (guard.close()) params = List.of();
    }
}
