package io.progrpo.trainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The listeners every {@link TrainingRun} puts before the user's: the prune bytes of an epoch and the metrics log. */
final class RunListeners {
    private RunListeners() {}

    /**
     * The bytes of the Java-side tensors each prune checkpoint of an epoch released, summed per checkpoint step over
     * the epoch's sampling batches: the {@code memory.prunes} of its metrics row.
     */
    static final class PruneBytes implements RunListener {
        private final Map<Integer, long[]> byStep = new java.util.TreeMap<>();

        @Override
        public void checkpointPruned(io.progrpo.pruning.ExpandAndPruneDriver.CheckpointStats stats, long bytesReleased) {
            long[] a = byStep.computeIfAbsent(stats.step(), k -> new long[2]);
            a[0] += bytesReleased;
            a[1]++;
        }

        void clear() {
            byStep.clear();
        }

        boolean isEmpty() {
            return byStep.isEmpty();
        }

        List<Map<String, Object>> rows() {
            List<Map<String, Object>> out = new ArrayList<>();
            byStep.forEach((step, a) -> {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("step", step);
                r.put("bytes_released", a[0]);
                r.put("batches", a[1]);
                out.add(r);
            });
            return out;
        }
    }

    /** The listener that appends each metrics row to {@code metrics} (null on a replica: a listener that writes nothing). */
    static RunListener metricsWriter(MetricsLog metrics) {
        return metrics == null ? RunListener.NONE : new RunListener() {
            @Override
            public void epochDone(int epoch, Map<String, Object> row) {
                try {
                    metrics.record(row);
                } catch (java.io.UncheckedIOException e) {
                    throw new MetricsWriteFailed(e);
                }
            }
        };
    }

    /** The metrics log's append failed (a full disk): told apart from an exception of another listener. */
    static final class MetricsWriteFailed extends java.io.UncheckedIOException {
        private static final long serialVersionUID = 1L;

        MetricsWriteFailed(java.io.UncheckedIOException e) {
            super(e.getMessage(), e.getCause());
        }
    }
}
