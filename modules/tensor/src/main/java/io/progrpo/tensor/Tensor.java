package io.progrpo.tensor;

import io.progrpo.tensor.internal.TensorAccess;
import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array in libtorch's memory (CPU or GPU), never on the Java heap.
 *
 * <h2>Lifetime</h2>
 * A tensor is freed deterministically: by {@link #close()} (idempotent), or by the {@link Scope} that owns it. A tensor
 * created while a scope is open on the current thread belongs to that scope; otherwise the caller owns it and a
 * {@link Cleaner} frees it as a safety net if it becomes unreachable unclosed, counting a leak in the
 * {@link MemoryLedger} (with the creation stack trace logged when {@code -Dprogrpo.tensor.debugLeaks=true}).
 *
 * <h2>Threads</h2>
 * A tensor is confined to the thread that created it: use from another thread throws {@link WrongThreadException}.
 * {@link #unconfine()} lifts that for a hand-off, {@link #confine()} takes it again on the receiving thread. In
 * between, the caller orders every access, {@code close()} included: an unconfined tensor is not guarded, and a close
 * on one thread during an op on another is undefined. A {@link #dataSegment()} segment may be read on any thread and
 * dies with the tensor.
 *
 * <h2>Errors</h2>
 * Use after close throws {@link IllegalStateException}; a libtorch failure (shape mismatch, bad index, ...) throws
 * {@link TorchException} naming the op and its operands. Nothing crashes the JVM.
 */
public final class Tensor implements AutoCloseable {
    // This class holds a tensor's state (handle, metadata, owner, thread) and the public API. The work of the API is
    // in package-private units: TensorFactories (creation), TensorData (to and from Java), ShapeOps (conversion, views,
    // indexing), ElementwiseOps, ReductionOps (with the matrix products), TensorGrad (autograd), LeakAction (the
    // safety net), SegmentView (dataSegment's arena) and TensorBridge (what the module's other packages may reach).

    /**
     * The leak safety net (a Cleaner registration per caller-owned tensor and per scope) is on unless
     * {@code -Dprogrpo.tensor.safetyNet=false}; off saves a little per op (see docs/benchmarks.md) and turns a forgotten
     * close() into a native leak that nothing reports.
     */
    static final boolean SAFETY_NET = !"false".equals(System.getProperty("progrpo.tensor.safetyNet"));

    static {
        TensorAccess.install(new TensorBridge());
    }

    private MemorySegment handle;
    private final DType dtype;
    private final Device device;
    private final int dim;
    private final long numel;
    private final long storageKey;
    private long[] shape;
    private Thread ownerThread;
    private Scope scope;
    /** The safety net while the caller owns this tensor, else null. */
    private LeakAction leak;
    /** The arena of {@link #dataSegment()}'s segments (null until the first call); closed by {@link #free()}. */
    private SegmentView data;

    private Tensor(MemorySegment handle, DType dtype, Device device, int dim, long numel, long storageKey) {
        this.handle = handle;
        this.dtype = dtype;
        this.device = device;
        this.dim = dim;
        this.numel = numel;
        this.storageKey = storageKey;
        this.ownerThread = Thread.currentThread();
    }

    /** Wraps a NEW handle returned by the shim: reads its metadata, records it in the ledger, gives it an owner. */
    static Tensor adopt(MemorySegment h) {
        MemorySegment info = Native.scratch().info;
        Native.check(progrpo_torch_h.pt_tensor_info(h, info), "tensor_info");
        DType dt = DType.ofCode(info.getAtIndex(ValueLayout.JAVA_LONG, 0));
        long devType = info.getAtIndex(ValueLayout.JAVA_LONG, 1);
        Device dev = devType == 0 ? Device.CPU : Device.cuda((int) info.getAtIndex(ValueLayout.JAVA_LONG, 2));
        int dim = (int) info.getAtIndex(ValueLayout.JAVA_LONG, 3);
        long numel = info.getAtIndex(ValueLayout.JAVA_LONG, 4);
        long bytes = info.getAtIndex(ValueLayout.JAVA_LONG, 5);
        long key = info.getAtIndex(ValueLayout.JAVA_LONG, 6);
        Tensor t = new Tensor(h, dt, dev, dim, numel, key);
        MemoryLedger.adopted(t, h.address(), dt, dev, key, bytes);
        t.moveTo(Scope.current());
        return t;
    }

    /** Adopts the handle in the scratch out-slot {@code i} after a successful call. */
    static Tensor adoptOut(int i) {
        return adopt(Native.scratch().outAddress(i));
    }

    // ---- ownership ---------------------------------------------------------------------------------------------

    Scope owner() {
        return scope;
    }

    /** Moves ownership to {@code target}, or to the caller (with the leak safety net) when target is null. */
    void moveTo(Scope target) {
        if (target != null) {
            if (leak != null) {
                leak.disarm();
                leak = null;
            }
            scope = target;
            target.adopt(this);
        } else {
            scope = null;
            if (leak == null && SAFETY_NET) leak = LeakAction.register(this, handle.address(), device, storageKey);
        }
    }

    /**
     * Takes this tensor out of whatever scope owns it (however deeply nested): the caller owns it from now on and
     * closes it; the leak safety net applies. For long-lived state built inside scopes (trajectories, model state).
     */
    public Tensor unscoped() {
        checkOpen();
        checkThread();
        if (scope != null) moveTo(null);
        return this;
    }

    /** Lets any thread use this tensor (for a hand-off between threads; the caller orders the accesses). */
    public Tensor unconfine() {
        checkOpen();
        checkThread();
        ownerThread = null;
        return this;
    }

    /** Confines this tensor to the current thread again after {@link #unconfine()}. */
    public Tensor confine() {
        checkOpen();
        checkThread();
        ownerThread = Thread.currentThread();
        return this;
    }

    public boolean isClosed() {
        return handle == null;
    }

    void checkOpen() {
        if (handle == null) throw new IllegalStateException("tensor is closed (" + dtype + " " + device + ", " + numel + " elements)");
    }

    void checkThread() {
        Thread o = ownerThread;
        if (o != null && o != Thread.currentThread()) {
            throw new WrongThreadException("tensor " + this + " is confined to thread '" + o.getName()
                    + "', used from '" + Thread.currentThread().getName() + "'; call unconfine() to hand it off");
        }
    }

    /** The native handle after the open and thread checks. */
    MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) checkOpen();
        checkThread();
        return h;
    }

    static MemorySegment handleOrNull(Tensor t) {
        return t == null ? MemorySegment.NULL : t.handle();
    }

    /** Frees the tensor now. Idempotent. A tensor owned by a scope is released early and the scope skips it. */
    @Override
    public void close() {
        if (handle == null) return;
        checkThread();
        Scope s = scope;
        free();
        if (s != null) s.forget();
    }

    void free() {
        MemorySegment h = handle;
        if (h == null) return;
        if (data != null) {
            data.close(this); // first kill every dataSegment() segment; throws, leaving the tensor open, while one is held
            data = null;
        }
        handle = null;
        if (leak != null) leak.disarm();
        progrpo_torch_h.pt_tensor_free(h);
        MemoryLedger.released(h.address(), device, storageKey, false);
    }

    // ---- metadata ------------------------------------------------------------------------------------------------

    public DType dtype() { return dtype; }
    public Device device() { return device; }
    public int dim() { return dim; }
    public long numel() { return numel; }
    long storageKey() { return storageKey; }

    /** The sizes of each dimension (a copy). */
    public long[] shape() {
        return shapeRef().clone();
    }

    /** Size of dimension {@code d}; negative d counts from the end. */
    public long size(int d) {
        long[] s = shapeRef();
        int k = d < 0 ? d + s.length : d;
        if (k < 0 || k >= s.length) throw new IndexOutOfBoundsException("dimension " + d + " out of range for a " + s.length + "-d tensor");
        return s[k];
    }

    /** The sizes, read once from the shim and kept (not a copy: never hand it out). */
    long[] shapeRef() {
        if (shape == null) {
            MemorySegment h = handle();
            MemorySegment buf = Native.scratch().longs;
            Native.check(progrpo_torch_h.pt_tensor_sizes(h, buf, Native.MAX_DIMS), "tensor_sizes");
            shape = buf.asSlice(0, (long) dim * 8).toArray(ValueLayout.JAVA_LONG);
        }
        return shape;
    }

    public long[] strides() {
        MemorySegment h = handle();
        MemorySegment buf = Native.scratch().longs;
        Native.check(progrpo_torch_h.pt_tensor_strides(h, buf, Native.MAX_DIMS), "tensor_strides");
        return buf.asSlice(0, (long) dim * 8).toArray(ValueLayout.JAVA_LONG);
    }

    public boolean requiresGrad() {
        MemorySegment info = Native.scratch().info;
        Native.check(progrpo_torch_h.pt_tensor_info(handle(), info), "tensor_info");
        return info.getAtIndex(ValueLayout.JAVA_LONG, 7) != 0;
    }

    @Override
    public String toString() {
        if (handle == null) return "Tensor[closed " + dtype + " " + device + "]";
        String s = shape != null || ownerThread == null || ownerThread == Thread.currentThread()
                ? Arrays.toString(shapeRef()) : "(" + numel + " elements)";
        return "Tensor" + s + " " + dtype + " " + device;
    }

    /** "[2, 3] float32 cpu" for error messages. */
    String describe() {
        if (handle == null) return "closed tensor";
        return Arrays.toString(shapeRef()) + " " + dtype + " " + device;
    }

    /** "op([2, 3] float32 cpu, null)": an op and its operands for error messages. */
    static String describe(String op, Tensor... ts) {
        StringBuilder s = new StringBuilder(op).append('(');
        for (int i = 0; i < ts.length; i++) {
            if (i > 0) s.append(", ");
            s.append(ts[i] == null ? "null" : ts[i].describe());
        }
        return s.append(')').toString();
    }

    // ---- factories (TensorFactories) -----------------------------------------------------------------------------

    public static Tensor empty(DType dtype, Device device, long... shape) { return TensorFactories.empty(dtype, device, shape); }
    public static Tensor full(double value, DType dtype, Device device, long... shape) { return TensorFactories.full(value, dtype, device, shape); }
    public static Tensor zeros(long... shape) { return full(0, DType.FLOAT32, Device.CPU, shape); }
    public static Tensor zeros(DType dtype, Device device, long... shape) { return full(0, dtype, device, shape); }
    public static Tensor ones(long... shape) { return full(1, DType.FLOAT32, Device.CPU, shape); }
    public static Tensor ones(DType dtype, Device device, long... shape) { return full(1, dtype, device, shape); }
    /** A 0-d float32 CPU tensor. */
    public static Tensor scalar(double value) { return full(value, DType.FLOAT32, Device.CPU); }
    public static Tensor scalar(double value, DType dtype, Device device) { return full(value, dtype, device); }

    public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
        return TensorFactories.arange(start, end, step, dtype, device);
    }
    public static Tensor linspace(double start, double end, long steps, DType dtype, Device device) {
        return TensorFactories.linspace(start, end, steps, dtype, device);
    }

    /** Standard normal samples from {@code gen} (null: libtorch's default generator). */
    public static Tensor randn(Generator gen, DType dtype, Device device, long... shape) { return TensorFactories.randn(gen, dtype, device, shape); }
    public static Tensor randn(Generator gen, long... shape) { return randn(gen, DType.FLOAT32, Device.CPU, shape); }
    /** Uniform samples in [0, 1) from {@code gen} (null: libtorch's default generator). */
    public static Tensor rand(Generator gen, DType dtype, Device device, long... shape) { return TensorFactories.rand(gen, dtype, device, shape); }
    public static Tensor rand(Generator gen, long... shape) { return rand(gen, DType.FLOAT32, Device.CPU, shape); }
    /** int64 samples uniform in [low, high). */
    public static Tensor randint(Generator gen, long low, long high, Device device, long... shape) {
        return TensorFactories.randint(gen, low, high, device, shape);
    }
    /** A random permutation of 0..n-1 (int64). */
    public static Tensor randperm(Generator gen, long n, Device device) { return TensorFactories.randperm(gen, n, device); }

    /** A float32 CPU tensor holding a copy of {@code data} in row-major order. */
    public static Tensor of(float[] data, long... shape) { return TensorFactories.of(data, shape); }
    public static Tensor of(double[] data, long... shape) { return TensorFactories.of(data, shape); }
    public static Tensor of(long[] data, long... shape) { return TensorFactories.of(data, shape); }
    public static Tensor of(int[] data, long... shape) { return TensorFactories.of(data, shape); }
    public static Tensor of(boolean[] data, long... shape) { return TensorFactories.of(data, shape); }
    /** A 1-d float32 tensor of the values. */
    public static Tensor vector(float... data) { return of(data, data.length); }
    /** A CPU tensor holding a copy of the bytes of {@code segment} (any arena, heap segments too). */
    public static Tensor copyOf(MemorySegment segment, DType dtype, long... shape) { return TensorFactories.copyOf(segment, dtype, shape); }

    /**
     * A CPU tensor viewing the native memory of {@code segment} without a copy: writes through either are seen by the
     * other.
     *
     * <p>libtorch may keep references to that memory that Java cannot see (views, autograd's saved tensors, state a
     * TorchScript module stores), so the memory must outlive all of them: {@code segment} must have the global scope,
     * that is come from {@link Arena#global()} or be foreign memory made accessible with the restricted
     * {@link MemorySegment#reinterpret(long)}, by which the caller vouches that the memory stays valid while libtorch
     * uses it. A segment of a confined, shared or automatic arena, which Java frees when the arena is closed or
     * collected, is refused: copy it with {@link #copyOf}, or fill a tensor's own memory in place through
     * {@code Tensor.empty(...).dataSegment()}.
     *
     * @throws IllegalArgumentException for a heap segment, a segment of a closeable or automatic arena, or one too small
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) { return TensorFactories.wrap(segment, dtype, shape); }

    // ---- data access (TensorData) --------------------------------------------------------------------------------

    /**
     * The memory of a contiguous CPU tensor as a segment, zero-copy. The segment lives exactly as long as the tensor:
     * it keeps the tensor reachable (so the leak safety net cannot free the memory while the segment is in use), and
     * closing the tensor (itself, by its scope, or by its module) invalidates it on every thread, after which accessing
     * it throws {@link IllegalStateException} instead of reading freed memory. The segment may be read from any thread
     * (its arena is shared); the first call per tensor creates that arena, and closing the tensor then costs a
     * handshake with the JVM's threads (tens of microseconds).
     */
    public MemorySegment dataSegment() {
        checkOpen();
        checkThread();
        MemorySegment address = TensorData.segmentAddress(this);
        if (data == null) data = new SegmentView();
        return data.segment(this, address, numel * dtype.byteSize());
    }

    public float[] toFloatArray() { return TensorData.toFloatArray(this); }
    public double[] toDoubleArray() { return TensorData.toDoubleArray(this); }
    public long[] toLongArray() { return TensorData.toLongArray(this); }
    public int[] toIntArray() { return TensorData.toIntArray(this); }
    public boolean[] toBooleanArray() { return TensorData.toBooleanArray(this); }
    /** The value of a one-element tensor. */
    public double item() { return TensorData.item(this); }
    public long itemLong() { return TensorData.itemLong(this); }

    // ---- conversion and views (ShapeOps) -------------------------------------------------------------------------

    public Tensor to(Device dev, DType dt) { return ShapeOps.to(this, dev, dt); }
    public Tensor to(Device dev) { return to(dev, dtype); }
    public Tensor to(DType dt) { return to(device, dt); }
    public Tensor clone_() { return ShapeOps.copyOp(this, 0); }
    public Tensor contiguous() { return ShapeOps.copyOp(this, 1); }
    /** A tensor sharing this one's data, cut from the autograd graph. */
    public Tensor detach() { return ShapeOps.copyOp(this, 2); }
    public Tensor reshape(long... shape) { return ShapeOps.reshape(this, shape); }
    public Tensor view(long... shape) { return ShapeOps.view(this, shape); }
    public Tensor expand(long... shape) { return ShapeOps.expand(this, shape); }
    public Tensor permute(long... dims) { return ShapeOps.permute(this, dims); }
    public Tensor transpose(long dim0, long dim1) { return ShapeOps.transpose(this, dim0, dim1); }
    public Tensor squeeze(long d) { return ShapeOps.squeeze(this, d); }
    public Tensor unsqueeze(long d) { return ShapeOps.unsqueeze(this, d); }
    /** Elements {@code start .. start+length-1} along {@code d} (a view). */
    public Tensor narrow(long d, long start, long length) { return ShapeOps.narrow(this, d, start, length); }
    /** Index {@code index} along {@code d}, removing that dimension (a view). */
    public Tensor select(long d, long index) { return ShapeOps.select(this, d, index); }
    public Tensor indexSelect(long d, Tensor index) { return ShapeOps.indexSelect(this, d, index); }
    /** Entries {@code rows} along dimension {@code d} (a copy); each must be in [0, size(d)). */
    public Tensor indexSelect(long d, long... rows) { return ShapeOps.indexSelect(this, d, rows); }
    public Tensor gather(long d, Tensor index) { return ShapeOps.gather(this, d, index); }
    public Tensor repeatInterleave(long repeats, long d) { return ShapeOps.repeatInterleave(this, repeats, d); }
    public static Tensor cat(List<Tensor> ts, long d) { return ShapeOps.cat(ts, d); }
    public static Tensor stack(List<Tensor> ts, long d) { return ShapeOps.stack(ts, d); }

    // ---- elementwise (ElementwiseOps; the op codes are the shim's) -----------------------------------------------

    public Tensor add(Tensor o) { return ElementwiseOps.binary(this, 0, o); }
    public Tensor sub(Tensor o) { return ElementwiseOps.binary(this, 1, o); }
    public Tensor mul(Tensor o) { return ElementwiseOps.binary(this, 2, o); }
    public Tensor div(Tensor o) { return ElementwiseOps.binary(this, 3, o); }
    public Tensor pow(Tensor o) { return ElementwiseOps.binary(this, 4, o); }
    public Tensor maximum(Tensor o) { return ElementwiseOps.binary(this, 5, o); }
    public Tensor minimum(Tensor o) { return ElementwiseOps.binary(this, 6, o); }
    public Tensor eq(Tensor o) { return ElementwiseOps.binary(this, 7, o); }
    public Tensor ne(Tensor o) { return ElementwiseOps.binary(this, 8, o); }
    public Tensor lt(Tensor o) { return ElementwiseOps.binary(this, 9, o); }
    public Tensor le(Tensor o) { return ElementwiseOps.binary(this, 10, o); }
    public Tensor gt(Tensor o) { return ElementwiseOps.binary(this, 11, o); }
    public Tensor ge(Tensor o) { return ElementwiseOps.binary(this, 12, o); }
    public Tensor atan2(Tensor o) { return ElementwiseOps.binary(this, 13, o); }

    public Tensor add(double v) { return ElementwiseOps.binaryScalar(this, 0, v); }
    public Tensor sub(double v) { return ElementwiseOps.binaryScalar(this, 1, v); }
    public Tensor mul(double v) { return ElementwiseOps.binaryScalar(this, 2, v); }
    public Tensor div(double v) { return ElementwiseOps.binaryScalar(this, 3, v); }
    public Tensor pow(double v) { return ElementwiseOps.binaryScalar(this, 4, v); }
    /** max(this, v) elementwise. */
    public Tensor maximum(double v) { return ElementwiseOps.binaryScalar(this, 5, v); }
    /** min(this, v) elementwise. */
    public Tensor minimum(double v) { return ElementwiseOps.binaryScalar(this, 6, v); }
    public Tensor eq(double v) { return ElementwiseOps.binaryScalar(this, 7, v); }
    public Tensor ne(double v) { return ElementwiseOps.binaryScalar(this, 8, v); }
    public Tensor lt(double v) { return ElementwiseOps.binaryScalar(this, 9, v); }
    public Tensor le(double v) { return ElementwiseOps.binaryScalar(this, 10, v); }
    public Tensor gt(double v) { return ElementwiseOps.binaryScalar(this, 11, v); }
    public Tensor ge(double v) { return ElementwiseOps.binaryScalar(this, 12, v); }
    /** v - this. */
    public Tensor rsub(double v) { return ElementwiseOps.binaryScalar(this, 14, v); }
    /** v / this. */
    public Tensor rdiv(double v) { return ElementwiseOps.binaryScalar(this, 15, v); }

    public Tensor neg() { return ElementwiseOps.unary(this, 0); }
    public Tensor exp() { return ElementwiseOps.unary(this, 1); }
    public Tensor log() { return ElementwiseOps.unary(this, 2); }
    public Tensor sqrt() { return ElementwiseOps.unary(this, 3); }
    public Tensor abs() { return ElementwiseOps.unary(this, 4); }
    public Tensor tanh() { return ElementwiseOps.unary(this, 5); }
    public Tensor sigmoid() { return ElementwiseOps.unary(this, 6); }
    public Tensor silu() { return ElementwiseOps.unary(this, 7); }
    public Tensor gelu() { return ElementwiseOps.unary(this, 8); }
    public Tensor relu() { return ElementwiseOps.unary(this, 9); }
    public Tensor sin() { return ElementwiseOps.unary(this, 10); }
    public Tensor cos() { return ElementwiseOps.unary(this, 11); }
    public Tensor square() { return ElementwiseOps.unary(this, 12); }
    public Tensor rsqrt() { return ElementwiseOps.unary(this, 13); }
    public Tensor reciprocal() { return ElementwiseOps.unary(this, 14); }
    public Tensor floor() { return ElementwiseOps.unary(this, 15); }
    public Tensor sign() { return ElementwiseOps.unary(this, 16); }
    public Tensor isnan() { return ElementwiseOps.unary(this, 17); }
    public Tensor isfinite() { return ElementwiseOps.unary(this, 18); }
    public Tensor log1p() { return ElementwiseOps.unary(this, 19); }
    public Tensor expm1() { return ElementwiseOps.unary(this, 20); }
    public Tensor logicalNot() { return ElementwiseOps.unary(this, 21); }

    /** this + alpha * b * c. */
    public Tensor addcmul(Tensor b, Tensor c, double alpha) { return ElementwiseOps.addcmul(this, b, c, alpha); }
    /** Clamps into [lo, hi]; pass infinities for a one-sided clamp. */
    public Tensor clamp(double lo, double hi) { return ElementwiseOps.clamp(this, lo, hi); }
    /** cond ? a : b, broadcasting. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return ElementwiseOps.where(cond, a, b); }
    public Tensor softmax(long d) { return ElementwiseOps.softmax(this, d); }
    public Tensor logSoftmax(long d) { return ElementwiseOps.logSoftmax(this, d); }

    /** this += alpha * other, in place. */
    public Tensor addInPlace(Tensor other, double alpha) { return ElementwiseOps.addInPlace(this, other, alpha); }
    /** this *= v, in place. */
    public Tensor mulInPlace(double v) { return ElementwiseOps.mulInPlace(this, v); }
    public Tensor fill(double v) { return ElementwiseOps.fill(this, v); }
    /** Copies {@code src} into this tensor in place (broadcasting, converting dtype and device). */
    public Tensor copyFrom(Tensor src) { return ElementwiseOps.copyFrom(this, src); }

    // ---- reductions and matrix products (ReductionOps; the op codes are the shim's) -------------------------------

    /** Sum of all elements (0-d). */
    public Tensor sum() { return ReductionOps.reduce(this, 0, "sum", false); }
    public Tensor sum(boolean keepdim, long... dims) { return ReductionOps.reduce(this, 0, "sum", keepdim, ReductionOps.requireDims(dims)); }
    public Tensor mean() { return ReductionOps.reduce(this, 1, "mean", false); }
    public Tensor mean(boolean keepdim, long... dims) { return ReductionOps.reduce(this, 1, "mean", keepdim, ReductionOps.requireDims(dims)); }
    public Tensor amax() { return ReductionOps.reduce(this, 2, "amax", false); }
    public Tensor amax(boolean keepdim, long... dims) { return ReductionOps.reduce(this, 2, "amax", keepdim, ReductionOps.requireDims(dims)); }
    public Tensor amin() { return ReductionOps.reduce(this, 3, "amin", false); }
    public Tensor amin(boolean keepdim, long... dims) { return ReductionOps.reduce(this, 3, "amin", keepdim, ReductionOps.requireDims(dims)); }
    public Tensor prod() { return ReductionOps.reduce(this, 4, "prod", false); }
    public Tensor any() { return ReductionOps.reduce(this, 5, "any", false); }
    public Tensor any(boolean keepdim, long... dims) { return ReductionOps.reduce(this, 5, "any", keepdim, ReductionOps.requireDims(dims)); }
    public Tensor all() { return ReductionOps.reduce(this, 6, "all", false); }
    public Tensor all(boolean keepdim, long... dims) { return ReductionOps.reduce(this, 6, "all", keepdim, ReductionOps.requireDims(dims)); }
    /** Variance with the given correction (0: population, 1: sample); no dims reduces all. */
    public Tensor var(long correction, boolean keepdim, long... dims) { return ReductionOps.varStd(this, correction, keepdim, false, dims); }
    public Tensor std(long correction, boolean keepdim, long... dims) { return ReductionOps.varStd(this, correction, keepdim, true, dims); }

    /** Maximum values and their indices along {@code d}. */
    public record MaxResult(Tensor values, Tensor indices) {}

    public MaxResult max(long d, boolean keepdim) { return ReductionOps.max(this, d, keepdim); }
    public Tensor argmax(long d, boolean keepdim) { return ReductionOps.argmax(this, d, keepdim); }
    /** The p-norm of all elements. */
    public Tensor norm(double p) { return ReductionOps.norm(this, p); }
    public Tensor matmul(Tensor o) { return ReductionOps.matmul(this, o); }
    public Tensor bmm(Tensor o) { return ReductionOps.bmm(this, o); }

    // ---- autograd (TensorGrad) -----------------------------------------------------------------------------------

    public Tensor setRequiresGrad(boolean on) { return TensorGrad.setRequiresGrad(this, on); }

    /** Back-propagates from this scalar. */
    public void backward() { backward(null, false); }
    public void backward(Tensor grad, boolean retainGraph) { TensorGrad.backward(this, grad, retainGraph); }
    /** A new handle to this tensor's gradient, or null when it has none. */
    public Tensor grad() { return TensorGrad.grad(this); }
    /** Drops this tensor's gradient. */
    public void zeroGrad() { TensorGrad.zeroGrad(this); }
    /** libtorch's version counter ({@code t._version()}): every in-place op on this tensor or a view of it advances it. */
    public long version() { return TensorGrad.version(this); }
}
