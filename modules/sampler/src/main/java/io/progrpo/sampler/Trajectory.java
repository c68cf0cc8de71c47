package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The stored transitions of a batch of B rows (the trajectories of one or several groups): per stored step k the
 * latents {@code x_t}, the next latents, the policy mean and the sampling-time log-prob {@code [B]}, with the step
 * index and time; plus the current (final) latents. What the GRPO update re-evaluates.
 *
 * <h2>Ownership</h2>
 * {@link #append} and {@link #advance} keep their own handles to what they store, so the {@link StepOutput} stays
 * the caller's to close. The step's outputs ({@code next}, {@code mean}, {@code logProb}) are kept as new handles on
 * the same storage, not copied: a sampler makes them fresh for each step and nothing writes into them afterwards (a
 * custom sampler must not either). The latents {@code x} passed to {@code append} are copied, since they are the
 * caller's, except when they are this trajectory's {@link #finalLatents()} (the usual chain
 * {@code x = traj.finalLatents()}), which are shared, so consecutive steps store each latent once. The trajectory owns
 * its handles itself ({@link Tensor#unscoped()}), whatever scope is open at the call, and frees them in
 * {@link #keepRows} and {@link #close}. Accessors return borrowed tensors, valid until
 * {@link #keepRows} or {@link #close}.
 *
 * <h2>Lean storage</h2>
 * With a {@link Layout} whose latent dtype is float16 or bfloat16 the stored latents (x and next of each step) are
 * kept in that dtype, half the bytes. So that what training re-evaluates is exactly what was sampled, the chain itself
 * continues from the rounded latents: after each step {@link #finalLatents()} is the stored next latents rounded and
 * widened back to float32, and a stochastic step's stored log-prob is recomputed in float32 for that rounded sample
 * under the step's own mean and std ({@link GaussianPolicy#logProb}). The policy means, when stored, and the
 * log-probs stay float32. Accessors return the stored dtype; callers widen what they select
 * ({@code latents(k).indexSelect(0, rows).to(FLOAT32)}).
 *
 * <h2>Pruning</h2>
 * {@link #keepRows} index-selects every stored tensor to the surviving rows and closes the old ones at once, so the
 * pruned rows' memory is released immediately (Pro-GRPO's "pruned trajectories ... are released").
 */
public final class Trajectory implements AutoCloseable {

    /**
     * What a trajectory keeps of each stored step beside the latents and log-probs.
     *
     * @param storeMeans  whether the sampling-time policy means are kept (float32)
     * @param latentDtype the dtype of the stored latents: FLOAT32, FLOAT16 or BFLOAT16
     */
    public record Layout(boolean storeMeans, DType latentDtype) {
        /** Means kept, float32 latents: everything, as sampled. */
        public static final Layout FULL = new Layout(true, DType.FLOAT32);
        /** No means (GRPO recomputes them with gradient), float32 latents. */
        public static final Layout TRAINING = new Layout(false, DType.FLOAT32);

        public Layout {
            if (latentDtype != DType.FLOAT32 && latentDtype != DType.FLOAT16 && latentDtype != DType.BFLOAT16) {
                throw new IllegalArgumentException("trajectory latents are stored as FLOAT32, FLOAT16 or BFLOAT16, got " + latentDtype);
            }
        }

        /** The layout for a config's {@code trajectoryDtype} name ({@code float32}, {@code float16}, {@code bfloat16}). */
        public static Layout of(boolean storeMeans, String latentDtype) {
            DType d = switch (latentDtype == null ? "" : latentDtype) {
                case "float32" -> DType.FLOAT32;
                case "float16" -> DType.FLOAT16;
                case "bfloat16" -> DType.BFLOAT16;
                default -> throw new IllegalArgumentException("trajectory dtype must be float32, float16 or bfloat16, got '" + latentDtype + "'");
            };
            return new Layout(storeMeans, d);
        }

        /** Whether the latents are stored below float32 (the chain is rounded to that dtype). */
        public boolean lean() {
            return latentDtype != DType.FLOAT32;
        }
    }

    private static final class Entry {
        final int stepIndex;
        final double time;
        Tensor x;
        Tensor next;
        Tensor mean;
        Tensor logProb;

        Entry(int stepIndex, double time, Tensor x, Tensor next, Tensor mean, Tensor logProb) {
            this.stepIndex = stepIndex;
            this.time = time;
            this.x = x;
            this.next = next;
            this.mean = mean;
            this.logProb = logProb;
        }
    }

    private final Sampler sampler;
    private final List<Entry> entries = new ArrayList<>();
    private Tensor current;
    private boolean currentStored; // whether current is also some entry's next (else only this field holds it)
    // lean layouts: the stored (low-precision) tensor that current widens, null when current is not stored
    private Tensor currentLow;
    private int lastStep = -1;
    private int rows;
    private boolean closed;

    private final boolean storeMeans;
    private final DType latentDtype;

    /** An empty trajectory of {@code sampler}'s steps (it supplies the step times), storing the policy means too. */
    public Trajectory(Sampler sampler) {
        this(sampler, Layout.FULL);
    }

    /**
     * An empty trajectory; with {@code storeMeans} false the sampling-time policy means are not kept (GRPO training
     * recomputes them with gradient, and the KL term uses the reference model's), which saves one latent-sized tensor
     * per stored step.
     */
    public Trajectory(Sampler sampler, boolean storeMeans) {
        this(sampler, new Layout(storeMeans, DType.FLOAT32));
    }

    /** An empty trajectory storing what {@code layout} says (see "Lean storage" above). */
    public Trajectory(Sampler sampler, Layout layout) {
        if (sampler == null) throw new IllegalArgumentException("sampler must not be null");
        if (layout == null) throw new IllegalArgumentException("layout must not be null (Layout.FULL or Layout.TRAINING)");
        this.sampler = sampler;
        this.storeMeans = layout.storeMeans();
        this.latentDtype = layout.latentDtype();
    }

    /** The layout this trajectory stores. */
    public Layout layout() {
        return new Layout(storeMeans, latentDtype);
    }

    public Sampler sampler() {
        return sampler;
    }

    /** Number of rows B (0 before the first step). */
    public int rows() {
        return rows;
    }

    /** Number of stored transitions. */
    public int stepsStored() {
        return entries.size();
    }

    /** The index of the last step taken (stored or advanced over), -1 before the first. */
    public int lastStep() {
        return lastStep;
    }

    /**
     * Stores step {@code stepIndex}'s transition {@code x -> out.next()}: copies of next, mean and log-prob, and of
     * {@code x} unless it is {@link #finalLatents()}. Steps come in increasing order.
     */
    public void append(int stepIndex, Tensor x, StepOutput out) {
        checkAdvance(stepIndex, out);
        checkRows(x.size(0), "latents x");
        if (latentDtype != DType.FLOAT32) {
            appendLean(stepIndex, x, out);
            return;
        }
        Tensor xs;
        if (x == current) {
            xs = current;
        } else {
            xs = copy(x);
            dropCurrent();
        }
        Tensor next = share(out.next());
        Entry e = new Entry(stepIndex, sampler.time(stepIndex), xs, next, storeMeans ? share(out.mean()) : null,
                out.logProb() == null ? null : share(out.logProb()));
        entries.add(e);
        current = next;
        currentStored = true;
        lastStep = stepIndex;
    }

    /**
     * A lean layout's append: next rounded to the storage dtype, the chain continuing from its float32 widening, and a
     * stochastic step's log-prob recomputed for the rounded sample (see "Lean storage").
     */
    private void appendLean(int stepIndex, Tensor x, StepOutput out) {
        Tensor xs = x == current && currentLow != null ? currentLow : lower(x);
        Tensor nextLow = lower(out.next());
        Tensor next32;
        Tensor logProb = null;
        try (Scope scope = Scope.open()) {
            next32 = nextLow.to(DType.FLOAT32).unscoped();
            if (out.logProb() != null) logProb = GaussianPolicy.logProb(next32, out.mean(), out.std()).detach().unscoped();
        }
        entries.add(new Entry(stepIndex, sampler.time(stepIndex), xs, nextLow, storeMeans ? share(out.mean()) : null, logProb));
        dropCurrent();
        current = next32;
        currentLow = nextLow;
        currentStored = false; // current is the widened copy; the stored tensor is currentLow
        lastStep = stepIndex;
    }

    /** A copy of {@code t} in the storage dtype, owned by the trajectory. */
    private Tensor lower(Tensor t) {
        try (Scope scope = Scope.open()) {
            return t.detach().to(latentDtype).clone_().unscoped();
        }
    }

    /** Takes step {@code stepIndex} without storing its transition (e.g. a deterministic step): keeps only a copy of next. */
    public void advance(int stepIndex, StepOutput out) {
        checkAdvance(stepIndex, out);
        Tensor next;
        if (latentDtype != DType.FLOAT32) {
            // the chain stays on the storage grid, so a later stored x is exactly the x its step was sampled from
            try (Scope scope = Scope.open()) {
                next = out.next().detach().to(latentDtype).to(DType.FLOAT32).unscoped();
            }
        } else {
            next = share(out.next());
        }
        dropCurrent();
        current = next;
        currentStored = false;
        lastStep = stepIndex;
    }

    private void checkAdvance(int stepIndex, StepOutput out) {
        checkOpen();
        sampler.checkStep(stepIndex);
        if (stepIndex <= lastStep) {
            throw new IllegalArgumentException("steps must come in increasing order: step " + stepIndex + " after step " + lastStep);
        }
        checkRows(out.rows(), "step output");
    }

    private void checkRows(long b, String what) {
        if (rows != 0 && b != rows) {
            throw new IllegalArgumentException(what + " has " + b + " rows, the trajectory " + rows);
        }
        rows = (int) b;
    }

    private void dropCurrent() {
        if (current != null && !currentStored) current.close();
        current = null;
        currentLow = null; // a stored tensor: its entry frees it
    }

    /**
     * A handle of the trajectory's own on {@code t}'s storage (no copy): what a step returned stays valid after the
     * step output is closed. Saves one full-latent copy per step against {@link #copy}.
     */
    private static Tensor share(Tensor t) {
        try (Scope scope = Scope.open()) {
            return t.detach().unscoped();
        }
    }

    private static Tensor copy(Tensor t) {
        // owned by the trajectory itself, not by whatever scope the caller has open
        try (Scope scope = Scope.open()) {
            return t.detach().clone_().unscoped();
        }
    }

    /** The latents {@code x_t} of stored step k. */
    public Tensor latents(int k) {
        return entry(k).x;
    }

    /** The latents after stored step k. */
    public Tensor nextLatents(int k) {
        return entry(k).next;
    }

    /** The policy mean of stored step k; throws when the trajectory does not store means. */
    public Tensor mean(int k) {
        if (!storeMeans) throw new IllegalStateException("this trajectory was created without storing the policy means");
        return entry(k).mean;
    }

    /** The sampling-time log-prob {@code [B]} of stored step k; null for a deterministic step. */
    public Tensor logProb(int k) {
        return entry(k).logProb;
    }

    /** The sampler's step index of stored step k. */
    public int stepIndex(int k) {
        return entry(k).stepIndex;
    }

    /** The model time of stored step k. */
    public double time(int k) {
        return entry(k).time;
    }

    /** The latents after the last step taken: {@code x_0} once the chain is complete. */
    public Tensor finalLatents() {
        checkOpen();
        if (current == null) throw new IllegalStateException("the trajectory has no steps yet");
        return current;
    }

    private Entry entry(int k) {
        checkOpen();
        if (k < 0 || k >= entries.size()) {
            throw new IndexOutOfBoundsException("stored step " + k + " out of range [0, " + entries.size() + ")");
        }
        return entries.get(k);
    }

    /**
     * Keeps only {@code keep} (row indices, in the order given) in every stored tensor and closes the old tensors at
     * once. Returned tensors of earlier accessor calls are closed by this.
     */
    public void keepRows(int[] keep) {
        checkOpen();
        if (current == null) throw new IllegalStateException("the trajectory has no rows yet");
        if (keep == null || keep.length == 0) throw new IllegalArgumentException("keepRows needs at least one row, got none");
        long[] idx = new long[keep.length];
        for (int i = 0; i < keep.length; i++) {
            if (keep[i] < 0 || keep[i] >= rows) {
                throw new IndexOutOfBoundsException("row " + keep[i] + " out of range [0, " + rows + ") in " + Arrays.toString(keep));
            }
            idx[i] = keep[i];
        }
        Map<Tensor, Tensor> remap = new IdentityHashMap<>();
        Device device = current.device();
        try (Tensor cpu = Tensor.of(idx, idx.length); Tensor index = cpu.to(device)) {
            for (Tensor t : distinct()) remap.put(t, t.indexSelect(0, index).unscoped());
        }
        for (Entry e : entries) {
            e.x = remap.get(e.x);
            e.next = remap.get(e.next);
            if (e.mean != null) e.mean = remap.get(e.mean);
            if (e.logProb != null) e.logProb = remap.get(e.logProb);
        }
        for (Tensor old : remap.keySet()) old.close();
        current = remap.get(current);
        if (currentLow != null) currentLow = remap.get(currentLow);
        rows = keep.length;
    }

    /** Bytes of the distinct tensors held (shared latents counted once). */
    public long bytes() {
        if (closed) return 0;
        long n = 0;
        for (Tensor t : distinct()) n += t.numel() * t.dtype().byteSize();
        return n;
    }

    private Set<Tensor> distinct() {
        Set<Tensor> s = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Entry e : entries) {
            s.add(e.x);
            s.add(e.next);
            if (e.mean != null) s.add(e.mean);
            if (e.logProb != null) s.add(e.logProb);
        }
        if (current != null) s.add(current);
        return s;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("trajectory is closed");
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees every stored tensor. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        for (Tensor t : distinct()) t.close();
        entries.clear();
        current = null;
        closed = true;
    }

    @Override
    public String toString() {
        return "Trajectory[rows=" + rows + ", steps stored=" + entries.size() + ", last step=" + lastStep + "]";
    }
}
