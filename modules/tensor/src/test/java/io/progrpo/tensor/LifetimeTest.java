package io.progrpo.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/** Scopes, explicit close, thread confinement, the Cleaner safety net and the memory ledger. */
class LifetimeTest extends TensorTestBase {

    private static <T> T onOtherThread(Callable<T> task) throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "other-thread"));
        try {
            return ex.submit(task).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception c) throw c;
            throw e;
        } finally {
            ex.shutdown();
        }
    }

    @Test
    void scopeFreesItsTensorsOnClose() {
        long before = MemoryLedger.liveTensors();
        Tensor kept;
        Scope s = Scope.open();
        Tensor a = Tensor.ones(3);
        Tensor b = a.add(1).mul(2);
        assertEquals(before + 3, MemoryLedger.liveTensors());
        assertEquals(3, s.size());
        assertSame(s, Scope.current());
        s.close();
        assertEquals(before, MemoryLedger.liveTensors());
        assertTrue(a.isClosed() && b.isClosed());
        assertTrue(s.isClosed());
        assertSame(scope, Scope.current(), "the enclosing scope is current again");
        s.close(); // idempotent
        kept = Tensor.zeros(1);
        assertSame(scope, kept.owner(), "after close, new tensors go to the enclosing scope");
    }

    @Test
    void keepMovesAResultToTheParentScope() {
        long before = MemoryLedger.liveTensors();
        Tensor survivor;
        try (Scope outer = Scope.open()) {
            try (Scope inner = Scope.open()) {
                Tensor tmp = Tensor.ones(2, 2);
                survivor = inner.keep(tmp.mul(3));
                assertEquals(1, inner.size());
                assertSame(outer, survivor.owner());
            }
            assertFalse(survivor.isClosed(), "kept tensor outlives the inner scope");
            assertEquals(before + 1, MemoryLedger.liveTensors());
            assertArrayEquals(new float[] {3, 3, 3, 3}, survivor.toFloatArray());
            assertEquals(1, outer.size());
        }
        assertTrue(survivor.isClosed(), "the outer scope frees it");
        assertEquals(before, MemoryLedger.liveTensors());
    }

    @Test
    void keepWithoutAParentHandsTheTensorToTheCaller() throws Exception {
        long before = MemoryLedger.liveTensors();
        float[] got = onOtherThread(() -> {
            Tensor mine;
            try (Scope s = Scope.open()) {
                mine = s.keep(Tensor.full(2, DType.FLOAT32, Device.CPU, 2));
            }
            assertFalse(mine.isClosed());
            float[] v = mine.toFloatArray();
            mine.close();
            return v;
        });
        assertArrayEquals(new float[] {2, 2}, got);
        assertEquals(before, MemoryLedger.liveTensors());
    }

    @Test
    void keepRejectsForeignTensorsAndClosedScopes() {
        Tensor outerTensor = Tensor.ones(1);
        Scope inner = Scope.open();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> inner.keep(outerTensor));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
        Tensor x = Tensor.ones(1);
        inner.close();
        IllegalStateException c = assertThrows(IllegalStateException.class, () -> inner.keep(x));
        assertTrue(c.getMessage().contains("closed"), c.getMessage());
    }

    @Test
    void closingAnOuterScopeClosesInnerScopesLeftOpen() {
        long before = MemoryLedger.liveTensors();
        Scope outer = Scope.open();
        Tensor a = Tensor.ones(1);
        Scope middle = Scope.open();
        Tensor b = Tensor.ones(1);
        Scope inner = Scope.open();
        Tensor c = Tensor.ones(1);
        assertSame(inner, Scope.current());
        outer.close();
        assertTrue(inner.isClosed() && middle.isClosed() && outer.isClosed());
        assertTrue(a.isClosed() && b.isClosed() && c.isClosed());
        assertSame(scope, Scope.current());
        assertEquals(before, MemoryLedger.liveTensors());
    }

    @Test
    void tensorsClosedEarlyAreSkippedByTheirScope() {
        long before = MemoryLedger.liveTensors();
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.ones(4);
            Tensor b = Tensor.ones(4);
            a.close();
            a.close(); // idempotent
            assertEquals(1, s.size());
            assertEquals(before + 1, MemoryLedger.liveTensors());
            assertFalse(b.isClosed());
        }
        assertEquals(before, MemoryLedger.liveTensors());
    }

    @Test
    void useAfterCloseThrowsInsteadOfCrashing() {
        Tensor t = Tensor.ones(2, 3);
        Tensor other = Tensor.ones(2, 3);
        t.close();
        List<Runnable> uses = List.of(() -> t.add(1), () -> other.add(t), t::toFloatArray, t::sum, t::shape, t::dataSegment,
                () -> t.matmul(other), () -> Functional.linear(t, other, null), () -> t.setRequiresGrad(true));
        for (Runnable u : uses) {
            IllegalStateException e = assertThrows(IllegalStateException.class, u::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertEquals("Tensor[closed float32 cpu]", t.toString());
        assertEquals(6.0, other.sum().item(), "the JVM and the other tensors are fine");
    }

    @Test
    void useFromAnotherThreadThrowsWrongThreadException() throws Exception {
        Tensor t = Tensor.ones(2);
        WrongThreadException e = assertThrows(WrongThreadException.class, () -> onOtherThread(() -> t.add(1)));
        assertTrue(e.getMessage().contains("other-thread") && e.getMessage().contains(Thread.currentThread().getName()), e.getMessage());
        assertThrows(WrongThreadException.class, () -> onOtherThread(() -> {
            t.close();
            return null;
        }));
        assertFalse(t.isClosed());
        Scope s = Scope.open();
        assertThrows(WrongThreadException.class, () -> onOtherThread(() -> {
            s.close();
            return null;
        }));
        s.close();
    }

    @Test
    void unconfineAndConfineHandATensorOff() throws Exception {
        Tensor t = Tensor.of(new float[] {1, 2, 3}, 3).unconfine();
        float[] seen = onOtherThread(() -> {
            try (Tensor r = t.mul(2)) { // no scope on that thread: the caller owns r
                return r.toFloatArray();
            }
        });
        assertArrayEquals(new float[] {2, 4, 6}, seen);

        AtomicReference<Thread> worker = new AtomicReference<>();
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "worker"));
        try {
            ex.submit(() -> {
                worker.set(Thread.currentThread());
                t.confine(); // the worker takes it
            }).get();
            WrongThreadException e = assertThrows(WrongThreadException.class, () -> t.add(1));
            assertTrue(e.getMessage().contains("worker"), e.getMessage());
            ex.submit(() -> {
                t.fill(5);
                t.unconfine(); // and hands it back
            }).get();
        } finally {
            ex.shutdown();
        }
        t.confine();
        assertArrayEquals(new float[] {5, 5, 5}, t.toFloatArray());
    }

    /** Creates tensors nobody closes, on a thread without a scope, and drops every reference. */
    private static void leakTensors(int n) throws Exception {
        onOtherThread(() -> {
            for (int i = 0; i < n; i++) Tensor.zeros(16);
            return null;
        });
    }

    @Test
    void theCleanerFreesUnreachableUnclosedTensors() throws Exception {
        long live = MemoryLedger.liveTensors();
        long leaks = MemoryLedger.leaks();
        int n = 20;
        leakTensors(n);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while ((MemoryLedger.leaks() < leaks + n || MemoryLedger.liveTensors() > live) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(MemoryLedger.leaks() > leaks, "the safety net counted leaks (before " + leaks + ", now " + MemoryLedger.leaks() + ")");
        assertEquals(leaks + n, MemoryLedger.leaks(), "every dropped tensor was freed by the safety net");
        assertEquals(live, MemoryLedger.liveTensors());
        assertTrue(MemoryLedger.report().contains("leaked tensors freed by the safety net"));
    }

    @Test
    void aThreadThatEndsInsideOpenScopesHasTheirTensorsFreed() throws Exception {
        long live = MemoryLedger.liveTensors();
        long bytes = MemoryLedger.bytes(Device.CPU);
        Thread t = new Thread(() -> {
            Scope.open();
            Scope.open(); // nested, neither closed
            for (int i = 0; i < 10; i++) Tensor.zeros(8);
        }, "ends-inside-a-scope");
        t.start();
        t.join();
        t = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (MemoryLedger.liveTensors() > live && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(live, MemoryLedger.liveTensors(), "the per-thread safety net freed the open scopes' tensors");
        assertEquals(bytes, MemoryLedger.bytes(Device.CPU));
    }

    @Test
    void closedTensorsAreNotCountedAsLeaks() throws Exception {
        long leaks = MemoryLedger.leaks();
        onOtherThread(() -> {
            for (int i = 0; i < 20; i++) Tensor.zeros(4).close();
            return null;
        });
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(leaks, MemoryLedger.leaks());
    }

    @Test
    void viewsCountTheirStorageOnce() {
        long bytes = MemoryLedger.bytes(Device.CPU);
        long live = MemoryLedger.liveTensors();
        Tensor x = Tensor.zeros(100);
        assertEquals(bytes + 400, MemoryLedger.bytes(Device.CPU));
        List<Tensor> views = new ArrayList<>(List.of(x.view(10, 10), x.narrow(0, 10, 20), x.select(0, 3), x.detach(), x.reshape(4, 25)));
        assertEquals(bytes + 400, MemoryLedger.bytes(Device.CPU), "views share the storage");
        assertEquals(live + 6, MemoryLedger.liveTensors());
        Tensor copy = x.clone_();
        assertEquals(bytes + 800, MemoryLedger.bytes(Device.CPU), "a clone has its own storage");
        assertTrue(MemoryLedger.peakBytes(Device.CPU) >= bytes + 800);
        x.close();
        assertEquals(bytes + 800, MemoryLedger.bytes(Device.CPU), "the storage lives while a view does");
        views.forEach(Tensor::close);
        assertEquals(bytes + 400, MemoryLedger.bytes(Device.CPU));
        copy.close();
        assertEquals(bytes, MemoryLedger.bytes(Device.CPU));
        assertEquals(live, MemoryLedger.liveTensors());
        boolean listed = MemoryLedger.usage().stream().anyMatch(u -> u.device().equals(Device.CPU));
        assertTrue(listed, MemoryLedger.report());
    }

    @Test
    void soakOfManyOpsReturnsToTheBaseline() {
        long live = MemoryLedger.liveTensors();
        long bytes = MemoryLedger.bytes(Device.CPU);
        long created = MemoryLedger.created();
        Tensor w = Tensor.full(0.01, DType.FLOAT32, Device.CPU, 8, 8);
        try (Scope soak = Scope.open()) {
            Tensor acc = Tensor.zeros(8, 8);
            for (int it = 0; it < 1000; it++) {
                try (Scope s = Scope.open()) {
                    Tensor y = acc;
                    for (int k = 0; k < 24; k++) y = y.matmul(w).add(1).tanh().mul(0.5); // 96 ops
                    Tensor m = y.mean(false, 1).unsqueeze(1); // 2
                    Tensor next = s.keep(y.sub(m).add(acc.mul(0.0))); // 3
                    acc.close(); // the soak scope's list is compacted as these accumulate
                    acc = next;
                }
            }
            assertTrue(Double.isFinite(acc.sum().item()));
            assertEquals(2, soak.size(), "only the accumulator and its sum are left");
        }
        w.close();
        assertTrue(MemoryLedger.created() - created >= 100_000, "ran " + (MemoryLedger.created() - created) + " ops");
        assertEquals(live, MemoryLedger.liveTensors());
        assertEquals(bytes, MemoryLedger.bytes(Device.CPU));
    }

    @Test
    void scopeOwnsTensorsFromEveryFactory() {
        long before = MemoryLedger.liveTensors();
        try (Scope s = Scope.open(); Generator g = Generator.create(5)) {
            Tensor.randn(g, 2);
            Tensor.rand(g, 2);
            Tensor.randint(g, 0, 3, Device.CPU, 2);
            Tensor.arange(0, 3, 1, DType.INT64, Device.CPU);
            Tensor.of(new int[] {1}, 1);
            Tensor.MaxResult m = Tensor.ones(2, 2).max(0, false);
            assertInstanceOf(Tensor.class, m.indices());
            assertEquals(8, s.size());
        }
        assertEquals(before, MemoryLedger.liveTensors());
    }
}
