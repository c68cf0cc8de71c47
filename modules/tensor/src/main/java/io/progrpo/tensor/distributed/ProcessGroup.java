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

/**
 * This process's membership in a data-parallel job (libtorch's c10d). Every rank must issue the same collectives in
 * the same order; each call blocks until all ranks took part or the timeout passed. A failure raises a
 * {@link io.progrpo.tensor.TorchException} whose message names the rank that did not reach the collective (hangs or
 * stopped) or whose process died, so no rank waits forever. Not thread-safe: one thread issues the collectives.
 *
 * <pre>{@code
 * try (ProcessGroup pg = ProcessGroup.init(Rendezvous.fromEnvironment(), Backend.GLOO, Duration.ofSeconds(60))) {
 *     pg.broadcast(param, 0);          // every rank starts from rank 0's values
 *     pg.allReduce(grad, ReduceOp.AVG);
 * }
 * }</pre>
 */
public final class ProcessGroup implements AutoCloseable {
    private MemorySegment handle;
    private final Rendezvous rendezvous;
    private final Backend backend;
    private final Duration timeout;

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

    private MemorySegment h() {
        if (handle == null) throw new IllegalStateException("the process group is closed");
        return handle;
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
        b.check(progrpo_torch_h.pt_pg_all_reduce(h(), b.handle(t), op.code()), () -> "all_reduce(" + op + ", " + t + ")");
    }

    /** A new tensor {@code [worldSize, ...t.shape]} whose row r is rank r's {@code t} (same shape everywhere). */
    public Tensor allGather(Tensor t) {
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            b.check(progrpo_torch_h.pt_pg_all_gather(h(), b.handle(t), out), () -> "all_gather(" + t + ")");
            return b.adopt(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** In place: {@code t} becomes rank {@code root}'s {@code t}. */
    public void broadcast(Tensor t, int root) {
        if (root < 0 || root >= worldSize()) throw new IllegalArgumentException("broadcast root must be in [0, " + worldSize() + "), got " + root);
        var b = bridge();
        b.check(progrpo_torch_h.pt_pg_broadcast(h(), b.handle(t), root), () -> "broadcast(root " + root + ", " + t + ")");
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
        bridge().check(progrpo_torch_h.pt_pg_barrier(h(), max.toMillis()), () -> "barrier");
    }

    /**
     * Gradient sync in one bucket: each parameter's gradient becomes {@code scale} times the sum of the ranks'
     * gradients ({@code 1 / worldSize} averages). A rank without a gradient contributes zeros; a parameter without a
     * gradient on every rank keeps none, so the optimizer skips it as it would in one process.
     */
    public void allReduceGradients(List<Tensor> parameters, double scale) {
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        var b = bridge();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hs = a.allocate(ValueLayout.ADDRESS, Math.max(1, parameters.size()));
            for (int i = 0; i < parameters.size(); i++) hs.setAtIndex(ValueLayout.ADDRESS, i, b.handle(parameters.get(i)));
            b.check(progrpo_torch_h.pt_pg_all_reduce_grads(h(), hs, parameters.size(), scale),
                    () -> "all_reduce(gradients of " + parameters.size() + " parameters)");
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

    /** Leaves the job (rank 0's store closes with it: end the other ranks first, e.g. after a {@link #barrier()}). */
    @Override
    public void close() {
        if (handle == null) return;
        progrpo_torch_h.pt_pg_free(handle);
        handle = null;
    }

    @Override
    public String toString() {
        return "ProcessGroup[rank " + rank() + " of " + worldSize() + ", " + backend + ", " + rendezvous.masterAddr() + ":"
                + rendezvous.masterPort() + ", timeout " + timeout.toMillis() + " ms]";
    }
}
