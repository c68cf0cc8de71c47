package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What native memory the Java side holds, per device: live tensors, the bytes of the distinct storages they reference
 * (views of one storage count once), and the peak of those bytes; plus libtorch's CUDA caching-allocator statistics
 * (allocated and reserved, current and peak) and {@link #emptyCache()}. Leaks caught by the safety net are counted.
 *
 * <p>Storages that libtorch holds without a Java handle (autograd's saved tensors, optimizer state) are not in the
 * Java-side numbers; on CUDA the allocator statistics include them.
 */
public final class MemoryLedger {
    private static final Object LOCK = new Object();
    private static final StorageTable STORAGES = new StorageTable();
    private static final Map<Device, DeviceCounters> DEVICES = new TreeMap<>(
            (a, b) -> a.type() != b.type() ? a.type().compareTo(b.type()) : Integer.compare(a.index(), b.index()));
    private static final AtomicLong LEAKS = new AtomicLong();
    private static long CREATED_PLAIN; // guarded by LOCK

    /**
     * storage key -> (references from live Java tensors, bytes): open addressing over primitive arrays, so recording a
     * tensor allocates nothing (this is on the path of every op). Guarded by LOCK.
     */
    private static final class StorageTable {
        private long[] keys = new long[1024];
        private long[] refs = new long[1024];
        private long[] bytes = new long[1024];
        private int size;

        private int slot(long key) {
            int mask = keys.length - 1;
            int i = (int) (mix(key) & mask);
            while (keys[i] != 0 && keys[i] != key) i = (i + 1) & mask;
            return i;
        }

        private static long mix(long k) {
            k ^= k >>> 33;
            k *= 0xff51afd7ed558ccdL;
            return k ^ (k >>> 33);
        }

        /** Adds a reference; returns true when the storage is new. */
        boolean add(long key, long nbytes) {
            int i = slot(key);
            if (keys[i] == key) {
                refs[i]++;
                return false;
            }
            keys[i] = key;
            refs[i] = 1;
            bytes[i] = nbytes;
            if (++size * 2 > keys.length) grow();
            return true;
        }

        /** Drops a reference; returns the storage's bytes when it was the last one, else -1. */
        long remove(long key) {
            int i = slot(key);
            if (keys[i] != key) return -1;
            if (--refs[i] > 0) return -1;
            long b = bytes[i];
            deleteAt(i);
            return b;
        }

        private void deleteAt(int i) {
            int mask = keys.length - 1;
            keys[i] = 0;
            size--;
            // backward-shift deletion keeps probe chains intact without tombstones
            int j = i;
            while (true) {
                j = (j + 1) & mask;
                if (keys[j] == 0) return;
                int home = (int) (mix(keys[j]) & mask);
                boolean between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
                if (!between) {
                    keys[i] = keys[j];
                    refs[i] = refs[j];
                    bytes[i] = bytes[j];
                    keys[j] = 0;
                    i = j;
                }
            }
        }

        private void grow() {
            long[] ok = keys;
            long[] or = refs;
            long[] ob = bytes;
            keys = new long[ok.length * 2];
            refs = new long[ok.length * 2];
            bytes = new long[ok.length * 2];
            for (int i = 0; i < ok.length; i++) {
                if (ok[i] != 0) {
                    int j = slot(ok[i]);
                    keys[j] = ok[i];
                    refs[j] = or[i];
                    bytes[j] = ob[i];
                }
            }
        }
    }

    private static final class DeviceCounters {
        long liveTensors;
        long bytes;
        long peakBytes;
        long windowPeakBytes; // the peak since resetWindowPeaks(), independent of peakBytes
    }

    /** One device's Java-side numbers. */
    public record DeviceUsage(Device device, long liveTensors, long bytes, long peakBytes) {}

    /** libtorch's CUDA caching-allocator statistics for one device (all zero without CUDA). */
    public record CudaStats(long allocated, long allocatedPeak, long reserved, long reservedPeak) {}

    private MemoryLedger() {}

    private static final DeviceCounters CPU = new DeviceCounters();

    static {
        DEVICES.put(Device.CPU, CPU);
    }

    private static DeviceCounters counters(Device device) {
        return device == Device.CPU || device.equals(Device.CPU) ? CPU : DEVICES.computeIfAbsent(device, d -> new DeviceCounters());
    }

    /** A new Java tensor at {@code address}: the ledger, the live-tensor attribution and the allocation event. */
    static void adopted(Tensor t, long address, DType dt, Device dev, long key, long bytes) {
        if (LiveTensors.TRACK) LiveTensors.created(address, dt, dev, t.shape(), key, bytes);
        if (onCreate(dev, key, bytes)) {
            io.progrpo.tensor.jfr.TensorEvents.allocated(bytes, dev, dt.name(), () -> java.util.Arrays.toString(t.shape()));
        }
    }

    /** A Java tensor freed (by close, or by the safety net when {@code leak}); the bytes that left the ledger, else -1. */
    static long released(long address, Device device, long key, boolean leak) {
        if (LiveTensors.TRACK) LiveTensors.freed(address);
        long freed = onFree(device, key);
        if (freed > 0) io.progrpo.tensor.jfr.TensorEvents.freed(freed, device, leak);
        return freed;
    }

    /** Records a new tensor; true when its storage is new to the ledger (its bytes were added). */
    static boolean onCreate(Device device, long storageKey, long storageBytes) {
        synchronized (LOCK) {
            CREATED_PLAIN++;
            DeviceCounters c = counters(device);
            c.liveTensors++;
            if (storageKey != 0 && STORAGES.add(storageKey, storageBytes)) {
                c.bytes += storageBytes;
                if (c.bytes > c.peakBytes) c.peakBytes = c.bytes;
                if (c.bytes > c.windowPeakBytes) c.windowPeakBytes = c.bytes;
                return true;
            }
            return false;
        }
    }

    /** Records a freed tensor; the bytes that left the ledger (its storage's last reference), else -1. */
    static long onFree(Device device, long storageKey) {
        synchronized (LOCK) {
            DeviceCounters c = counters(device);
            c.liveTensors--;
            if (storageKey == 0) return -1;
            long b = STORAGES.remove(storageKey);
            if (b >= 0) c.bytes -= b;
            return b;
        }
    }

    static void onLeak() {
        LEAKS.incrementAndGet();
    }

    /** Live tensors on all devices. */
    public static long liveTensors() {
        synchronized (LOCK) {
            long n = 0;
            for (DeviceCounters c : DEVICES.values()) n += c.liveTensors;
            return n;
        }
    }

    /** Bytes of distinct storages referenced by live tensors on {@code device}. */
    public static long bytes(Device device) {
        synchronized (LOCK) {
            DeviceCounters c = DEVICES.get(device);
            return c == null ? 0 : c.bytes;
        }
    }

    public static long peakBytes(Device device) {
        synchronized (LOCK) {
            DeviceCounters c = DEVICES.get(device);
            return c == null ? 0 : c.peakBytes;
        }
    }

    /**
     * Starts a new peak window (per phase, say): every device's window peak becomes its current bytes. The window peak
     * is kept apart from {@link #peakBytes}, so a caller's windows do not move the peaks others read.
     */
    public static void resetWindowPeaks() {
        synchronized (LOCK) {
            for (DeviceCounters c : DEVICES.values()) c.windowPeakBytes = c.bytes;
        }
    }

    /** The sum over devices of each device's peak Java-side bytes since {@link #resetWindowPeaks()}. */
    public static long windowPeakBytes() {
        synchronized (LOCK) {
            long b = 0;
            for (DeviceCounters c : DEVICES.values()) b += c.windowPeakBytes;
            return b;
        }
    }

    /** Resets the Java-side peak of every device to its current bytes, and the CUDA allocator's peaks. */
    public static void resetPeaks() {
        synchronized (LOCK) {
            for (DeviceCounters c : DEVICES.values()) c.peakBytes = c.bytes;
        }
        if (Torch.cudaAvailable()) {
            for (int i = 0; i < Torch.cudaDeviceCount(); i++) Native.check(progrpo_torch_h.pt_cuda_reset_peak(i), "cuda_reset_peak");
        }
    }

    /** Resets the CUDA caching allocator's peak statistics of every device (nothing without CUDA). */
    public static void resetCudaPeaks() {
        if (Torch.cudaAvailable()) {
            for (int i = 0; i < Torch.cudaDeviceCount(); i++) Native.check(progrpo_torch_h.pt_cuda_reset_peak(i), "cuda_reset_peak");
        }
    }

    /** Tensors the safety net freed because they became unreachable without being closed. */
    public static long leaks() {
        return LEAKS.get();
    }

    /** Tensors created since start (a monotone counter, useful to count ops in tests and benchmarks). */
    public static long created() {
        synchronized (LOCK) {
            return CREATED_PLAIN;
        }
    }

    public static List<DeviceUsage> usage() {
        synchronized (LOCK) {
            List<DeviceUsage> out = new ArrayList<>();
            DEVICES.forEach((d, c) -> out.add(new DeviceUsage(d, c.liveTensors, c.bytes, c.peakBytes)));
            return out;
        }
    }

    /** The CUDA caching allocator's statistics of one device; zeros when the shim has no CUDA or no GPU is present. */
    public static CudaStats cudaStats(int deviceIndex) {
        Native.ensureLoaded();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG, 4);
            Native.check(progrpo_torch_h.pt_cuda_memory_stats(deviceIndex, out), "cuda_memory_stats(" + deviceIndex + ")");
            return new CudaStats(out.getAtIndex(ValueLayout.JAVA_LONG, 0), out.getAtIndex(ValueLayout.JAVA_LONG, 1),
                    out.getAtIndex(ValueLayout.JAVA_LONG, 2), out.getAtIndex(ValueLayout.JAVA_LONG, 3));
        }
    }

    /** Returns cached, unused CUDA blocks to the driver (a no-op without CUDA). */
    public static void emptyCache() {
        Native.ensureLoaded();
        Native.check(progrpo_torch_h.pt_cuda_empty_cache(), "cuda_empty_cache");
    }

    /**
     * Live tensors of one creation site, shape, dtype and device.
     *
     * @param site  the first stack frame outside io.progrpo.tensor that made them ({@code Class.method:line})
     * @param count live tensors in the group
     * @param bytes their storages' bytes, a storage shared with an earlier tensor counted there only
     */
    public record LiveGroup(String site, long[] shape, DType dtype, Device device, long count, long bytes) {}

    /**
     * The live tensors grouped by creation site, shape, dtype and device, largest first. Needs
     * {@code -Dprogrpo.tensor.track=true} (which records every tensor's site: a debugging aid).
     *
     * @throws IllegalStateException without that property, saying how to turn it on
     */
    public static List<LiveGroup> snapshot() {
        if (!LiveTensors.TRACK) {
            throw new IllegalStateException("live-tensor attribution is off: start the JVM with -Dprogrpo.tensor.track=true "
                    + "(it records each tensor's creation site; the ledger's totals need nothing: report(), usage())");
        }
        return LiveTensors.groups();
    }

    /** {@link #snapshot()} as a table: the {@code top} largest groups. */
    public static String snapshotReport(int top) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "  %12s %6s  %-8s %-7s %-18s %s%n", "bytes", "count", "dtype", "device", "shape", "site"));
        List<LiveGroup> g = snapshot();
        for (LiveGroup x : g.subList(0, Math.min(top, g.size()))) {
            s.append(String.format(Locale.ROOT, "  %12s %6d  %-8s %-7s %-18s %s%n", human(x.bytes()), x.count(), x.dtype(), x.device(),
                    java.util.Arrays.toString(x.shape()), x.site()));
        }
        return s.toString();
    }

    /** A printable table of every device's numbers, the CUDA statistics where present, and the leak count. */
    public static String report() {
        StringBuilder s = new StringBuilder("memory ledger\n");
        s.append(String.format(Locale.ROOT, "  %-8s %12s %14s %14s%n", "device", "live tensors", "bytes", "peak bytes"));
        for (DeviceUsage u : usage()) {
            s.append(String.format(Locale.ROOT, "  %-8s %12d %14s %14s%n", u.device(), u.liveTensors(),
                    human(u.bytes()), human(u.peakBytes())));
        }
        if (Torch.isAvailable() && Torch.cudaAvailable()) {
            for (int i = 0; i < Torch.cudaDeviceCount(); i++) {
                CudaStats c = cudaStats(i);
                s.append(String.format(Locale.ROOT, "  cuda:%d allocator: allocated %s (peak %s), reserved %s (peak %s)%n",
                        i, human(c.allocated()), human(c.allocatedPeak()), human(c.reserved()), human(c.reservedPeak())));
            }
        }
        s.append("  leaked tensors freed by the safety net: ").append(leaks()).append('\n');
        return s.toString();
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024L * 1024) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        if (bytes < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
