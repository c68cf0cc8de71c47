package io.progrpo.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Tensor#dataSegment()} segment lives exactly as long as its tensor (family 1 of issue 15): it keeps an
 * unclosed caller-owned tensor from the leak safety net, and dies on every thread when the tensor is closed. On the old
 * code the safety net freed the memory under a live segment (reads of freed, unmapped memory: SIGSEGV), so the cases
 * run in a fresh JVM.
 */
class SegmentLifetimeTest {
    static final int UNREACHABLE_TENSORS = 8;
    static final int ELEMENTS = 1 << 20; // 4 MiB each: glibc maps and unmaps them, so a read after free faults
    static final int GC_ROUNDS = 10;
    static final int RACE_ROUNDS = 100;

    public static final class Child {
        public static void main(String[] args) throws Exception {
            switch (args[0]) {
                case "unreachable" -> unreachable();
                case "close" -> close();
                default -> throw new IllegalArgumentException(args[0]);
            }
        }

        static void check(boolean ok, String what) {
            if (!ok) throw new AssertionError(what);
        }

        static void gcRound() throws InterruptedException {
            System.gc();
            Thread.sleep(20);
        }

        /** Caller-owned tensors that nobody references any more, only their segments. */
        static void unreachable() throws Exception {
            long leaks = MemoryLedger.leaks();
            long live = MemoryLedger.liveTensors();
            List<MemorySegment> segments = new ArrayList<>();
            for (int i = 0; i < UNREACHABLE_TENSORS; i++) {
                segments.add(Tensor.full(i + 1, DType.FLOAT32, Device.CPU, ELEMENTS).dataSegment()); // no scope: caller-owned
            }
            for (int r = 0; r < GC_ROUNDS; r++) gcRound();
            check(MemoryLedger.leaks() == leaks, "the safety net freed " + (MemoryLedger.leaks() - leaks) + " tensors whose segments live");
            readAndWrite(segments);
            System.out.println("segments kept " + UNREACHABLE_TENSORS + " unreachable tensors alive through " + GC_ROUNDS + " collections");
            segments.clear(); // (a method's locals, not this frame's, held the segments while they were read)
            for (int r = 0; r < 1000 && MemoryLedger.leaks() < leaks + UNREACHABLE_TENSORS; r++) gcRound();
            check(MemoryLedger.leaks() == leaks + UNREACHABLE_TENSORS, "the safety net freed them once the segments were dropped: "
                    + (MemoryLedger.leaks() - leaks) + " of " + UNREACHABLE_TENSORS);
            check(MemoryLedger.liveTensors() == live, "live tensors back to " + live + ", got " + MemoryLedger.liveTensors());
            System.out.println("the safety net freed them after the segments were dropped");
        }

        static void readAndWrite(List<MemorySegment> segments) {
            for (int i = 0; i < segments.size(); i++) {
                MemorySegment s = segments.get(i);
                for (long k = 0; k < ELEMENTS; k += 997) {
                    check(s.getAtIndex(ValueLayout.JAVA_FLOAT, k) == i + 1, "segment " + i + " element " + k);
                }
                s.setAtIndex(ValueLayout.JAVA_FLOAT, ELEMENTS - 1, -1); // still writable, into live memory
            }
        }

        static void assertDead(MemorySegment s, String what) {
            try {
                s.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
            } catch (IllegalStateException expected) {
                return;
            }
            throw new AssertionError(what + ": the segment is still readable after its tensor was freed");
        }

        /** close(), a scope, a hand-off to another thread, and a close racing reads on another thread. */
        static void close() throws Exception {
            long live = MemoryLedger.liveTensors();
            Tensor a = Tensor.ones(16);
            MemorySegment sa = a.dataSegment();
            a.close();
            assertDead(sa, "close()");
            MemorySegment sb;
            try (Scope s = Scope.open()) {
                sb = Tensor.ones(16).dataSegment();
            }
            assertDead(sb, "a scope's close");
            Tensor c = Tensor.ones(16);
            MemorySegment sc = c.dataSegment(); // taken while confined to this thread
            c.unconfine();
            Thread t = new Thread(c::close, "closer");
            t.start();
            t.join();
            check(c.isClosed(), "the receiving thread closed the handed-off tensor");
            assertDead(sc, "a close on the receiving thread");
            System.out.println("close, scope and hand-off invalidate the segment");

            for (int r = 0; r < RACE_ROUNDS; r++) {
                Tensor x = Tensor.full(7, DType.FLOAT32, Device.CPU, 1 << 16);
                MemorySegment seg = x.dataSegment();
                CountDownLatch reading = new CountDownLatch(1);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread reader = new Thread(() -> {
                    try {
                        for (long i = 0; ; i = (i + 4099) % (1 << 16)) {
                            float v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                            if (v != 7) throw new AssertionError("read " + v + " at " + i);
                            reading.countDown();
                        }
                    } catch (IllegalStateException expected) {
                        // the tensor was closed: the segment refuses, it never reads freed memory
                    } catch (Throwable e) {
                        failure.set(e);
                    } finally {
                        reading.countDown();
                    }
                }, "reader");
                reader.start();
                reading.await();
                x.close();
                reader.join();
                if (failure.get() != null) throw new AssertionError("round " + r, failure.get());
            }
            try (Tensor d = Tensor.ones(4)) {
                check(d.dataSegment() == d.dataSegment(), "repeated calls return the one segment (no growing arena)");
            }
            check(MemoryLedger.liveTensors() == live, "live tensors back to " + live + ", got " + MemoryLedger.liveTensors());
            System.out.println("close during reads on another thread: " + RACE_ROUNDS + " rounds");
        }
    }

    @Test
    void aSegmentKeepsItsUnclosedTensorFromTheSafetyNet() throws Exception {
        Torch.ensureAvailable();
        ForkedJvm.run(Child.class, 120, "unreachable").assertPassed("kept " + UNREACHABLE_TENSORS, "freed them after");
    }

    @Test
    void closingTheTensorKillsItsSegmentOnEveryThread() throws Exception {
        Torch.ensureAvailable();
        ForkedJvm.run(Child.class, 120, "close").assertPassed("hand-off invalidate", RACE_ROUNDS + " rounds");
    }
}
