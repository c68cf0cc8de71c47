package io.progrpo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;
import io.progrpo.tensor.jfr.TensorEvents;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Per-phase memory: each phase's ledger peak is its own (a later phase does not see an earlier one's), its RSS figure is
 * there. Tensors an earlier test class left to the garbage collector may be freed by the cleaner at any moment while
 * this runs, so the ledger's baseline can only fall: each figure is checked between "this test's tensors alone" and
 * "this test's tensors over the baseline read before" (CI once saw a 44-byte tensor freed between the two reads).
 */
class PhasesMemoryTest {
    @Test
    void eachPhaseHasItsOwnLedgerPeak() {
        Torch.ensureAvailable();
        List<String> announced = new ArrayList<>();
        List<String> left = new ArrayList<>();
        Phases p = new Phases(3, announced::add, left::add);
        long base = TensorEvents.ledgerBytes();
        long peakBefore = MemoryLedger.peakBytes(io.progrpo.tensor.Device.CPU);
        p.begin(Phases.SAMPLING);
        try (Tensor big = Tensor.zeros(512, 512)) {        // 1 MiB of float32
            assertBetween(512L * 512 * 4, base + 512L * 512 * 4, TensorEvents.ledgerBytes(), "live bytes with 1 MiB open");
        }
        p.begin(Phases.TRAINING);
        try (Tensor small = Tensor.zeros(64, 64)) {        // 16 KiB
            assertBetween(64L * 64 * 4, base + 64L * 64 * 4, TensorEvents.ledgerBytes(), "live bytes with 16 KiB open");
        }
        p.end();
        p.end(); // a second end does nothing
        Map<String, Map<String, Long>> m = p.memoryByPhase();
        assertEquals(List.of(Phases.SAMPLING, Phases.TRAINING), announced);
        assertEquals(List.of(Phases.SAMPLING, Phases.TRAINING), left, "each phase left once, the second end() a no-op");
        assertEquals(List.of(Phases.SAMPLING, Phases.TRAINING), List.copyOf(m.keySet()));
        assertTrue(base < 512L * 512 * 4 - 64L * 64 * 4, "the test needs a baseline under 1 MiB, found " + base);
        assertBetween(512L * 512 * 4, base + 512L * 512 * 4, m.get(Phases.SAMPLING).get("ledger_peak_bytes"), "the sampling phase's peak");
        assertBetween(64L * 64 * 4, base + 64L * 64 * 4, m.get(Phases.TRAINING).get("ledger_peak_bytes"),
                "the training phase's own peak, not the sampling phase's 1 MiB");
        for (Map<String, Long> x : m.values()) {
            long rss = x.containsKey("rss_peak_bytes") ? x.get("rss_peak_bytes") : x.get("rss_end_bytes");
            assertTrue(rss > 0, "an RSS figure per phase: " + x);
        }
        assertTrue(MemoryLedger.peakBytes(io.progrpo.tensor.Device.CPU) >= peakBefore, "the ledger's own peak is not reset by phases");
        assertEquals(null, TensorEvents.currentPhase(), "no phase left open");
    }

    private static void assertBetween(long lo, long hi, long actual, String what) {
        assertTrue(actual >= lo && actual <= hi, what + ": expected between " + lo + " and " + hi + " bytes, got " + actual);
    }
}
