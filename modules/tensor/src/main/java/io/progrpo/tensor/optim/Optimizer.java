package io.progrpo.tensor.optim;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A libtorch optimizer over a list of parameters (leaf tensors with requires_grad). It keeps its own references to
 * the parameters, so it stays valid while they are open; close it to free its state.
 */
public abstract sealed class Optimizer implements AutoCloseable permits AdamW, Sgd {
    private MemorySegment handle;
    private final List<Tensor> params = new ArrayList<>();

    Optimizer(List<Tensor> params) {
        if (params.isEmpty()) throw new IllegalArgumentException("an optimizer needs at least one parameter");
        this.params.addAll(params);
    }

    void init(MemorySegment h) {
        this.handle = h;
    }

    static TensorAccess.Bridge bridge() {
        return TensorAccess.get();
    }

    MemorySegment h() {
        if (handle == null) throw new IllegalStateException("optimizer is closed");
        return handle;
    }

    /** Every parameter of every group, in order. */
    public List<Tensor> parameters() {
        return List.copyOf(params);
    }

    /** Applies one update with the current gradients. */
    public void step() {
        bridge().check(progrpo_torch_h.pt_optimizer_step(h()), () -> getClass().getSimpleName() + ".step");
    }

    /** Drops every parameter's gradient (set to none, as torch's zero_grad(set_to_none=True)). */
    public void zeroGrad() {
        bridge().check(progrpo_torch_h.pt_optimizer_zero_grad(h()), () -> "zero_grad");
    }

    /** Adds a parameter group with its own learning rate and weight decay. */
    public void addParamGroup(List<Tensor> groupParams, double lr, double weightDecay) {
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        var b = bridge();
        b.check(progrpo_torch_h.pt_optimizer_add_group(h(), b.handles(groupParams), groupParams.size(), lr, weightDecay), () -> "add_param_group");
        params.addAll(groupParams);
    }

    public int groupCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            bridge().check(progrpo_torch_h.pt_optimizer_group_count(h(), out), () -> "group_count");
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public void setLearningRate(int group, double lr) {
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
        bridge().check(progrpo_torch_h.pt_optimizer_set_lr(h(), group, lr), () -> "set_lr(group " + group + ")");
    }

    public double learningRate(int group) {
        var b = bridge();
        b.check(progrpo_torch_h.pt_optimizer_get_lr(h(), group, b.doubles()), () -> "get_lr(group " + group + ")");
        return b.doubles().getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
    }

    /** Writes the optimizer state (libtorch's archive format, for resume) atomically. */
    public void save(Path path) throws IOException {
        io.progrpo.tensor.internal.AtomicFiles.write(path, tmp -> {
            try (Arena a = Arena.ofConfined()) {
                if (progrpo_torch_h.pt_optimizer_save(h(), a.allocateFrom(tmp.toString())) != 0) {
                    throw new IOException("saving optimizer state to " + path + " failed: " + lastError());
                }
            }
        });
    }

    /** Restores state written by {@link #save(Path)} for the same parameter layout. */
    public void load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new java.nio.file.NoSuchFileException(path.toString(), null, "no optimizer state file");
        try (Arena a = Arena.ofConfined()) {
            if (progrpo_torch_h.pt_optimizer_load(h(), a.allocateFrom(path.toAbsolutePath().toString())) != 0) {
                throw new IOException("cannot load optimizer state from " + path + " (corrupt, or saved for other parameters): " + lastError());
            }
        }
    }

    private static String lastError() {
        try {
            bridge().check(1, () -> "");
        } catch (RuntimeException e) {
            return e instanceof io.progrpo.tensor.TorchException te ? te.torchMessage() : e.getMessage();
        }
        return "";
    }

    @Override
    public void close() {
        if (handle == null) return;
        progrpo_torch_h.pt_optimizer_free(handle);
        handle = null;
        params.clear();
    }
}
