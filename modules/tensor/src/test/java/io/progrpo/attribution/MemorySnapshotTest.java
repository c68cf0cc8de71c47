package io.progrpo.attribution;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.ForkedJvm;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.Torch;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Live-tensor attribution (in a package of its own: the creation site is the first frame outside io.progrpo.tensor): with -Dprogrpo.tensor.track=true (a child JVM, since the flag is read once), the snapshot
 * groups live tensors by creation site, shape and dtype, largest first, a view's shared storage counted once; without
 * it, a clear exception.
 */
class MemorySnapshotTest {
    @Test
    void withoutTrackingTheSnapshotSaysHowToTurnItOn() {
        if (Boolean.getBoolean("progrpo.tensor.track")) return;
        var e = assertThrows(IllegalStateException.class, MemoryLedger::snapshot);
        assertTrue(e.getMessage().contains("-Dprogrpo.tensor.track=true"), e.getMessage());
    }

    @Test
    void liveTensorsAreGroupedBySiteShapeAndDtype() throws Exception {
        Torch.ensureAvailable();
        ForkedJvm.run(Child.class, 120).assertPassed("snapshot ok", "empty after close");
    }

    public static final class Child {
        static Tensor big() {
            return Tensor.zeros(256, 256);
        }

        static Tensor small() {
            return Tensor.zeros(DType.INT64, Device.CPU, 10);
        }

        static void check(boolean ok, String what) {
            if (!ok) throw new AssertionError(what);
        }

        public static void main(String[] args) {
            System.setProperty("progrpo.tensor.track", "true");
            Tensor a = big(), b = big(), c = big();
            Tensor view = a.reshape(65536);
            Tensor s = small();
            List<MemoryLedger.LiveGroup> g = MemoryLedger.snapshot();
            System.out.println(MemoryLedger.snapshotReport(10));
            MemoryLedger.LiveGroup first = g.get(0);
            check(first.site().contains("MemorySnapshotTest$Child.big:"), "largest group's site: " + first.site());
            check(Arrays.equals(first.shape(), new long[] {256, 256}) && first.dtype() == DType.FLOAT32, "largest group: " + first);
            check(first.count() == 3 && first.bytes() == 3L * 256 * 256 * 4, "three 256x256 floats: " + first);
            MemoryLedger.LiveGroup v = g.stream().filter(x -> Arrays.equals(x.shape(), new long[] {65536})).findFirst().orElseThrow();
            check(v.count() == 1 && v.bytes() == 0, "the view shares a's storage, counted with a: " + v);
            MemoryLedger.LiveGroup i = g.stream().filter(x -> x.dtype() == DType.INT64).findFirst().orElseThrow();
            check(i.site().contains("MemorySnapshotTest$Child.small:") && i.bytes() == 80 && i.count() == 1, "ten int64: " + i);
            for (int k = 1; k < g.size(); k++) check(g.get(k - 1).bytes() >= g.get(k).bytes(), "largest first: " + g);
            System.out.println("snapshot ok");
            for (Tensor t : List.of(view, a, b, c, s)) t.close();
            check(MemoryLedger.snapshot().isEmpty(), "after close: " + MemoryLedger.snapshot());
            System.out.println("empty after close");
        }
    }
}
