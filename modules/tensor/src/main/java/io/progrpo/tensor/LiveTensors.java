package io.progrpo.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live tensors with their dtype, shape, device, storage and creation site, kept only with
 * {@code -Dprogrpo.tensor.track=true} (one map entry and a stack walk per tensor: a debugging aid, not for timed runs);
 * {@link MemoryLedger#snapshot()} groups them.
 */
final class LiveTensors {
    static final boolean TRACK = Boolean.getBoolean("progrpo.tensor.track");
    private static final Map<Long, Entry> LIVE = new ConcurrentHashMap<>();
    private static final AtomicLong ORDER = new AtomicLong();
    private static final StackWalker WALKER = StackWalker.getInstance();

    record Entry(long order, DType dtype, Device device, long[] shape, long storageKey, long storageBytes, String site) {}

    private LiveTensors() {}

    static void created(long address, DType dtype, Device device, long[] shape, long storageKey, long storageBytes) {
        LIVE.put(address, new Entry(ORDER.incrementAndGet(), dtype, device, shape, storageKey, storageBytes, site()));
    }

    static void freed(long address) {
        LIVE.remove(address);
    }

    /** The first frame outside io.progrpo.tensor: the caller that made the tensor. */
    private static String site() {
        return WALKER.walk(s -> s.filter(f -> !f.getClassName().startsWith("io.progrpo.tensor.")).findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber()).orElse("(inside io.progrpo.tensor)"));
    }

    /** The live tensors grouped by site, shape, dtype and device, largest first; a shared storage counts once. */
    static List<MemoryLedger.LiveGroup> groups() {
        List<Entry> all = new ArrayList<>(LIVE.values());
        all.sort(Comparator.comparingLong(Entry::order));
        Set<Long> counted = new HashSet<>();
        Map<String, long[]> acc = new LinkedHashMap<>();
        Map<String, Entry> first = new LinkedHashMap<>();
        for (Entry e : all) {
            String key = e.site() + "|" + Arrays.toString(e.shape()) + "|" + e.dtype() + "|" + e.device();
            long[] a = acc.computeIfAbsent(key, k -> new long[2]);
            first.putIfAbsent(key, e);
            a[0]++;
            if (e.storageKey() == 0 || counted.add(e.storageKey())) a[1] += e.storageBytes();
        }
        List<MemoryLedger.LiveGroup> out = new ArrayList<>();
        acc.forEach((k, a) -> {
            Entry e = first.get(k);
            out.add(new MemoryLedger.LiveGroup(e.site(), e.shape().clone(), e.dtype(), e.device(), a[0], a[1]));
        });
        out.sort(Comparator.comparingLong(MemoryLedger.LiveGroup::bytes).reversed().thenComparing(MemoryLedger.LiveGroup::site));
        return out;
    }
}
