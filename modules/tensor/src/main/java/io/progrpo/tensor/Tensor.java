package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
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
    private static final Cleaner CLEANER = Cleaner.create();
    private static final boolean DEBUG_LEAKS = Boolean.getBoolean("progrpo.tensor.debugLeaks");
    /**
     * The leak safety net (a Cleaner registration per caller-owned tensor and per scope) is on unless
     * {@code -Dprogrpo.tensor.safetyNet=false}; off saves a little per op (see docs/benchmarks.md) and turns a forgotten
     * close() into a native leak that nothing reports.
     */
    static final boolean SAFETY_NET = !"false".equals(System.getProperty("progrpo.tensor.safetyNet"));
    private static final System.Logger LOG = System.getLogger("io.progrpo.tensor");

    static {
        io.progrpo.tensor.internal.TensorAccess.install(new io.progrpo.tensor.internal.TensorAccess.Bridge() {
            @Override
            public MemorySegment handle(Tensor t) {
                return t.handle();
            }

            @Override
            public Tensor adopt(MemorySegment h) {
                return Tensor.adopt(h);
            }

            @Override
            public void check(int status, java.util.function.Supplier<String> what) {
                Native.check(status, what);
            }

            @Override
            public MemorySegment handles(List<Tensor> ts) {
                return Native.scratch().handles(ts);
            }

            @Override
            public MemorySegment out() {
                return Native.scratch().out;
            }

            @Override
            public MemorySegment doubles() {
                return Native.scratch().doubles;
            }

            @Override
            public void ensureLoaded() {
                Native.ensureLoaded();
            }

            @Override
            public void release(Tensor t) {
                t.checkOpen();
                t.checkThread();
                t.moveTo(null);
            }

            @Override
            public String lastError() {
                return Native.lastError();
            }

            @Override
            public io.progrpo.tensor.internal.TensorAccess.Identity identity(Tensor t) {
                return t.identity();
            }
        });
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
    private LeakAction leak;
    private Cleaner.Cleanable cleanable;
    /** The shared arena of {@link #dataSegment()}'s segments (null until the first call); closed by {@link #free()}. */
    private Arena dataArena;
    private MemorySegment dataView;

    /** Frees a tensor that became unreachable without close(); holds no reference to the Tensor. */
    private static final class LeakAction implements Runnable {
        final long address;
        final Device device;
        final long storageKey;
        final Throwable createdAt;
        volatile boolean explicit;

        LeakAction(long address, Device device, long storageKey, Throwable createdAt) {
            this.address = address;
            this.device = device;
            this.storageKey = storageKey;
            this.createdAt = createdAt;
        }

        @Override
        public void run() {
            if (explicit) return;
            progrpo_torch_h.pt_tensor_free(MemorySegment.ofAddress(address));
            MemoryLedger.onFree(device, storageKey);
            MemoryLedger.onLeak();
            if (createdAt != null) {
                LOG.log(System.Logger.Level.WARNING, "leaked tensor freed by the safety net; created at:", createdAt);
            }
        }
    }

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
        MemoryLedger.onCreate(dev, key, bytes);
        t.moveTo(Scope.current());
        return t;
    }

    /** Adopts the handle in the scratch out-slot {@code i} after a successful call. */
    private static Tensor adoptOut(int i) {
        return adopt(Native.scratch().outAddress(i));
    }

    // ---- ownership ---------------------------------------------------------------------------------------------

    Scope owner() {
        return scope;
    }

    /** Moves ownership to {@code target}, or to the caller (with the leak safety net) when target is null. */
    void moveTo(Scope target) {
        if (target != null) {
            if (cleanable != null) {
                leak.explicit = true;
                cleanable.clean();
                cleanable = null;
                leak = null;
            }
            scope = target;
            target.adopt(this);
        } else {
            scope = null;
            if (cleanable == null && SAFETY_NET) {
                leak = new LeakAction(handle.address(), device, storageKey, DEBUG_LEAKS ? new Throwable("tensor created here") : null);
                cleanable = CLEANER.register(this, leak);
            }
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

    private void checkOpen() {
        if (handle == null) throw new IllegalStateException("tensor is closed (" + dtype + " " + device + ", " + numel + " elements)");
    }

    private void checkThread() {
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
        if (dataArena != null) {
            // first kill every dataSegment() segment (a shared arena: safe against reads on other threads)
            try {
                dataArena.close();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("tensor " + describe() + " cannot be freed while a native call on another thread"
                        + " holds its dataSegment(); close it after that call returns", e);
            }
            dataArena = null;
            dataView = null;
        }
        handle = null;
        if (cleanable != null) {
            leak.explicit = true;
            cleanable.clean();
        }
        progrpo_torch_h.pt_tensor_free(h);
        MemoryLedger.onFree(device, storageKey);
    }

    // ---- metadata ------------------------------------------------------------------------------------------------

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return device;
    }

    public int dim() {
        return dim;
    }

    public long numel() {
        return numel;
    }

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

    private long[] shapeRef() {
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

    private static String describe(String op, Tensor... ts) {
        StringBuilder s = new StringBuilder(op).append('(');
        for (int i = 0; i < ts.length; i++) {
            if (i > 0) s.append(", ");
            s.append(ts[i] == null ? "null" : ts[i].describe());
        }
        return s.append(')').toString();
    }

    // ---- factories -------------------------------------------------------------------------------------------------

    private static void checkShape(long[] shape) {
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape must have sizes >= 0, got " + Arrays.toString(shape));
        }
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public static Tensor empty(DType dtype, Device device, long... shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_empty(s.longs(shape), shape.length, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "empty(" + Arrays.toString(shape) + ", " + dtype + ", " + device + ")");
        return adoptOut(0);
    }

    public static Tensor full(double value, DType dtype, Device device, long... shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_full(s.longs(shape), shape.length, value, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "full(" + Arrays.toString(shape) + ", " + dtype + ", " + device + ")");
        return adoptOut(0);
    }

    public static Tensor zeros(long... shape) {
        return full(0, DType.FLOAT32, Device.CPU, shape);
    }

    public static Tensor zeros(DType dtype, Device device, long... shape) {
        return full(0, dtype, device, shape);
    }

    public static Tensor ones(long... shape) {
        return full(1, DType.FLOAT32, Device.CPU, shape);
    }

    public static Tensor ones(DType dtype, Device device, long... shape) {
        return full(1, dtype, device, shape);
    }

    /** A 0-d float32 CPU tensor. */
    public static Tensor scalar(double value) {
        return full(value, DType.FLOAT32, Device.CPU);
    }

    public static Tensor scalar(double value, DType dtype, Device device) {
        return full(value, dtype, device);
    }

    public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
        Native.ensureLoaded();
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_arange(start, end, step, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "arange(" + start + ", " + end + ", " + step + ")");
        return adoptOut(0);
    }

    public static Tensor linspace(double start, double end, long steps, DType dtype, Device device) {
        Native.ensureLoaded();
        if (steps < 1) throw new IllegalArgumentException("linspace needs steps >= 1, got " + steps);
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_linspace(start, end, steps, dtype.code(), device.typeCode(), device.index(), s.out),
                () -> "linspace(" + start + ", " + end + ", " + steps + ")");
        return adoptOut(0);
    }

    /** Standard normal samples from {@code gen} (null: libtorch's default generator). */
    public static Tensor randn(Generator gen, DType dtype, Device device, long... shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_randn(s.longs(shape), shape.length, dtype.code(), device.typeCode(),
                device.index(), g, s.out)), () -> "randn(" + Arrays.toString(shape) + ")");
        return adoptOut(0);
    }

    public static Tensor randn(Generator gen, long... shape) {
        return randn(gen, DType.FLOAT32, Device.CPU, shape);
    }

    /** Uniform samples in [0, 1) from {@code gen} (null: libtorch's default generator). */
    public static Tensor rand(Generator gen, DType dtype, Device device, long... shape) {
        Native.ensureLoaded();
        checkShape(shape);
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_rand(s.longs(shape), shape.length, dtype.code(), device.typeCode(),
                device.index(), g, s.out)), () -> "rand(" + Arrays.toString(shape) + ")");
        return adoptOut(0);
    }

    public static Tensor rand(Generator gen, long... shape) {
        return rand(gen, DType.FLOAT32, Device.CPU, shape);
    }

    /** int64 samples uniform in [low, high). */
    public static Tensor randint(Generator gen, long low, long high, Device device, long... shape) {
        Native.ensureLoaded();
        if (high <= low) throw new IllegalArgumentException("randint needs low < high, got [" + low + ", " + high + ")");
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_randint(low, high, s.longs(shape), shape.length, device.typeCode(),
                device.index(), g, s.out)), () -> "randint(" + low + ", " + high + ")");
        return adoptOut(0);
    }

    /** A random permutation of 0..n-1 (int64). */
    public static Tensor randperm(Generator gen, long n, Device device) {
        Native.ensureLoaded();
        Native.Scratch s = Native.scratch();
        Native.check(Generator.draw(gen, g -> progrpo_torch_h.pt_randperm(n, device.typeCode(), device.index(), g, s.out)),
                () -> "randperm(" + n + ")");
        return adoptOut(0);
    }

    private static Tensor fromHeap(Object array, int length, DType dtype, ValueLayout layout, long[] shape) {
        checkShape(shape);
        if (count(shape) != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape)
                    + " elements, the array has " + length);
        }
        Tensor t = empty(dtype, Device.CPU, shape);
        if (length > 0) {
            MemorySegment dst = t.rawData(length * layout.byteSize());
            switch (array) {
                case float[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfFloat) layout, 0, length);
                case double[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfDouble) layout, 0, length);
                case long[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfLong) layout, 0, length);
                case int[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfInt) layout, 0, length);
                case byte[] a -> MemorySegment.copy(a, 0, dst, (ValueLayout.OfByte) layout, 0, length);
                default -> throw new AssertionError(array.getClass());
            }
        }
        return t;
    }

    /** A float32 CPU tensor holding a copy of {@code data} in row-major order. */
    public static Tensor of(float[] data, long... shape) {
        return fromHeap(data, data.length, DType.FLOAT32, ValueLayout.JAVA_FLOAT, shape);
    }

    public static Tensor of(double[] data, long... shape) {
        return fromHeap(data, data.length, DType.FLOAT64, ValueLayout.JAVA_DOUBLE, shape);
    }

    public static Tensor of(long[] data, long... shape) {
        return fromHeap(data, data.length, DType.INT64, ValueLayout.JAVA_LONG, shape);
    }

    public static Tensor of(int[] data, long... shape) {
        return fromHeap(data, data.length, DType.INT32, ValueLayout.JAVA_INT, shape);
    }

    public static Tensor of(boolean[] data, long... shape) {
        byte[] b = new byte[data.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
        return fromHeap(b, b.length, DType.BOOL, ValueLayout.JAVA_BYTE, shape);
    }

    /** A 1-d float32 tensor of the values. */
    public static Tensor vector(float... data) {
        return of(data, data.length);
    }

    /** A CPU tensor holding a copy of the bytes of {@code segment} (any arena, heap segments too). */
    public static Tensor copyOf(MemorySegment segment, DType dtype, long... shape) {
        checkShape(shape);
        long bytes = count(shape) * dtype.byteSize();
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment has " + segment.byteSize() + " bytes, shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs " + bytes);
        }
        Tensor t = empty(dtype, Device.CPU, shape);
        if (bytes > 0) MemorySegment.copy(segment, 0, t.rawData(bytes), 0, bytes);
        return t;
    }

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
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        Native.ensureLoaded();
        checkShape(shape);
        if (!segment.isNative()) throw new IllegalArgumentException("wrap needs a native segment; use copyOf for heap segments");
        if (!segment.scope().equals(Arena.global().scope())) {
            throw new IllegalArgumentException("wrap views memory without copying, so the memory must outlive every libtorch reference"
                    + " to it; it needs a segment of the global scope (Arena.global(), or MemorySegment.ofAddress(address).reinterpret(size)"
                    + " for memory you keep valid yourself), got one of an arena that frees it when closed or collected;"
                    + " use Tensor.copyOf(segment, ...) to copy it, or write into Tensor.empty(...).dataSegment()");
        }
        long bytes = count(shape) * dtype.byteSize();
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment has " + segment.byteSize() + " bytes, shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs " + bytes);
        }
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_from_blob(segment, s.longs(shape), shape.length, dtype.code(), s.out), "from_blob");
        return adoptOut(0);
    }

    // ---- data access -----------------------------------------------------------------------------------------------

    /** The first element's address as an unbounded-scope segment of {@code bytes}; for internal copies only. */
    private MemorySegment rawData(long bytes) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_tensor_data_ptr(handle(), s.out), "data_ptr");
        return s.outAddress(0).reinterpret(bytes);
    }

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
        if (device.isCuda()) throw new IllegalStateException("dataSegment() needs a CPU tensor, this one is on " + device);
        long[] st = strides();
        long[] sh = shapeRef();
        long expect = 1;
        for (int i = sh.length - 1; i >= 0; i--) {
            if (sh[i] != 1 && st[i] != expect) throw new IllegalStateException("dataSegment() needs a contiguous tensor; call contiguous() first");
            expect *= sh[i];
        }
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_tensor_data_ptr(handle, s.out), "data_ptr");
        MemorySegment address = s.outAddress(0);
        if (dataView == null || dataView.address() != address.address()) {
            if (dataArena == null) dataArena = Arena.ofShared();
            // the close action references this tensor: the arena's state, which every segment holds, keeps it reachable
            dataView = address.reinterpret(numel * dtype.byteSize(), dataArena, seg -> Reference.reachabilityFence(this));
        }
        return dataView;
    }

    /** Storage, first element's address, sizes and strides: equal for two handles of the same elements. */
    io.progrpo.tensor.internal.TensorAccess.Identity identity() {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_tensor_data_ptr(handle(), s.out), "data_ptr");
        long address = s.outAddress(0).address();
        return new io.progrpo.tensor.internal.TensorAccess.Identity(storageKey, address,
                Arrays.stream(shapeRef()).boxed().toList(), Arrays.stream(strides()).boxed().toList());
    }

    private Tensor cpuContiguous(DType want) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_to(handle(), want.code(), 0, 0, s.out), () -> describe("to", this));
        MemorySegment h = s.outAddress(0);
        int st = progrpo_torch_h.pt_contiguous(h, s.out);
        progrpo_torch_h.pt_tensor_free(h); // the intermediate is freed on failure too
        Native.check(st, "contiguous");
        return adoptOut(0);
    }

    public float[] toFloatArray() {
        try (Tensor c = cpuContiguous(DType.FLOAT32)) {
            return c.numel == 0 ? new float[0] : c.rawData(c.numel * 4).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    public double[] toDoubleArray() {
        try (Tensor c = cpuContiguous(DType.FLOAT64)) {
            return c.numel == 0 ? new double[0] : c.rawData(c.numel * 8).toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    public long[] toLongArray() {
        try (Tensor c = cpuContiguous(DType.INT64)) {
            return c.numel == 0 ? new long[0] : c.rawData(c.numel * 8).toArray(ValueLayout.JAVA_LONG);
        }
    }

    public int[] toIntArray() {
        try (Tensor c = cpuContiguous(DType.INT32)) {
            return c.numel == 0 ? new int[0] : c.rawData(c.numel * 4).toArray(ValueLayout.JAVA_INT);
        }
    }

    public boolean[] toBooleanArray() {
        try (Tensor c = cpuContiguous(DType.BOOL)) {
            byte[] b = c.numel == 0 ? new byte[0] : c.rawData(c.numel).toArray(ValueLayout.JAVA_BYTE);
            boolean[] r = new boolean[b.length];
            for (int i = 0; i < b.length; i++) r[i] = b[i] != 0;
            return r;
        }
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel != 1) throw new IllegalStateException("item() needs a one-element tensor, got " + describe());
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_item_double(handle(), s.doubles), () -> describe("item", this));
        return s.doubles.getAtIndex(ValueLayout.JAVA_DOUBLE, 0);
    }

    public long itemLong() {
        if (numel != 1) throw new IllegalStateException("itemLong() needs a one-element tensor, got " + describe());
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_item_int64(handle(), s.longs), () -> describe("item", this));
        return s.longs.getAtIndex(ValueLayout.JAVA_LONG, 0);
    }

    // ---- conversion and views --------------------------------------------------------------------------------------

    public Tensor to(Device dev, DType dt) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_to(handle(), dt.code(), dev.typeCode(), dev.index(), s.out),
                () -> describe("to(" + dev + ", " + dt + ")", this));
        return adoptOut(0);
    }

    public Tensor to(Device dev) {
        return to(dev, dtype);
    }

    public Tensor to(DType dt) {
        return to(device, dt);
    }

    public Tensor clone_() {
        return unaryHandleOp(0);
    }

    public Tensor contiguous() {
        return unaryHandleOp(1);
    }

    /** A tensor sharing this one's data, cut from the autograd graph. */
    public Tensor detach() {
        return unaryHandleOp(2);
    }

    private Tensor unaryHandleOp(int which) {
        Native.Scratch s = Native.scratch();
        MemorySegment h = handle();
        int st = switch (which) {
            case 0 -> progrpo_torch_h.pt_clone(h, s.out);
            case 1 -> progrpo_torch_h.pt_contiguous(h, s.out);
            default -> progrpo_torch_h.pt_detach(h, s.out);
        };
        Native.check(st, () -> describe(which == 0 ? "clone" : which == 1 ? "contiguous" : "detach", this));
        return adoptOut(0);
    }

    public Tensor reshape(long... shape) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_reshape(handle(), s.longs(shape), shape.length, s.out),
                () -> describe("reshape to " + Arrays.toString(shape), this));
        return adoptOut(0);
    }

    public Tensor view(long... shape) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_view(handle(), s.longs(shape), shape.length, s.out),
                () -> describe("view as " + Arrays.toString(shape), this));
        return adoptOut(0);
    }

    public Tensor expand(long... shape) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_expand(handle(), s.longs(shape), shape.length, s.out),
                () -> describe("expand to " + Arrays.toString(shape), this));
        return adoptOut(0);
    }

    public Tensor permute(long... dims) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_permute(handle(), s.longs(dims), dims.length, s.out),
                () -> describe("permute " + Arrays.toString(dims), this));
        return adoptOut(0);
    }

    public Tensor transpose(long dim0, long dim1) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_transpose(handle(), dim0, dim1, s.out), () -> describe("transpose(" + dim0 + ", " + dim1 + ")", this));
        return adoptOut(0);
    }

    public Tensor squeeze(long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_squeeze(handle(), d, s.out), () -> describe("squeeze(" + d + ")", this));
        return adoptOut(0);
    }

    public Tensor unsqueeze(long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_unsqueeze(handle(), d, s.out), () -> describe("unsqueeze(" + d + ")", this));
        return adoptOut(0);
    }

    /** Elements {@code start .. start+length-1} along {@code d} (a view). */
    public Tensor narrow(long d, long start, long length) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_narrow(handle(), d, start, length, s.out),
                () -> describe("narrow(dim " + d + ", start " + start + ", length " + length + ")", this));
        return adoptOut(0);
    }

    /** Index {@code index} along {@code d}, removing that dimension (a view). */
    public Tensor select(long d, long index) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_select(handle(), d, index, s.out), () -> describe("select(dim " + d + ", index " + index + ")", this));
        return adoptOut(0);
    }

    public Tensor indexSelect(long d, Tensor index) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_index_select(handle(), d, index.handle(), s.out), () -> describe("index_select(dim " + d + ")", this, index));
        return adoptOut(0);
    }

    /** Entries {@code rows} along dimension {@code d} (a copy); each must be in [0, size(d)). */
    public Tensor indexSelect(long d, long... rows) {
        // libtorch reports only "index out of range in self"; name the offending index here instead
        long n = size(Math.toIntExact(d));
        for (long r : rows) {
            if (r < 0 || r >= n) {
                throw new IndexOutOfBoundsException("index_select: index " + r + " out of range [0, " + n + ") for dimension " + d
                        + " of size " + n + " in " + describe());
            }
        }
        try (Tensor idx = of(rows, rows.length)) {
            return indexSelect(d, idx);
        }
    }

    public Tensor gather(long d, Tensor index) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_gather(handle(), d, index.handle(), s.out), () -> describe("gather(dim " + d + ")", this, index));
        return adoptOut(0);
    }

    public Tensor repeatInterleave(long repeats, long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_repeat_interleave(handle(), repeats, d, s.out), () -> describe("repeat_interleave", this));
        return adoptOut(0);
    }

    public static Tensor cat(List<Tensor> ts, long d) {
        if (ts.isEmpty()) throw new IllegalArgumentException("cat needs at least one tensor");
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_cat(s.handles(ts), ts.size(), d, s.out), () -> describe("cat(dim " + d + ")", ts.toArray(Tensor[]::new)));
        return adoptOut(0);
    }

    public static Tensor stack(List<Tensor> ts, long d) {
        if (ts.isEmpty()) throw new IllegalArgumentException("stack needs at least one tensor");
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_stack(s.handles(ts), ts.size(), d, s.out), () -> describe("stack(dim " + d + ")", ts.toArray(Tensor[]::new)));
        return adoptOut(0);
    }

    // ---- elementwise -----------------------------------------------------------------------------------------------

    private static final String[] BINARY = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "atan2", "rsub", "rdiv"};

    private Tensor binary(int op, Tensor o) {
        MemorySegment a = handle();
        MemorySegment b = o.handle();
        Native.Scratch s = Native.scratch();
        int st = progrpo_torch_h.pt_binary(op, a, b, s.out);
        if (st != 0) Native.check(st, describe(BINARY[op], this, o));
        return adoptOut(0);
    }

    private Tensor binary(int op, double v) {
        MemorySegment a = handle();
        Native.Scratch s = Native.scratch();
        int st = progrpo_torch_h.pt_binary_scalar(op, a, v, s.out);
        if (st != 0) Native.check(st, describe(BINARY[op] + " " + v, this));
        return adoptOut(0);
    }

    public Tensor add(Tensor o) { return binary(0, o); }
    public Tensor sub(Tensor o) { return binary(1, o); }
    public Tensor mul(Tensor o) { return binary(2, o); }
    public Tensor div(Tensor o) { return binary(3, o); }
    public Tensor pow(Tensor o) { return binary(4, o); }
    public Tensor maximum(Tensor o) { return binary(5, o); }
    public Tensor minimum(Tensor o) { return binary(6, o); }
    public Tensor eq(Tensor o) { return binary(7, o); }
    public Tensor ne(Tensor o) { return binary(8, o); }
    public Tensor lt(Tensor o) { return binary(9, o); }
    public Tensor le(Tensor o) { return binary(10, o); }
    public Tensor gt(Tensor o) { return binary(11, o); }
    public Tensor ge(Tensor o) { return binary(12, o); }
    public Tensor atan2(Tensor o) { return binary(13, o); }

    public Tensor add(double v) { return binary(0, v); }
    public Tensor sub(double v) { return binary(1, v); }
    public Tensor mul(double v) { return binary(2, v); }
    public Tensor div(double v) { return binary(3, v); }
    public Tensor pow(double v) { return binary(4, v); }
    /** max(this, v) elementwise. */
    public Tensor maximum(double v) { return binary(5, v); }
    /** min(this, v) elementwise. */
    public Tensor minimum(double v) { return binary(6, v); }
    public Tensor eq(double v) { return binary(7, v); }
    public Tensor ne(double v) { return binary(8, v); }
    public Tensor lt(double v) { return binary(9, v); }
    public Tensor le(double v) { return binary(10, v); }
    public Tensor gt(double v) { return binary(11, v); }
    public Tensor ge(double v) { return binary(12, v); }
    /** v - this. */
    public Tensor rsub(double v) { return binary(14, v); }
    /** v / this. */
    public Tensor rdiv(double v) { return binary(15, v); }

    private static final String[] UNARY = {"neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "silu", "gelu", "relu",
        "sin", "cos", "square", "rsqrt", "reciprocal", "floor", "sign", "isnan", "isfinite", "log1p", "expm1", "logical_not"};

    private Tensor unary(int op) {
        MemorySegment a = handle();
        Native.Scratch s = Native.scratch();
        int st = progrpo_torch_h.pt_unary(op, a, s.out);
        if (st != 0) Native.check(st, describe(UNARY[op], this));
        return adoptOut(0);
    }

    public Tensor neg() { return unary(0); }
    public Tensor exp() { return unary(1); }
    public Tensor log() { return unary(2); }
    public Tensor sqrt() { return unary(3); }
    public Tensor abs() { return unary(4); }
    public Tensor tanh() { return unary(5); }
    public Tensor sigmoid() { return unary(6); }
    public Tensor silu() { return unary(7); }
    public Tensor gelu() { return unary(8); }
    public Tensor relu() { return unary(9); }
    public Tensor sin() { return unary(10); }
    public Tensor cos() { return unary(11); }
    public Tensor square() { return unary(12); }
    public Tensor rsqrt() { return unary(13); }
    public Tensor reciprocal() { return unary(14); }
    public Tensor floor() { return unary(15); }
    public Tensor sign() { return unary(16); }
    public Tensor isnan() { return unary(17); }
    public Tensor isfinite() { return unary(18); }
    public Tensor log1p() { return unary(19); }
    public Tensor expm1() { return unary(20); }
    public Tensor logicalNot() { return unary(21); }

    /** this + alpha * b * c. */
    public Tensor addcmul(Tensor b, Tensor c, double alpha) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_addcmul(handle(), b.handle(), c.handle(), alpha, s.out), () -> describe("addcmul", this, b, c));
        return adoptOut(0);
    }

    /** Clamps into [lo, hi]; pass infinities for a one-sided clamp. */
    public Tensor clamp(double lo, double hi) {
        if (Double.isNaN(lo) || Double.isNaN(hi) || lo > hi) throw new IllegalArgumentException("clamp needs lo <= hi, got [" + lo + ", " + hi + "]");
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_clamp(handle(), lo, hi, s.out), () -> describe("clamp", this));
        return adoptOut(0);
    }

    /** cond ? a : b, broadcasting. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_where(cond.handle(), a.handle(), b.handle(), s.out), () -> describe("where", cond, a, b));
        return adoptOut(0);
    }

    public Tensor softmax(long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_softmax(handle(), d, s.out), () -> describe("softmax(dim " + d + ")", this));
        return adoptOut(0);
    }

    public Tensor logSoftmax(long d) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_log_softmax(handle(), d, s.out), () -> describe("log_softmax(dim " + d + ")", this));
        return adoptOut(0);
    }

    /** this += alpha * other, in place. */
    public Tensor addInPlace(Tensor other, double alpha) {
        Native.check(progrpo_torch_h.pt_add_(handle(), other.handle(), alpha), () -> describe("add_", this, other));
        return this;
    }

    /** this *= v, in place. */
    public Tensor mulInPlace(double v) {
        Native.check(progrpo_torch_h.pt_mul_scalar_(handle(), v), () -> describe("mul_", this));
        return this;
    }

    public Tensor fill(double v) {
        Native.check(progrpo_torch_h.pt_fill_(handle(), v), () -> describe("fill_", this));
        return this;
    }

    /** Copies {@code src} into this tensor in place (broadcasting, converting dtype and device). */
    public Tensor copyFrom(Tensor src) {
        Native.check(progrpo_torch_h.pt_copy_(handle(), src.handle()), () -> describe("copy_", this, src));
        return this;
    }

    // ---- reductions ------------------------------------------------------------------------------------------------

    private Tensor reduce(int op, String name, boolean keepdim, long... dims) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_reduce(op, handle(), s.longs(dims), dims.length, keepdim ? 1 : 0, s.out),
                () -> describe(name + " over " + (dims.length == 0 ? "all" : Arrays.toString(dims)), this));
        return adoptOut(0);
    }

    /** Sum of all elements (0-d). */
    public Tensor sum() { return reduce(0, "sum", false); }
    public Tensor sum(boolean keepdim, long... dims) { return reduce(0, "sum", keepdim, requireDims(dims)); }
    public Tensor mean() { return reduce(1, "mean", false); }
    public Tensor mean(boolean keepdim, long... dims) { return reduce(1, "mean", keepdim, requireDims(dims)); }
    public Tensor amax() { return reduce(2, "amax", false); }
    public Tensor amax(boolean keepdim, long... dims) { return reduce(2, "amax", keepdim, requireDims(dims)); }
    public Tensor amin() { return reduce(3, "amin", false); }
    public Tensor amin(boolean keepdim, long... dims) { return reduce(3, "amin", keepdim, requireDims(dims)); }
    public Tensor prod() { return reduce(4, "prod", false); }
    public Tensor any() { return reduce(5, "any", false); }
    public Tensor any(boolean keepdim, long... dims) { return reduce(5, "any", keepdim, requireDims(dims)); }
    public Tensor all() { return reduce(6, "all", false); }
    public Tensor all(boolean keepdim, long... dims) { return reduce(6, "all", keepdim, requireDims(dims)); }

    private static long[] requireDims(long[] dims) {
        if (dims.length == 0) throw new IllegalArgumentException("name at least one dimension (use the no-argument form to reduce all)");
        return dims;
    }

    /** Variance with the given correction (0: population, 1: sample); no dims reduces all. */
    public Tensor var(long correction, boolean keepdim, long... dims) {
        return varStd(correction, keepdim, false, dims);
    }

    public Tensor std(long correction, boolean keepdim, long... dims) {
        return varStd(correction, keepdim, true, dims);
    }

    private Tensor varStd(long correction, boolean keepdim, boolean sqrt, long[] dims) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_var(handle(), s.longs(dims), dims.length, correction, keepdim ? 1 : 0, sqrt ? 1 : 0, s.out),
                () -> describe(sqrt ? "std" : "var", this));
        return adoptOut(0);
    }

    /** Maximum values and their indices along {@code d}. */
    public record MaxResult(Tensor values, Tensor indices) {}

    public MaxResult max(long d, boolean keepdim) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_max_dim(handle(), d, keepdim ? 1 : 0, s.out, s.out.asSlice(8)), () -> describe("max(dim " + d + ")", this));
        Tensor v = adoptOut(0);
        return new MaxResult(v, adoptOut(1));
    }

    public Tensor argmax(long d, boolean keepdim) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_argmax(handle(), d, keepdim ? 1 : 0, s.out), () -> describe("argmax(dim " + d + ")", this));
        return adoptOut(0);
    }

    /** The p-norm of all elements. */
    public Tensor norm(double p) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_norm(handle(), p, s.out), () -> describe("norm", this));
        return adoptOut(0);
    }

    // ---- linear algebra ------------------------------------------------------------------------------------------

    public Tensor matmul(Tensor o) {
        Native.Scratch s = Native.scratch();
        MemorySegment a = handle();
        MemorySegment b = o.handle();
        int st = progrpo_torch_h.pt_matmul(a, b, s.out);
        if (st != 0) Native.check(st, describe("matmul", this, o));
        return adoptOut(0);
    }

    public Tensor bmm(Tensor o) {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_bmm(handle(), o.handle(), s.out), () -> describe("bmm", this, o));
        return adoptOut(0);
    }

    // ---- autograd --------------------------------------------------------------------------------------------------

    public Tensor setRequiresGrad(boolean on) {
        Native.check(progrpo_torch_h.pt_set_requires_grad(handle(), on ? 1 : 0), () -> describe("requires_grad_", this));
        return this;
    }

    /** Back-propagates from this scalar. */
    public void backward() {
        backward(null, false);
    }

    public void backward(Tensor grad, boolean retainGraph) {
        if (grad == null && numel != 1) throw new IllegalStateException("backward() without a gradient needs a one-element tensor, got " + describe());
        Native.check(progrpo_torch_h.pt_backward(handle(), handleOrNull(grad), retainGraph ? 1 : 0), () -> describe("backward", this));
    }

    /** A new handle to this tensor's gradient, or null when it has none. */
    public Tensor grad() {
        Native.Scratch s = Native.scratch();
        Native.check(progrpo_torch_h.pt_grad(handle(), s.out), () -> describe("grad", this));
        MemorySegment g = s.outAddress(0);
        return g.equals(MemorySegment.NULL) ? null : adopt(g);
    }

    /** Drops this tensor's gradient. */
    public void zeroGrad() {
        Native.check(progrpo_torch_h.pt_zero_grad(handle()), () -> describe("zero_grad", this));
    }
}
