package io.progrpo.tensor.distributed;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * This process's membership in a data-parallel job (libtorch's c10d). Every rank must issue the same collectives in
 * the same order, with tensors of the same dtype and shape; each call blocks until all ranks took part or the
 * timeout passed. A failure raises a {@link io.progrpo.tensor.TorchException} whose message names the rank that did
 * not reach the collective (hangs or stopped) or whose process died, so no rank waits forever.
 *
 * <h2>Same tensors on every rank</h2>
 * Before each collective the ranks all-gather a descriptor of 16 int64 (the collective, its reduce op or root, the
 * tensor's dtype, dim, sizes and element count, a hash of the shape; for {@link #allReduceGradients} the parameter
 * count, their element counts and a hash of all their shapes). When any rank's differs, every rank throws a
 * {@link io.progrpo.tensor.TorchException} naming what each rank had, and none runs the collective, so the group stays
 * usable. That costs one extra small collective per collective.
 *
 * <h2>Threads</h2>
 * A process group is confined to the thread that created it: its collectives, {@link #barrier()} and
 * {@link #close()} from another thread throw {@link WrongThreadException}. {@link #unconfine()} lifts that for a
 * hand-off and {@link #confine()} takes it on the receiving thread. Whatever the confinement, one collective runs at a
 * time: a second call while one is in progress, and {@code close()} during one, throw {@link IllegalStateException}
 * naming the running collective and its thread. Use after {@code close()} throws {@code IllegalStateException}. The
 * getters ({@link #rank()}, {@link #worldSize()}, ...) read immutable fields and work from any thread.
 *
 * <pre>{@code
 * try (ProcessGroup pg = ProcessGroup.init(Rendezvous.fromEnvironment(), Backend.GLOO, Duration.ofSeconds(60))) {
 *     pg.broadcast(param, 0);          // every rank starts from rank 0's values
 *     pg.allReduce(grad, ReduceOp.AVG);
 * }
 * }</pre>
 */
public final class ProcessGroup implements AutoCloseable {
    /** The value of {@link #busy} once the group is closed: never cleared again. */
    private static final String CLOSED = "closed";

    private volatile MemorySegment handle;
    private final Rendezvous rendezvous;
    private final Backend backend;
    private final Duration timeout;
    /** The confining thread, or null after {@link #unconfine()}. */
    private volatile Thread owner = Thread.currentThread();
    /** null when idle; what runs ("all_reduce on thread 'x'") while a native call is in progress; CLOSED at the end. */
    private final AtomicReference<String> busy = new AtomicReference<>();

    private ProcessGroup(MemorySegment handle, Rendezvous rendezvous, Backend backend, Duration timeout) {
        this.handle = handle;
        this.rendezvous = rendezvous;
        this.backend = backend;
        this.timeout = timeout;
    }

    private static TensorAccess.Bridge bridge() {
        TensorAccess.Bridge b = TensorAccess.get();
        b.ensureLoaded();
        return b;
    }

    /** Whether this build of the shim can create the backend (Gloo's headers / CUDA with c10d's NCCL). */
    public static boolean isAvailable(Backend backend) {
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
            b.check(progrpo_torch_h.pt_dist_backend_available(backend.code(), out), () -> "dist_backend_available");
            return out.get(ValueLayout.JAVA_INT, 0) == 1;
        }
    }

    /**
     * Joins the job. Returns when every rank joined and the backend connected; fails after {@code timeout} naming the
     * ranks that never came. The same timeout bounds every later collective.
     */
    public static ProcessGroup init(Rendezvous rv, Backend backend, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0, got " + timeout);
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            b.check(progrpo_torch_h.pt_pg_init(a.allocateFrom(rv.masterAddr()), rv.masterPort(), rv.rank(), rv.worldSize(),
                    backend.code(), timeout.toMillis(), out), () -> "init_process_group(" + backend.name().toLowerCase(java.util.Locale.ROOT)
                    + ", rank " + rv.rank() + " of " + rv.worldSize() + ", " + rv.masterAddr() + ":" + rv.masterPort() + ")");
            return new ProcessGroup(out.get(ValueLayout.ADDRESS, 0), rv, backend, timeout);
        }
    }

    /** A group of one (collectives are identities), for single-process runs of data-parallel code. */
    public static ProcessGroup single() {
        return init(Rendezvous.single(), Backend.GLOO, Duration.ofMinutes(30));
    }

    private void checkThread(String op) {
        Thread o = owner;
        if (o != null && o != Thread.currentThread()) {
            throw new WrongThreadException(this + " is confined to thread '" + o.getName() + "', " + op + " called from thread '"
                    + Thread.currentThread().getName() + "'; call unconfine() on the owning thread to hand it off");
        }
    }

    /** Claims the group for one native call ({@link #exit()} releases it); the handle to call with. */
    private MemorySegment enter(String op) {
        checkThread(op);
        String me = op + " on thread '" + Thread.currentThread().getName() + "'";
        if (!busy.compareAndSet(null, me)) {
            String running = busy.get();
            if (CLOSED.equals(running)) throw new IllegalStateException(op + ": the process group is closed");
            if (running == null) return enter(op);  // it ended meanwhile
            throw new IllegalStateException(op + " on thread '" + Thread.currentThread().getName() + "': the process group is busy with "
                    + running + "; it runs one collective at a time");
        }
        return handle;
    }

    /** Ends the call that {@link #enter} claimed (no other thread can change {@link #busy} in between). */
    private void exit() {
        busy.set(null);
    }

    /**
     * Lifts the confinement for a hand-off to another thread, which then calls {@link #confine()}. Until then any
     * thread may use the group; calls that overlap still throw rather than run together.
     */
    public ProcessGroup unconfine() {
        checkThread("unconfine");
        if (CLOSED.equals(busy.get())) throw new IllegalStateException("unconfine: the process group is closed");
        owner = null;
        return this;
    }

    /** Confines the group to the current thread (after {@link #unconfine()} on the thread that had it). */
    public ProcessGroup confine() {
        checkThread("confine");
        if (CLOSED.equals(busy.get())) throw new IllegalStateException("confine: the process group is closed");
        owner = Thread.currentThread();
        return this;
    }

    /** Whether {@link #close()} ran. */
    public boolean isClosed() {
        return CLOSED.equals(busy.get());
    }

    public int rank() {
        return rendezvous.rank();
    }

    public int worldSize() {
        return rendezvous.worldSize();
    }

    public Rendezvous rendezvous() {
        return rendezvous;
    }

    public Backend backend() {
        return backend;
    }

    public Duration timeout() {
        return timeout;
    }

    /** In place: {@code t} becomes the reduction of every rank's {@code t}. */
    public void allReduce(Tensor t, ReduceOp op) {
        var b = bridge();
        MemorySegment h = enter("all_reduce");
        try {
            b.check(progrpo_torch_h.pt_pg_all_reduce(h, b.handle(t), op.code()), () -> "all_reduce(" + op + ", " + t + ")");
        } finally {
            exit();
        }
    }

    /** A new tensor {@code [worldSize, ...t.shape]} whose row r is rank r's {@code t} (same shape everywhere). */
    public Tensor allGather(Tensor t) {
        var b = bridge();
        MemorySegment h = enter("all_gather");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            b.check(progrpo_torch_h.pt_pg_all_gather(h, b.handle(t), out), () -> "all_gather(" + t + ")");
            return b.adopt(out.get(ValueLayout.ADDRESS, 0));
        } finally {
            exit();
        }
    }

    /** In place: {@code t} becomes rank {@code root}'s {@code t} (same dtype and shape on every rank). */
    public void broadcast(Tensor t, int root) {
        if (root < 0 || root >= worldSize()) throw new IllegalArgumentException("broadcast root must be in [0, " + worldSize() + "), got " + root);
        var b = bridge();
        MemorySegment h = enter("broadcast");
        try {
            b.check(progrpo_torch_h.pt_pg_broadcast(h, b.handle(t), root), () -> "broadcast(root " + root + ", " + t + ")");
        } finally {
            exit();
        }
    }

    /** Waits for every rank, at most the group's timeout. */
    public void barrier() {
        barrier(timeout);
    }

    /**
     * Waits for every rank, at most {@code max} (longer than the collectives' timeout when one rank prepares something
     * slow, such as a pretrained model the others then load). A rank whose process stopped fails it within seconds.
     */
    public void barrier(Duration max) {
        if (max.isNegative() || max.isZero()) throw new IllegalArgumentException("barrier timeout must be > 0, got " + max);
        var b = bridge();
        MemorySegment h = enter("barrier");
        try {
            b.check(progrpo_torch_h.pt_pg_barrier(h, max.toMillis()), () -> "barrier");
        } finally {
            exit();
        }
    }

    /**
     * Gradient sync in one bucket: each parameter's gradient becomes {@code scale} times the sum of the ranks'
     * gradients ({@code 1 / worldSize} averages). A rank without a gradient contributes zeros; a parameter without a
     * gradient on every rank keeps none, so the optimizer skips it as it would in one process.
     */
    public void allReduceGradients(List<Tensor> parameters, double scale) {
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        var b = bridge();
        MemorySegment h = enter("all_reduce(gradients)");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hs = a.allocate(ValueLayout.ADDRESS, Math.max(1, parameters.size()));
            for (int i = 0; i < parameters.size(); i++) hs.setAtIndex(ValueLayout.ADDRESS, i, b.handle(parameters.get(i)));
            b.check(progrpo_torch_h.pt_pg_all_reduce_grads(h, hs, parameters.size(), scale),
                    () -> "all_reduce(gradients of " + parameters.size() + (parameters.size() == 1 ? " parameter)" : " parameters)"));
        } finally {
            exit();
        }
    }

    /** Every rank's doubles (any lengths), in rank order. */
    public List<double[]> allGatherDoubles(double[] local) {
        List<double[]> out = new ArrayList<>();
        for (byte[] bs : allGatherBytes(toBytes(local))) {
            var buf = java.nio.ByteBuffer.wrap(bs).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            double[] d = new double[bs.length / 8];
            for (int i = 0; i < d.length; i++) d[i] = buf.getDouble();
            out.add(d);
        }
        return out;
    }

    /** Every rank's bytes (any lengths), in rank order: two all-gathers, of the lengths and of the padded bytes. */
    public List<byte[]> allGatherBytes(byte[] local) {
        Device dev = backend == Backend.NCCL ? Device.cuda(rendezvous.localRank()) : Device.CPU;
        long[] lens;
        try (Tensor host = Tensor.of(new long[] {local.length}, 1); Tensor len = host.to(dev); Tensor all = allGather(len); Tensor cpu = all.to(Device.CPU)) {
            lens = cpu.toLongArray();
        }
        int max = (int) java.util.Arrays.stream(lens).max().orElse(0);
        int[] padded = new int[Math.max(1, max)];
        for (int i = 0; i < local.length; i++) padded[i] = local[i];
        List<byte[]> out = new ArrayList<>();
        // int32 rather than uint8: Gloo reduces and gathers every dtype, and these messages are small
        try (Tensor host = Tensor.of(padded, padded.length); Tensor mine = host.to(dev); Tensor all = allGather(mine); Tensor cpu = all.to(Device.CPU)) {
            int[] flat = cpu.toIntArray();
            for (int r = 0; r < lens.length; r++) {
                byte[] bs = new byte[(int) lens[r]];
                for (int i = 0; i < bs.length; i++) bs[i] = (byte) flat[r * padded.length + i];
                out.add(bs);
            }
        }
        return out;
    }

    private static byte[] toBytes(double[] v) {
        var buf = java.nio.ByteBuffer.allocate(v.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (double d : v) buf.putDouble(d);
        return buf.array();
    }

    /** The float64 sum over ranks of {@code local} (element-wise). */
    public double[] allReduceSum(double[] local) {
        if (local.length == 0) return new double[0];
        Device dev = backend == Backend.NCCL ? Device.cuda(rendezvous.localRank()) : Device.CPU;
        try (Tensor host = Tensor.of(local, local.length); Tensor t = host.to(dev, DType.FLOAT64)) {
            allReduce(t, ReduceOp.SUM);
            try (Tensor cpu = t.to(Device.CPU)) {
                return cpu.toDoubleArray();
            }
        }
    }

    /**
     * Leaves the job (rank 0's store closes with it: end the other ranks first, e.g. after a {@link #barrier()}).
     * Idempotent. From a thread the group is not confined to it throws {@link WrongThreadException}; while a collective
     * runs, {@link IllegalStateException} (the collective is not interrupted; close after it returns or fails).
     */
    @Override
    public void close() {
        if (isClosed()) return;
        checkThread("close");
        if (!busy.compareAndSet(null, CLOSED)) {
            String running = busy.get();
            if (CLOSED.equals(running)) return;
            throw new IllegalStateException("cannot close " + this + " from thread '" + Thread.currentThread().getName()
                    + "' while it runs " + running + "; close it after that returns or fails");
        }
        MemorySegment h = handle;
        handle = null;
        progrpo_torch_h.pt_pg_free(h);
    }

    @Override
    public String toString() {
        return "ProcessGroup[rank " + rank() + " of " + worldSize() + ", " + backend + ", " + rendezvous.masterAddr() + ":"
                + rendezvous.masterPort() + ", timeout " + timeout.toMillis() + " ms]";
    }
}
