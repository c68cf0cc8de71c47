package io.progrpo.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jfr.TensorEvents;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The driver's listener hears every step with the rows that took it and every prune with the bytes it released. */
class DriverListenerTest {
    @Test
    void stepsAndPrunesAreTold() {
        PruneSchedule s = new PruneSchedule(8, new int[] {2, 3}, new int[] {4, 2}, 4, "ovf");
        List<int[]> steps = new ArrayList<>();
        List<long[]> prunes = new ArrayList<>();
        DriverListener l = new DriverListener() {
            @Override
            public void stepTaken(int step, int total, int rows) {
                steps.add(new int[] {step, total, rows});
            }

            @Override
            public void checkpointPruned(ExpandAndPruneDriver.CheckpointStats st, long bytes) {
                prunes.add(new long[] {st.step(), st.sizeBefore(), st.sizeAfter(), bytes, TensorEvents.ledgerBytes()});
            }
        };
        ExpandAndPruneDriver d = new ExpandAndPruneDriver(s, x -> x.clamp(-1e9, 1e9), new SplittableRandom(1)).withListener(l);
        long live = MemoryLedger.liveTensors();
        try (Tensor nz = Tensor.randn(io.progrpo.tensor.Generator.create(3), 2 * 8, 3, 2, 2);
             ExpandAndPruneDriver.Result r = d.run(new ExpandAndPruneDriverTest.ShiftSampler(4), (x, t, c) -> Tensor.zeros(x.shape()),
                     List.of("a", "b"), nz, null, ExpandAndPruneDriverTest.MEAN_PIXEL, ExpandAndPruneDriverTest.MEAN_PIXEL, null)) {
            assertEquals(4, r.originalRow().length);
        }
        // 2 groups: 16 rows take steps 1 and 2, 8 take step 3, 4 take step 4
        assertEquals(List.of("1/4:16", "2/4:16", "3/4:8", "4/4:4"), steps.stream().map(x -> x[0] + "/" + x[1] + ":" + x[2]).toList());
        assertEquals(2, prunes.size());
        assertEquals(List.of(2L, 8L, 4L), List.of(prunes.get(0)[0], prunes.get(0)[1], prunes.get(0)[2]));
        assertEquals(List.of(3L, 4L, 2L), List.of(prunes.get(1)[0], prunes.get(1)[1], prunes.get(1)[2]));
        // the ledger's drop during the prune: the pruned rows' stored steps whose storage no step output still holds
        // (the last step's outputs are freed by the sampling loop after the checkpoint); FlightRecordingTest checks the
        // figure against the storage events one by one
        assertTrue(prunes.get(0)[3] > 0 && prunes.get(1)[3] > 0, "both prunes release memory: " + prunes.get(0)[3] + ", " + prunes.get(1)[3]);
        assertEquals(live, MemoryLedger.liveTensors(), "nothing left behind");

        DriverListener throwing = new DriverListener() {
            @Override
            public void stepTaken(int step, int total, int rows) {
                if (step == 2) throw new IllegalStateException("listener says no");
            }
        };
        ExpandAndPruneDriver bad = d.withListener(throwing);
        try (Tensor nz = Tensor.zeros(16, 3, 2, 2)) {
            var e = assertThrows(IllegalStateException.class, () -> bad.run(new ExpandAndPruneDriverTest.ShiftSampler(4),
                    (x, t, c) -> Tensor.zeros(x.shape()), List.of("a", "b"), nz, null, ExpandAndPruneDriverTest.MEAN_PIXEL,
                    ExpandAndPruneDriverTest.MEAN_PIXEL, null));
            assertEquals("listener says no", e.getMessage());
        }
        assertEquals(live, MemoryLedger.liveTensors(), "a throwing listener leaks nothing");
    }
}
