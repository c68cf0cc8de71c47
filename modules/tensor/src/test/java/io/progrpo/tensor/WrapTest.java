package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@link Tensor#wrap} views only memory that Java never frees behind libtorch (family 2 of issue 15): on the old code a
 * tensor wrapping a confined arena's segment read freed memory (SIGSEGV) on its first op after the arena closed.
 */
class WrapTest extends TensorTestBase {

    @Test
    void wrapRefusesSegmentsOfArenasThatFreeTheirMemory() {
        List<Supplier<Arena>> arenas = List.of(Arena::ofConfined, Arena::ofShared, Arena::ofAuto);
        for (Supplier<Arena> make : arenas) {
            Arena a = make.get();
            MemorySegment seg = a.allocateFrom(ValueLayout.JAVA_FLOAT, 1, 2, 3, 4);
            long live = MemoryLedger.liveTensors();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(seg, DType.FLOAT32, 4),
                    "a segment of " + seg.scope());
            assertTrue(e.getMessage().contains("global scope") && e.getMessage().contains("Tensor.copyOf"), e.getMessage());
            assertEquals(live, MemoryLedger.liveTensors(), "no tensor was made");
            try (Tensor copy = Tensor.copyOf(seg, DType.FLOAT32, 4)) {
                assertArrayEquals(new float[] {1, 2, 3, 4}, copy.toFloatArray(), "the copy the message points to works");
            }
            try {
                a.close();
            } catch (UnsupportedOperationException automaticArena) {
                // collected, not closed
            }
        }
    }

    @Test
    void viewsOfAWrappedGlobalSegmentOutliveTheWrapper() {
        MemorySegment seg = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1, 2, 3, 4, 5, 6); // never freed
        Tensor w = Tensor.wrap(seg, DType.FLOAT32, 2, 3);
        Tensor row = w.select(0, 1);
        w.close();
        assertArrayEquals(new float[] {4, 5, 6}, row.toFloatArray());
        row.mulInPlace(10);
        assertEquals(40f, seg.getAtIndex(ValueLayout.JAVA_FLOAT, 3), "still the caller's memory");
    }

    @Test
    void foreignMemoryTheCallerVouchesForIsViewedWithoutACopy() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mine = a.allocateFrom(ValueLayout.JAVA_FLOAT, 1, 2, 3, 4);
            // the restricted reinterpret is the caller's promise to keep the memory valid while libtorch uses it
            MemorySegment vouched = MemorySegment.ofAddress(mine.address()).reinterpret(mine.byteSize());
            try (Tensor w = Tensor.wrap(vouched, DType.FLOAT32, 4)) {
                w.mulInPlace(2);
                assertEquals(8f, mine.getAtIndex(ValueLayout.JAVA_FLOAT, 3), "zero-copy");
            }
        }
    }
}
